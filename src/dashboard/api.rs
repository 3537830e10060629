//! The dashboard's HTTP side: the page, its embedded assets and a read-only JSON API, behind
//! an optional token. Every handler answers GET only; nothing here writes to ClickHouse.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::data::{self, Data};
use super::filter::Filter;
use super::page;
use crate::log::verbose;

/// The cookie a `?token=` visit sets, so the token leaves the address bar. It holds
/// [`AppState::session`], never the token.
pub const COOKIE: &str = "ccusage_dashboard_session";

/// What every handler shares.
pub struct AppState {
    pub data: Data,
    pub token: Option<String>,
    /// The cookie's value: an HMAC-SHA256, under the token, of a random id drawn when this
    /// process starts. Cookies are not kept apart by port, so every service on the host may
    /// receive it; it cannot be used as the token (`Authorization: Bearer`), nor against a
    /// restarted or another dashboard, and the token cannot be recovered from it.
    session: Option<String>,
    pub plan_price: Option<f64>,
    /// The budgets, as the page reads them (`super::budget_json`).
    pub budgets: serde_json::Value,
    /// `--timezone`: the zone of a request without `tz` (`None`: UTC).
    pub zone: Option<chrono_tz::Tz>,
    /// Whether the last ClickHouse read failed: a change is said once on stderr, not per
    /// request.
    failing: AtomicBool,
}

impl AppState {
    pub fn new(data: Data, token: Option<String>, plan_price: Option<f64>) -> AppState {
        let session = token.as_deref().map(session_value);
        AppState {
            data,
            token,
            session,
            plan_price,
            budgets: serde_json::Value::Null,
            zone: None,
            failing: AtomicBool::new(false),
        }
    }
}

type Shared = Arc<AppState>;

/// A fresh session id (122 random bits from each of two v4 UUIDs, the OS's generator) signed
/// with the token, as hex.
fn session_value(token: &str) -> String {
    use hmac::{Hmac, Mac};
    let id = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()];
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
    for part in id {
        mac.update(part.as_bytes());
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{file}", get(asset))
        .route("/api/config", get(config))
        .route("/api/panels", get(panel_list))
        .route("/api/panel/{name}", get(panel))
        .route("/favicon.ico", get(no_icon))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Parameters the handlers read besides the filter.
const EXTRA: &[&str] = &["token", "format"];

/// Runs before every handler: read-only methods, the token when one is set, the security
/// headers on every answer, and the request line with --verbose.
async fn guard(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let mut response = if method != Method::GET && method != Method::HEAD {
        let mut r = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "the dashboard is read-only: only GET",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        r
    } else if state.token.is_none() && !addressed_to_loopback(&request) {
        misaddressed(&request)
    } else {
        match authorize(&state, &request) {
            Access::Granted => next.run(request).await,
            Access::FromQuery => cookie_and_redirect(&state, &request),
            Access::Denied => unauthorized(),
        }
    };
    secure(response.headers_mut());
    verbose!(
        "dashboard: {method} {path} {} in {} ms",
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    response
}

enum Access {
    Granted,
    /// The token came as `?token=`: set the cookie and drop it from the URL.
    FromQuery,
    Denied,
}

fn authorize(state: &AppState, request: &Request) -> Access {
    let Some(token) = state.token.as_deref() else {
        return Access::Granted;
    };
    let headers = request.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer.is_some_and(|given| same(given, token)) {
        return Access::Granted;
    }
    let session = state.session.as_deref().unwrap_or_default();
    if cookie(headers, COOKIE).is_some_and(|given| same(&given, session)) {
        return Access::Granted;
    }
    if query_pairs(request.uri().query())
        .iter()
        .any(|(k, v)| k == "token" && same(v, token))
    {
        return Access::FromQuery;
    }
    Access::Denied
}

/// Without a token the loopback address is the only guard, and DNS rebinding gets past it: a
/// page on another site points its own name at 127.0.0.1 and reads the answers as same-origin.
/// The browser still sends that name as Host, so only loopback names are served.
fn addressed_to_loopback(request: &Request) -> bool {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().host());
    host.is_some_and(is_loopback_name)
}

/// `localhost` or a loopback IP, with or without a port (`[::1]:8787`, `127.0.0.1:8787`).
fn is_loopback_name(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn misaddressed(request: &Request) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("(none)");
    plain(
        StatusCode::FORBIDDEN,
        &format!(
            "this dashboard has no token, so it answers only requests addressed to 127.0.0.1 \
             or localhost, and this one was addressed to {host:?} (another site may be reading \
             it through DNS rebinding); to serve it under another name, give it a token \
             (--token-file or CCUSAGE_IMPORT_DASHBOARD_TOKEN)"
        ),
    )
}

/// Compares in constant time, so response timing tells nothing about how much matched.
fn same(given: &str, token: &str) -> bool {
    given.as_bytes().ct_eq(token.as_bytes()).into()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let Some(uri) = query.and_then(|q| format!("/?{q}").parse::<axum::http::Uri>().ok()) else {
        return Vec::new();
    };
    Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|Query(pairs)| pairs)
        .unwrap_or_default()
}

/// 303 to the same URL without `token`, with the session in an HttpOnly cookie: the token no
/// longer shows in the address bar, the history or a shared link.
fn cookie_and_redirect(state: &AppState, request: &Request) -> Response {
    let session = state.session.as_deref().unwrap_or_default();
    let location = same_origin_without_token(request.uri().path(), request.uri().query());
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, value);
    }
    // Secure where the browser reached us over HTTPS (a TLS proxy in front says so); a forged
    // header only makes the cookie stricter.
    let secure = if came_over_https(request.headers()) {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!("{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/{secure}");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.insert(header::SET_COOKIE, value);
    }
    response
}

/// The redirect's target: this server's path (never `//host` or `/\host`, which a browser
/// reads as another site) and the query without `token`, however its name is encoded
/// (`tok%65n`); the other parameters as they came.
fn same_origin_without_token(path: &str, query: Option<&str>) -> String {
    let path = format!("/{}", path.trim_start_matches(['/', '\\']));
    let kept: Vec<&str> = query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| !query_pairs(Some(pair)).iter().any(|(k, _)| k == "token"))
        .collect();
    if kept.is_empty() {
        path
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// `X-Forwarded-Proto: https` or `Forwarded: …proto=https`.
fn came_over_https(headers: &HeaderMap) -> bool {
    let forwarded_proto = headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([';', ',']))
        .any(|part| part.trim().eq_ignore_ascii_case("proto=https"));
    forwarded_proto || forwarded
}

fn unauthorized() -> Response {
    let mut response = plain(
        StatusCode::UNAUTHORIZED,
        "this dashboard needs its token: send Authorization: Bearer TOKEN, or open the page \
         once with ?token=TOKEN (it then sets a cookie)",
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"ccusage-import\""),
    );
    response
}

/// Headers that keep the page to itself: no outside scripts or connections (the page needs
/// none), no framing, no referrer (a URL may hold the token), no caching of data.
fn secure(headers: &mut HeaderMap) {
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{text}\n"),
    )
        .into_response()
}

/// Whether a failed read means nothing was imported into the database yet: it, or a table,
/// does not exist (ClickHouse codes 81 and 60).
fn nothing_imported(message: &str) -> bool {
    message
        .match_indices("Code: ")
        .filter_map(|(at, _)| crate::sink::retry::server_code(&message[at..]))
        .any(|code| code == 81 || code == 60)
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// The page. A bad filter gets 400 here too, so a mistyped bookmark says what is wrong.
async fn index(Query(pairs): Query<Vec<(String, String)>>) -> Response {
    match Filter::from_pairs(&pairs, EXTRA) {
        Ok(_) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page::served(),
        )
            .into_response(),
        Err(bad) => (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page::bad_request(&bad.to_string()),
        )
            .into_response(),
    }
}

async fn asset(Path(file): Path<String>) -> Response {
    match page::asset(&file) {
        Some((content_type, body)) => (
            [
                (header::CONTENT_TYPE, content_type),
                // Assets are part of the binary: they change only with it.
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            body,
        )
            .into_response(),
        None => not_found().await,
    }
}

/// Browsers ask for `/favicon.ico` after showing any page that names no icon (a 400's text,
/// a JSON answer): "no content" rather than a 404 that lands in the console as an error.
async fn no_icon() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "not found")
}

/// What the page needs besides data: the plan price, the default zone (`--timezone`) and
/// today's day there (the page counts today in a zone picked in the URL itself).
async fn config(State(state): State<Shared>) -> Response {
    axum::Json(json!({
        "plan_price": state.plan_price,
        "timezone": crate::zone::name(state.zone),
        "today": crate::zone::today(state.zone).to_string(),
        "version": env!("CARGO_PKG_VERSION"),
        "static": false,
        "budget": state.budgets,
        "agent_panels": data::agent_panels(),
    }))
    .into_response()
}

/// The panels and what each answers.
async fn panel_list() -> Response {
    let list: Vec<_> = data::statements()
        .iter()
        .filter(|s| data::panels().any(|p| p == s.name))
        .map(|s| json!({ "name": s.name, "description": s.description }))
        .collect();
    axum::Json(list).into_response()
}

/// One panel under the URL's filter, as JSON or (`format=csv`) CSV. A ClickHouse failure is
/// a 503 whose message says what failed; the server keeps serving.
async fn panel(
    State(state): State<Shared>,
    Path(name): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let mut filter = match Filter::from_pairs(&pairs, EXTRA) {
        Ok(filter) => filter,
        Err(bad) => return json_error(StatusCode::BAD_REQUEST, &bad.to_string()),
    };
    filter.zone = filter.zone.or(state.zone);
    let csv = match pairs
        .iter()
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v.as_str())
    {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("bad parameter format: {other:?} is neither json nor csv"),
            )
        }
    };
    let Some(statement) = data::statement_for(&name, &filter) else {
        return json_error(
            StatusCode::NOT_FOUND,
            &format!("there is no panel named {name:?}: /api/panels lists them"),
        );
    };
    match state.data.panel(statement, &filter).await {
        Ok(rows) => {
            if state.failing.swap(false, Ordering::Relaxed) {
                eprintln!("ccusage-import: ClickHouse answers again; the dashboard is back");
            }
            if csv {
                let disposition = format!("attachment; filename=\"{name}.csv\"");
                (
                    [
                        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                        (header::CONTENT_DISPOSITION, disposition),
                    ],
                    data::to_csv(&rows),
                )
                    .into_response()
            } else {
                axum::Json(rows).into_response()
            }
        }
        Err(error) if nothing_imported(&format!("{error:#}")) => {
            // Not a failure: the answer to "what is stored" is "nothing yet". The page shows
            // what to run (body[data-state="empty"]) and fills itself once usage arrives.
            let rows = json!({ "columns": [], "types": [], "rows": [], "empty": true });
            if csv {
                (
                    [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
                    data::to_csv(&rows),
                )
                    .into_response()
            } else {
                axum::Json(rows).into_response()
            }
        }
        Err(error) => {
            let message = format!("{error:#}");
            if !state.failing.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "ccusage-import: warning: {message}; the dashboard shows the error until \
                     ClickHouse answers"
                );
            }
            let sentence = "The dashboard cannot read ClickHouse: check that the server runs and \
                            that CH_HOST, CH_PORT, CH_USER, CH_PASSWORD and CH_DATABASE name it.";
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "error": sentence, "details": message })),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_or_table_means_nothing_imported_yet() {
        let old = "the dashboard panel days failed: ClickHouse at http://x refused: Code: 81, \
                   e.displayText() = DB::Exception: Database it doesn't exist";
        assert!(nothing_imported(old));
        assert!(nothing_imported(
            "… Code: 60. DB::Exception: Table x doesn't exist"
        ));
        assert!(!nothing_imported("… Code: 516. Authentication failed"));
        assert!(!nothing_imported(
            "cannot reach ClickHouse: Connection refused"
        ));
    }

    #[test]
    fn only_loopback_names_are_loopback() {
        for host in [
            "127.0.0.1:8787",
            "localhost:8787",
            "LOCALHOST",
            "[::1]:8787",
            "127.0.0.2",
        ] {
            assert!(is_loopback_name(host), "{host}");
        }
        for host in [
            "evil.example:8787",
            "10.0.0.1:8787",
            "[::2]:1",
            "localhost.evil.example",
            "",
        ] {
            assert!(!is_loopback_name(host), "{host}");
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("s3cret-token-0123456789", "s3cret-token-0123456789"));
        assert!(!same("s3cret-token-012345678", "s3cret-token-0123456789"));
        assert!(!same("", "s3cret-token-0123456789"));
    }

    #[test]
    fn cookies_and_query_pairs_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; ccusage_dashboard_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
        let pairs = query_pairs(Some("token=a%2Bb&machine=o%27neil"));
        assert_eq!(pairs[0], ("token".into(), "a+b".into()));
        assert_eq!(pairs[1], ("machine".into(), "o'neil".into()));
    }

    #[test]
    fn the_redirect_stays_on_this_server_and_drops_the_token_however_encoded() {
        let cases = [
            ("/", Some("token=t"), "/"),
            ("/", Some("tok%65n=t&machine=a%20b"), "/?machine=a%20b"),
            ("//evil.example/", Some("token=t"), "/evil.example/"),
            (
                "/\\evil.example",
                Some("token=t&since=2026-11-01"),
                "/evil.example?since=2026-11-01",
            ),
            ("/", Some("%74oken=t&token=u&agent=codex"), "/?agent=codex"),
            ("/", Some("tokens=1"), "/?tokens=1"),
        ];
        for (path, query, location) in cases {
            assert_eq!(
                same_origin_without_token(path, query),
                location,
                "{path} {query:?}"
            );
        }
    }

    #[test]
    fn the_session_is_derived_from_the_token_and_fresh_per_process() {
        let token = "s3cret-token-0123456789";
        let (a, b) = (session_value(token), session_value(token));
        assert_eq!(a.len(), 64);
        assert_ne!(a, b, "a new id each time");
        assert!(!a.contains(token));
        let mut headers = HeaderMap::new();
        assert!(!came_over_https(&headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(came_over_https(&headers));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::FORWARDED,
            HeaderValue::from_static("for=1.2.3.4;proto=https"),
        );
        assert!(came_over_https(&headers));
    }
}
