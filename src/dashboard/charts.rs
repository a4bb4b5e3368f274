//! Charts, readable without JavaScript and at any width: every word and number is HTML text
//! (at least 12 px on a phone as on a desktop); only the shapes are SVG, which scales.

use std::fmt::Write;

use time::Date;

/// The ask → introduction → meeting → won funnel: a bar per step, with its count and its
/// share of the asks.
pub fn funnel(steps: &[(&str, i64)]) -> String {
    let max = steps.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let first = steps.first().map_or(0, |(_, v)| *v);
    let mut html = String::from("<ol class=\"chart funnel\">");
    for (i, (label, value)) in steps.iter().enumerate() {
        let share = if i > 0 && first > 0 {
            format!(
                " <span class=\"muted\">· {:.0}% of asks</span>",
                *value as f64 * 100.0 / first as f64
            )
        } else {
            String::new()
        };
        let _ = write!(
            html,
            "<li><span class=\"funnel-label\">{label}</span>\
             <progress class=\"step{i}\" max=\"{max}\" value=\"{value}\" aria-hidden=\"true\"></progress>\
             <span class=\"funnel-value\">{value}{share}</span></li>"
        );
    }
    html.push_str("</ol>");
    html
}

/// Asks (bars) and introductions (line) per week, oldest first. With `partial_last`, the last
/// week is still under way: its bar is drawn open and labelled so, not as a collapse.
pub fn trend(weeks: &[(Date, i64, i64)], partial_last: bool) -> String {
    let max = weeks
        .iter()
        .map(|(_, a, i)| (*a).max(*i))
        .max()
        .unwrap_or(0)
        .max(1);
    let (width, height) = (600.0, 170.0);
    let slot = width / weeks.len().max(1) as f64;
    let y = |v: i64| height - v as f64 / max as f64 * (height - 6.0);
    let mut html = format!(
        "<div class=\"chart trend\"><p class=\"trend-max small muted\">tallest week: {max}</p>\
         <svg viewBox=\"0 0 {width} {height}\" preserveAspectRatio=\"none\" aria-hidden=\"true\" \
         xmlns=\"http://www.w3.org/2000/svg\"><line x1=\"0\" y1=\"{height}\" x2=\"{width}\" y2=\"{height}\" class=\"axis\"></line>"
    );
    let last = weeks.len().saturating_sub(1);
    let mut points = Vec::new();
    for (i, (week, asks, intros)) in weeks.iter().enumerate() {
        let x = i as f64 * slot;
        let bar_top = y(*asks);
        let partial = partial_last && i == last;
        let _ = write!(
            html,
            "<rect x=\"{bx:.1}\" y=\"{bar_top:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" rx=\"3\" class=\"bar asks{p}\"><title>Week of {week}{so_far}: {asks} asks, {intros} introductions</title></rect>",
            bx = x + slot * 0.15,
            bw = slot * 0.7,
            bh = height - bar_top,
            p = if partial { " partial" } else { "" },
            so_far = if partial { " (so far)" } else { "" },
        );
        points.push((x + slot / 2.0, y(*intros)));
    }
    // The week under way has no line to it: its introductions are not in yet.
    if partial_last {
        points.truncate(last);
    }
    let line: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let _ = write!(
        html,
        "<polyline points=\"{}\" class=\"line intros\" vector-effect=\"non-scaling-stroke\"></polyline></svg><ol class=\"trend-axis\">",
        line.join(" ")
    );
    for (i, (week, _, _)) in weeks.iter().enumerate() {
        let label = if partial_last && i == last {
            "now".to_string()
        } else if (last - i).is_multiple_of(2) {
            format!("{:02}-{:02}", u8::from(week.month()), week.day())
        } else {
            String::new()
        };
        let _ = write!(html, "<li>{label}</li>");
    }
    html.push_str("</ol></div>");
    html
}
