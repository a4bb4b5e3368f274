//! Walks everything a user can reach, the way the product is used for months: the demo
//! organisation, aged by the sweeper at now + 1, 3, 10, 40 and 100 days; at each age, as the
//! admin, a manager and a rep, every page reachable from the navigation and the links on those
//! pages (the first few of each kind), and every form on them, submitted as the page offers it
//! and then with hostile values in every field. No answer may be a server error, no ERROR may
//! be logged, and every refused submission must answer 4xx with a page that says what was
//! wrong.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use scraper::{ElementRef, Html, Selector};
use time::{Duration, OffsetDateTime};
use tracing_subscriber::layer::{Context, SubscriberExt};

use crate::common::TestApp;
use crate::common::http::TestResponse;

/// How far the sweeper ages the demo before each pass.
const AGES_IN_DAYS: [i64; 5] = [1, 3, 10, 40, 100];
/// Links of one shape (path with ids replaced, query keys) followed per pass.
const LINKS_PER_SHAPE: usize = 5;
/// Pages visited per pass at most.
const MAX_PAGES: usize = 150;

/// Values typed into every text, date, number and password field.
fn hostile_values() -> Vec<String> {
    vec![
        String::new(),
        "x".repeat(10_000),
        "nul\0byte".into(),
        "bell\x07escape\x1b[31m".into(),
        "\u{202E}gnp.exe عربى שלום".into(),
        "🤝💼👩🏽‍💼 emoji".into(),
        "<script>alert(1)</script>".into(),
        "0001-01-01".into(),
        "9999-12-31".into(),
        "-1".into(),
        "99999999999999999999999".into(),
    ]
}

/// Values put into hidden fields and selects, which a tampering client controls as well.
const TAMPERED: [&str; 3] = ["", "-1", "99999999999999999999"];

/// The raw script tag a page must never echo unescaped.
const SCRIPT: &str = "<script>alert(1)</script>";

/// What the walk counted and what went wrong.
#[derive(Debug, Default)]
struct Tally {
    pages: usize,
    forms: usize,
    submissions: usize,
    hostile: usize,
    problems: Vec<String>,
    /// Every form shape submitted, for `WARMLINE_WALK_VERBOSE`.
    shapes: BTreeSet<String>,
}

impl Tally {
    fn problem(&mut self, what: String) {
        if self.problems.len() < 200 {
            self.problems.push(what);
        }
    }
}

/// One field of a form as the page offers it.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: Kind,
    value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A field a person types into: text, textarea, date, number, password, e-mail, ….
    Typed,
    /// Hidden fields and selects: the page chooses, a tampering client may not.
    Chosen,
    /// The CSRF token.
    Token,
    /// A file input.
    File,
}

/// A form as the page offers it.
#[derive(Debug, Clone)]
struct Form {
    method: String,
    action: String,
    multipart: bool,
    fields: Vec<Field>,
}

impl Form {
    /// The form's shape: forms of one shape (the same action with other ids) are submitted
    /// once per pass.
    fn shape(&self) -> String {
        let names: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        format!(
            "{} {} {}",
            self.method,
            shape_of(&self.action),
            names.join(",")
        )
    }

    /// The fields with `typed` in every typed field and `chosen` in every hidden field and
    /// select (each `None` keeps what the page offers).
    fn filled(&self, typed: Option<&str>, chosen: Option<&str>) -> Vec<(String, String)> {
        self.fields
            .iter()
            .filter(|f| f.kind != Kind::File)
            .map(|f| {
                let value = match (f.kind, typed, chosen) {
                    (Kind::Typed, Some(v), _) | (Kind::Chosen, _, Some(v)) => v.to_string(),
                    _ => f.value.clone(),
                };
                (f.name.clone(), value)
            })
            .collect()
    }
}

/// `/contacts/12/edit?q=a` → `/contacts/{n}/edit?q`.
fn shape_of(url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let path: Vec<&str> = path
        .split('/')
        .map(|s| {
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
                "{n}"
            } else {
                s
            }
        })
        .collect();
    let mut keys: Vec<&str> = query
        .split('&')
        .filter_map(|p| p.split('=').next())
        .filter(|k| !k.is_empty())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    format!("{}?{}", path.join("/"), keys.join("&"))
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

/// The page's local links and forms.
fn read_page(path: &str, html: &str) -> (Vec<String>, Vec<Form>) {
    let doc = Html::parse_document(html);
    let links = doc
        .select(&selector("a[href]"))
        .filter_map(|a| a.value().attr("href"))
        .map(|href| href.split('#').next().unwrap_or("").to_string())
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .filter(|href| !href.starts_with("/static/"))
        .collect();
    let forms = doc
        .select(&selector("form"))
        .map(|form| read_form(path, form))
        .collect();
    (links, forms)
}

fn read_form(path: &str, form: ElementRef<'_>) -> Form {
    let el = form.value();
    let method = el.attr("method").unwrap_or("get").to_ascii_lowercase();
    let action = el
        .attr("action")
        .filter(|a| !a.is_empty())
        .unwrap_or(path)
        .replace("&amp;", "&");
    let multipart = el.attr("enctype") == Some("multipart/form-data");
    let mut fields = Vec::new();
    let mut radios = BTreeSet::new();
    let mut button_taken = false;
    for input in form.select(&selector(
        "input[name], select[name], textarea[name], button[name]",
    )) {
        let e = input.value();
        let name = e.attr("name").unwrap_or_default().to_string();
        let value = e.attr("value").unwrap_or_default().to_string();
        let field = match e.name() {
            "select" => {
                let options: Vec<ElementRef<'_>> = input.select(&selector("option")).collect();
                let chosen = options
                    .iter()
                    .find(|o| o.value().attr("selected").is_some())
                    .or(options.first());
                let value = chosen.map_or(String::new(), |o| {
                    o.value()
                        .attr("value")
                        .map_or_else(|| o.text().collect(), str::to_string)
                });
                Field {
                    name,
                    kind: Kind::Chosen,
                    value,
                }
            }
            "textarea" => Field {
                name,
                kind: Kind::Typed,
                value: input.text().collect(),
            },
            // The first submit button's name and value go with the form, as a click sends them.
            "button" if !button_taken => {
                button_taken = true;
                Field {
                    name,
                    kind: Kind::Chosen,
                    value,
                }
            }
            "button" => continue,
            _ => match e.attr("type").unwrap_or("text") {
                "hidden" if name == "csrf_token" => Field {
                    name,
                    kind: Kind::Token,
                    value,
                },
                "hidden" => Field {
                    name,
                    kind: Kind::Chosen,
                    value,
                },
                "checkbox" if e.attr("checked").is_none() => continue,
                "checkbox" => Field {
                    name,
                    kind: Kind::Chosen,
                    value: if value.is_empty() { "on".into() } else { value },
                },
                "radio" => {
                    if e.attr("checked").is_none() || !radios.insert(name.clone()) {
                        continue;
                    }
                    Field {
                        name,
                        kind: Kind::Chosen,
                        value,
                    }
                }
                "file" => Field {
                    name,
                    kind: Kind::File,
                    value,
                },
                "submit" if !button_taken => {
                    button_taken = true;
                    Field {
                        name,
                        kind: Kind::Chosen,
                        value,
                    }
                }
                "submit" | "button" | "reset" | "image" => continue,
                _ => Field {
                    name,
                    kind: Kind::Typed,
                    value,
                },
            },
        };
        fields.push(field);
    }
    Form {
        method,
        action,
        multipart,
        fields,
    }
}

/// Whether a refused answer says what was wrong: a field message, an error notice, or the
/// error page with its explanation.
fn says_what_was_wrong(res: &TestResponse) -> bool {
    let body = &res.body;
    if !res
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html"))
    {
        return !body.trim().is_empty();
    }
    body.contains("class=\"field-error\"")
        || body.contains("flash-error")
        || (body.contains("error-card") && body.contains("<p class=\"muted\">"))
}

/// A login as one demo person, walking.
struct Walker<'a> {
    app: TestApp,
    email: &'a str,
    tally: &'a mut Tally,
    /// Links followed per shape, and form shapes submitted, in this pass.
    shapes: BTreeMap<String, usize>,
    submitted: BTreeSet<String>,
    /// A submission ended the session (log out): log in again before the next.
    logged_out: bool,
    /// The forms of the page being walked, and the CSRF token they carry.
    page_forms: Vec<Form>,
    page_token: Option<String>,
}

impl Walker<'_> {
    async fn log_in(&self) {
        let res = self.app.login(self.email, warmline::demo::PASSWORD).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{} logs in", self.email);
    }

    /// Checks one answer; `refusable` when a 4xx is a fair answer to what was sent.
    fn check(&mut self, what: &str, res: &TestResponse) {
        if res.status.is_server_error() {
            self.tally.problem(format!("{what}: {}", res.status));
        }
        if res.status.is_client_error()
            && res.status != StatusCode::NOT_FOUND
            && !says_what_was_wrong(res)
        {
            self.tally
                .problem(format!("{what}: {} without saying why", res.status));
        }
        let flash_error = res
            .header_all("set-cookie")
            .iter()
            .any(|c| c.starts_with("warmline_flash=kind=error"));
        if flash_error {
            self.tally
                .problem(format!("{what}: refused with a redirect instead of a 4xx"));
        }
        if res.body.contains(SCRIPT) {
            self.tally.problem(format!("{what}: echoed a script tag"));
        }
    }

    async fn walk(&mut self) {
        self.log_in().await;
        let mut queue = VecDeque::from(["/".to_string()]);
        let mut seen = BTreeSet::new();
        let mut visited = 0;
        while let Some(path) = queue.pop_front() {
            if visited >= MAX_PAGES || !seen.insert(path.clone()) {
                continue;
            }
            let count = self.shapes.entry(shape_of(&path)).or_default();
            if *count >= LINKS_PER_SHAPE {
                continue;
            }
            *count += 1;
            visited += 1;
            let res = self.app.get(&path).await;
            self.tally.pages += 1;
            self.check(&format!("GET {path} as {}", self.email), &res);
            let is_html = res
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/html"));
            if !res.status.is_success() || !is_html {
                continue;
            }
            let (links, forms) = read_page(&path, &res.body);
            self.page_token = self.app.csrf_token();
            let shapes: Vec<String> = forms.iter().map(Form::shape).collect();
            self.page_forms = forms;
            for shape in shapes {
                if self.submitted.insert(shape.clone()) {
                    self.tally.forms += 1;
                    self.tally.shapes.insert(shape.clone());
                    self.submit_every_way(&path, &shape).await;
                }
            }
            queue.extend(links.into_iter().filter(|l| !seen.contains(l)));
        }
    }

    /// The form as offered, then with each hostile value typed in, then with its hidden
    /// fields and selects tampered with.
    async fn submit_every_way(&mut self, page: &str, shape: &str) {
        let mut variants: Vec<(Option<String>, Option<&str>)> = vec![(None, None)];
        variants.extend(hostile_values().into_iter().map(|v| (Some(v), None)));
        variants.extend(TAMPERED.iter().map(|t| (None, Some(*t))));
        for (typed, chosen) in variants {
            let hostile = typed.is_some() || chosen.is_some();
            if std::mem::take(&mut self.logged_out) {
                // The previous submission ended the session (log out, a password change).
                self.log_in().await;
            }
            let token = self.app.csrf_token();
            if token != self.page_token {
                // The session's token changed (a new login, "log out everywhere else"):
                // take the form again from its page.
                let fresh = self.app.get(page).await;
                self.page_token = self.app.csrf_token();
                self.page_forms = read_page(page, &fresh.body).1;
            }
            let Some(form) = self.page_forms.iter().find(|f| f.shape() == shape).cloned() else {
                return;
            };
            self.submit(&form, typed.as_deref(), chosen, hostile).await;
        }
    }

    async fn submit(
        &mut self,
        form: &Form,
        typed: Option<&str>,
        chosen: Option<&str>,
        hostile: bool,
    ) {
        self.tally.submissions += 1;
        if hostile {
            self.tally.hostile += 1;
        }
        let fields = form.filled(typed, chosen);
        let what = format!(
            "{} {} as {} with {:?}",
            form.method.to_uppercase(),
            form.action,
            self.email,
            typed
                .map(|t| t.chars().take(20).collect::<String>())
                .or(chosen.map(str::to_string))
        );
        let res = if form.method == "post" && form.multipart {
            // The upload form carries its token in the action's query string.
            let token = form
                .action
                .split_once("csrf_token=")
                .map(|(_, t)| t.split('&').next().unwrap_or_default().to_string());
            self.app.jar.lock().unwrap().csrf_token = token;
            let content = typed.unwrap_or("Name,Email\nWalk Person,walk@example.com\n");
            let path = form.action.split('?').next().unwrap_or_default();
            self.app
                .post_file(path, "walk.csv", content.as_bytes())
                .await
        } else if form.method == "post" {
            let pairs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            self.app.post_form_raw(&form.action, &pairs).await
        } else {
            let query = serde_urlencoded::to_string(&fields).unwrap_or_default();
            let sep = if form.action.contains('?') { '&' } else { '?' };
            self.app.get(&format!("{}{sep}{query}", form.action)).await
        };
        self.check(&what, &res);
        if res.status == StatusCode::FORBIDDEN && res.body.contains("has expired") {
            // The walker sends each form with the token its page carried: a refusal means
            // the walk lost its session without noticing, and would test nothing after it.
            self.tally
                .problem(format!("{what}: the page's own CSRF token was refused"));
        }
        if res
            .header("location")
            .is_some_and(|l| l.starts_with("/login"))
        {
            self.logged_out = true;
            return;
        }
        if res.status == StatusCode::SEE_OTHER
            && let Some(to) = res.header("location").map(str::to_string)
            && to.starts_with('/')
        {
            let landed = self.app.get(&to).await;
            self.check(&format!("GET {to} after {what}"), &landed);
        }
    }
}

/// Counts ERROR events on this thread (the test runs on one), keeping their messages.
struct ErrorLog(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ErrorLog {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::ERROR {
            let mut text = String::new();
            event.record(
                &mut |field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
                    text.push_str(&format!("{}={value:?} ", field.name()));
                },
            );
            self.0.lock().unwrap().push(text);
        }
    }
}

#[tokio::test]
async fn every_page_and_form_survives_aged_data_and_hostile_values_for_every_role() {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry().with(ErrorLog(errors.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::spawn().await;
    let today = OffsetDateTime::now_utc().date();
    let logins = warmline::demo::load(&app.pool, today)
        .await
        .expect("the demo loads")
        .expect("into an empty database");
    let email_of = |role: &str| {
        logins
            .iter()
            .find(|l| l.role == role)
            .map(|l| l.email.clone())
            .expect("a demo login of each role")
    };
    let people = [email_of("admin"), email_of("manager"), email_of("rep")];
    let mut tally = Tally::default();
    for days in AGES_IN_DAYS {
        let now = OffsetDateTime::now_utc() + Duration::days(days);
        warmline::sweeper::sweep(&app.pool, now, std::time::Duration::from_secs(48 * 3600))
            .await
            .expect("the sweep runs");
        for email in &people {
            let mut walker = Walker {
                app: app.new_client(),
                email,
                tally: &mut tally,
                shapes: BTreeMap::new(),
                submitted: BTreeSet::new(),
                logged_out: false,
                page_forms: Vec::new(),
                page_token: None,
            };
            walker.walk().await;
            // The admin's pass may deactivate the people the next passes log in as (the
            // deactivate button is a form like any other): bring them back.
            sqlx::query("update users set deactivated_at = null")
                .execute(&app.pool)
                .await
                .unwrap();
        }
    }
    let logged = errors.lock().unwrap().clone();
    if std::env::var_os("WARMLINE_WALK_VERBOSE").is_some() {
        for shape in &tally.shapes {
            println!("walk: form {shape}");
        }
    }
    println!(
        "walk: {} pages, {} forms, {} submissions ({} hostile), {} server errors or unexplained refusals, {} ERROR log lines",
        tally.pages,
        tally.forms,
        tally.submissions,
        tally.hostile,
        tally.problems.len(),
        logged.len()
    );
    assert!(tally.problems.is_empty(), "{:#?}", tally.problems);
    assert!(logged.is_empty(), "ERROR logged: {logged:#?}");
    assert!(
        tally.pages > 100 && tally.forms > 30,
        "the walk reached too little: {tally:?}"
    );
}
