//! Charts drawn on the server as SVG: readable without JavaScript, each with a text
//! equivalent for screen readers beside it.

use std::fmt::Write;

use time::Date;

/// The ask → introduction → meeting → won funnel as horizontal bars.
pub fn funnel(steps: &[(&str, i64)]) -> String {
    let max = steps.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let height = steps.len() * 44 + 8;
    let mut svg = format!(
        "<svg class=\"chart funnel\" viewBox=\"0 0 640 {height}\" role=\"img\" aria-labelledby=\"funnel-title\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"funnel-title\">Referral funnel</title>"
    );
    for (i, (label, value)) in steps.iter().enumerate() {
        let y = i * 44 + 4;
        let width = (*value as f64 / max as f64 * 400.0).max(2.0);
        let share = match (i, steps.first()) {
            (0, _) | (_, None) => String::new(),
            (_, Some((_, first))) if *first > 0 => {
                format!(" · {:.0}%", *value as f64 * 100.0 / *first as f64)
            }
            _ => String::new(),
        };
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{ty}\" class=\"label\">{label}</text>\
             <rect x=\"130\" y=\"{y}\" width=\"{width:.1}\" height=\"34\" rx=\"6\" class=\"bar step{i}\"></rect>\
             <text x=\"{vx:.1}\" y=\"{ty}\" class=\"value\">{value}{share}</text>",
            ty = y + 22,
            vx = 130.0 + width + 8.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Asks (bars) and introductions (line) per week.
pub fn trend(weeks: &[(Date, i64, i64)]) -> String {
    let max = weeks
        .iter()
        .map(|(_, a, i)| (*a).max(*i))
        .max()
        .unwrap_or(0)
        .max(1);
    let (left, top, width, height) = (36.0, 10.0, 590.0, 170.0);
    let slot = width / weeks.len().max(1) as f64;
    let y = |v: i64| top + height - v as f64 / max as f64 * height;
    let mut svg = String::from(
        "<svg class=\"chart trend\" viewBox=\"0 0 640 220\" role=\"img\" aria-labelledby=\"trend-title\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"trend-title\">Asks and introductions per week</title>",
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" class=\"axis\"></line>\
         <text x=\"0\" y=\"{t}\" class=\"tick\">{max}</text><text x=\"0\" y=\"{b}\" class=\"tick\">0</text>",
        b = top + height,
        r = left + width,
        t = top + 10.0,
    );
    let mut points = Vec::new();
    for (i, (week, asks, intros)) in weeks.iter().enumerate() {
        let x = left + i as f64 * slot;
        let bar_top = y(*asks);
        let _ = write!(
            svg,
            "<rect x=\"{bx:.1}\" y=\"{bar_top:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" rx=\"3\" class=\"bar asks\"><title>Week of {week}: {asks} asks, {intros} introductions</title></rect>",
            bx = x + slot * 0.15,
            bw = slot * 0.7,
            bh = top + height - bar_top,
        );
        points.push(format!("{:.1},{:.1}", x + slot / 2.0, y(*intros)));
        if i % 2 == 0 {
            let _ = write!(
                svg,
                "<text x=\"{tx:.1}\" y=\"205\" class=\"tick\" text-anchor=\"middle\">{m:02}-{d:02}</text>",
                tx = x + slot / 2.0,
                m = u8::from(week.month()),
                d = week.day(),
            );
        }
    }
    let _ = write!(
        svg,
        "<polyline points=\"{}\" class=\"line intros\"></polyline>",
        points.join(" ")
    );
    for p in &points {
        let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
        let _ = write!(
            svg,
            "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"3.5\" class=\"dot intros\"></circle>"
        );
    }
    svg.push_str("</svg>");
    svg
}
