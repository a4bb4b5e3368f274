//! Sending requests to the router and checking what comes back.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::TestApp;

/// A response with its body read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: StatusCode) -> &Self {
        assert_eq!(
            self.status, expected,
            "unexpected status; body:\n{}",
            self.body
        );
        self
    }

    /// Asserts the body contains `text`.
    #[track_caller]
    pub fn assert_contains(&self, text: &str) -> &Self {
        assert!(
            self.body.contains(text),
            "expected {text:?} in body:\n{}",
            self.body
        );
        self
    }

    /// Asserts the body does not contain `text`.
    #[track_caller]
    pub fn assert_lacks(&self, text: &str) -> &Self {
        assert!(
            !self.body.contains(text),
            "did not expect {text:?} in body:\n{}",
            self.body
        );
        self
    }

    /// A header's value as text, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Where a redirect points.
    #[track_caller]
    pub fn location(&self) -> &str {
        self.header("location").expect("a Location header")
    }

    /// The body as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.body))
    }

    /// All values of a header.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }
}

impl TestApp {
    /// Sends an API request with a bearer token, a JSON body (if any) and extra headers, and
    /// no cookies.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"));
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.new_client()
            .send(request.body(Body::from(body)).unwrap())
            .await
    }

    /// Sends one request through the whole router, layers included, with this client's
    /// cookies; remembers the cookies and CSRF token that come back.
    pub async fn send(&self, mut request: Request<Body>) -> TestResponse {
        let cookie_header = {
            let jar = self.jar.lock().unwrap();
            jar.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        if !cookie_header.is_empty() && !request.headers().contains_key(header::COOKIE) {
            request
                .headers_mut()
                .insert(header::COOKIE, cookie_header.parse().unwrap());
        }
        let response = match &self.remote {
            None => self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("the router is infallible"),
            Some(base) => {
                use hyper_util::client::legacy::Client;
                use hyper_util::rt::TokioExecutor;
                let url = format!("{base}{}", request.uri());
                *request.uri_mut() = url.parse().expect("a valid URL");
                let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
                let response = client
                    .request(request)
                    .await
                    .unwrap_or_else(|e| panic!("{url}: {e}"));
                response.map(Body::new)
            }
        };
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("read the body").to_bytes();
        let response = TestResponse {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        self.remember(&response);
        response
    }

    fn remember(&self, response: &TestResponse) {
        let mut jar = self.jar.lock().unwrap();
        for cookie in response.header_all("set-cookie") {
            let Some((pair, attributes)) = cookie.split_once(';').or(Some((&cookie, ""))) else {
                continue;
            };
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let expired = attributes.contains("Max-Age=0") || value.is_empty();
            if expired {
                jar.cookies.remove(name.trim());
            } else {
                jar.cookies
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
        }
        if let Some(token) = csrf_token_in(&response.body) {
            jar.csrf_token = Some(token);
        }
    }

    /// The value of one of this client's cookies.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().cookies.get(name).cloned()
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.get_with(path, &[]).await
    }

    /// `GET path` with extra headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut request = Request::builder().method(Method::GET).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// `POST path` with a URL-encoded form and the CSRF token the last page showed.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        self.post_form_with(path, fields, &[]).await
    }

    /// `POST path` with exactly these fields (no CSRF token added).
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.post_raw(path, "application/x-www-form-urlencoded", body.into_bytes())
            .await
    }

    /// Uploads a file as `multipart/form-data` (field `file`), with the CSRF token in the query
    /// string as the upload form sends it.
    pub async fn post_file(&self, path: &str, file_name: &str, bytes: &[u8]) -> TestResponse {
        let token = self.csrf_token().unwrap_or_default();
        let boundary = "----warmline-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.post_raw(&format!("{path}?csrf_token={token}"), &content_type, body)
            .await
    }

    /// The CSRF token the last page showed.
    pub fn csrf_token(&self) -> Option<String> {
        self.jar.lock().unwrap().csrf_token.clone()
    }

    /// `POST path` with a raw body of the given content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> TestResponse {
        self.post_raw_with(path, content_type, body, &[]).await
    }

    /// `POST path` with a URL-encoded form, the CSRF token the last page showed, and extra
    /// headers.
    pub async fn post_form_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let token = self.csrf_token().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        all.extend_from_slice(fields);
        let body = serde_urlencoded::to_string(&all).unwrap().into_bytes();
        self.post_raw_with(path, "application/x-www-form-urlencoded", body, headers)
            .await
    }

    async fn post_raw_with(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_LENGTH, body.len());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }
}

/// The value of the first input named `name` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// The id of the ask a quick log just logged, from where it sent the browser
/// (`/?logged=ID`: back to My week, to log the next one).
pub fn logged_ask_id(location: &str) -> i64 {
    location
        .strip_prefix("/?logged=")
        .and_then(|rest| rest.split('#').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a logged ask's location: {location}"))
}

/// The CSRF token of the first form in a page.
pub fn csrf_token_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// `GET url` over a real socket.
pub async fn get_url(url: &str) -> (StatusCode, String) {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .get(url.parse().expect("a valid URL"))
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("read the body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}
