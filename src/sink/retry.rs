//! Which ClickHouse failures are worth another try, and how long to wait before it.

use std::time::Duration;

use clickhouse::error::Error;

use std::future::Future;
use std::time::Instant;

use anyhow::Result;

use super::{describe, Sink, ANNOUNCED_WAIT};
use crate::log::verbose;

/// Server error codes that say "not now" rather than "never", with what each means.
const TRANSIENT_CODES: [(u32, &str); 11] = [
    (159, "the query timed out on the server"),
    (202, "too many simultaneous queries"),
    (209, "a socket timed out"),
    (210, "a network error"),
    (241, "the server ran out of memory"),
    (242, "a replica is read-only"),
    (252, "too many parts (inserts come faster than merges)"),
    (285, "too few live replicas for the insert quorum"),
    (286, "the quorum of a previous insert is not met yet"),
    (
        319,
        "the insert quorum was not met in time (the insert may be stored)",
    ),
    (425, "a system error"),
];

/// Retries and backoff, from `--max-retries`, `--retry-delay` and `--ch-deadline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
    /// How long after the run's first request retries may still start: a flapping server
    /// must not stretch an hourly run into the next one.
    pub deadline: Duration,
}

/// The longest single wait, so a run never sleeps for most of an hour.
const MAX_DELAY: Duration = Duration::from_secs(60);

impl RetryPolicy {
    /// Exponential backoff with jitter: attempt n waits between half and all of
    /// `base · 2^n`, capped, so machines that failed together do not retry together.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let exponential = self.base_delay.saturating_mul(1u32 << attempt.min(16));
        let capped = exponential.min(MAX_DELAY);
        capped.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }
}

/// Whether a failed request is worth sending again, and why: `--verbose` prints the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Retry(String),
    Final(String),
}

/// Network errors, timeouts and the server's "not now" codes are retried; authentication,
/// permission, missing objects, bad data and anything unknown are final.
pub fn classify(error: &Error) -> Verdict {
    match error {
        Error::Network(source) if super::http::too_large(source.as_ref()).is_some() => {
            Verdict::Final("an answer larger than CH_MAX_RESPONSE".into())
        }
        Error::Network(_) => Verdict::Retry("a network error".into()),
        Error::TimedOut => Verdict::Retry("no answer within --ch-timeout".into()),
        Error::BadResponse(message) => match (proxy_page(message), server_code(message)) {
            (Some(page), _) => page.verdict(),
            (None, Some(code)) => match TRANSIENT_CODES.iter().find(|(c, _)| *c == code) {
                Some((_, meaning)) => Verdict::Retry(format!("code {code}: {meaning}")),
                None => Verdict::Final(format!("code {code} {}", final_meaning(code))),
            },
            (None, None) => Verdict::Final("an answer without a ClickHouse error code".into()),
        },
        other => Verdict::Final(format!("a client error ({other})")),
    }
}

fn final_meaning(code: u32) -> &'static str {
    match code {
        192 | 193 | 194 | 516 => "means authentication failed",
        164 | 497 => "means the user lacks a right",
        _ => "is not a passing condition",
    }
}

/// The retry loop beside its classifier: every ClickHouse request of the run goes through it.
impl Sink {
    /// Sends one request, bounded by the timeout, again after a transient failure with
    /// backoff; the final error is one line that says what to do.
    pub async fn request<T, F, Fut>(&self, what: &str, mut send: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = clickhouse::error::Result<T>>,
    {
        let mut attempt = 0;
        // Endpoints refused in a row: a connection failure moves to the next one at once,
        // until every endpoint has failed; then the retries wait as usual.
        let mut unreachable = 0;
        loop {
            let started = Instant::now();
            let result = self.bounded(send()).await;
            let url = self.serving_url().to_owned();
            verbose!("{what}: {} ms ({url})", started.elapsed().as_millis());
            let error = match result {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            let reason = match classify(&error) {
                Verdict::Final(reason) => {
                    verbose!("{what} failed ({error}); not retried: {reason}");
                    return Err(describe(error, &url, &self.user));
                }
                Verdict::Retry(reason) => reason,
            };
            let connection_failed = matches!(error, clickhouse::error::Error::Network(_));
            if connection_failed && unreachable + 1 < self.clients.len() && self.next_endpoint() {
                unreachable += 1;
                verbose!(
                    "{what}: {url} cannot be reached ({error}); moving to {}",
                    self.serving_url()
                );
                continue;
            }
            unreachable = 0;
            if attempt >= self.retry.max_retries {
                verbose!("{what} failed ({error}); {reason}, but --max-retries is used up");
                return Err(describe(error, &url, &self.user));
            }
            let delay = self.retry.delay(attempt, jitter());
            if Instant::now() + delay > self.retries_end {
                verbose!("{what} failed ({error}); {reason}, but the retry budget is spent");
                let budget = self.retry.deadline.as_secs();
                return Err(describe(error, &url, &self.user).context(format!(
                    "ClickHouse kept failing and the run's retry budget (--ch-deadline \
                     {budget} s) is spent; fix the server or raise --ch-deadline"
                )));
            }
            attempt += 1;
            if attempt == 1 && connection_failed && delay >= ANNOUNCED_WAIT {
                crate::log::emit(&format!(
                    "ccusage-import: ClickHouse at {url} cannot be reached: retrying (up to {} \
                     times within {} s; --max-retries, --ch-deadline)\n",
                    self.retry.max_retries,
                    self.retry.deadline.as_secs()
                ));
            }
            if self.next_endpoint() {
                verbose!(
                    "{what} failed at {url} ({error}); retried: {reason}; retry {attempt} in {} ms at {}",
                    delay.as_millis(),
                    self.serving_url()
                );
            } else {
                verbose!(
                    "{what} failed ({error}); retried: {reason}; retry {attempt} in {} ms",
                    delay.as_millis()
                );
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// Runs a request under the configured timeout, once; [`Sink::request`] adds retries.
    pub async fn bounded<T>(
        &self,
        work: impl Future<Output = clickhouse::error::Result<T>>,
    ) -> clickhouse::error::Result<T> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(clickhouse::error::Error::TimedOut),
        }
    }
}

#[cfg(test)]
pub fn is_transient(error: &Error) -> bool {
    matches!(classify(error), Verdict::Retry(_))
}

/// An HTML page where ClickHouse answers in plain text: a proxy or load balancer in front of
/// the server answered instead of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyPage {
    /// The HTTP status the page names (its title, mostly), if any.
    pub status: Option<u16>,
}

/// The client keeps an error's body but not its status, so the status is read from the page.
pub fn proxy_page(message: &str) -> Option<ProxyPage> {
    let start = message.trim_start();
    let head: String = start
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    let is_html = head.starts_with('<')
        && (head.contains("<html") || head.contains("<!doctype") || head.contains("<head"));
    if !is_html {
        return None;
    }
    let title = head
        .split_once("<title>")
        .and_then(|(_, rest)| rest.split_once('<'))
        .map_or(head.as_str(), |(title, _)| title);
    let status = [title, head.as_str()].iter().find_map(|text| {
        text.split(|c: char| !c.is_ascii_digit())
            .filter(|w| w.len() == 3)
            .filter_map(|w| w.parse::<u16>().ok())
            .find(|code| (400..600).contains(code))
    });
    Some(ProxyPage { status })
}

impl ProxyPage {
    /// A gateway that lost the server, or one that says "later", passes; a proxy that refuses
    /// access (401, 403) does not.
    fn verdict(self) -> Verdict {
        match self.status {
            None => Verdict::Retry("a proxy answered with an HTML page".into()),
            Some(s @ (408 | 429 | 500 | 502 | 503 | 504)) => {
                Verdict::Retry(format!("a proxy answered HTTP {s}"))
            }
            Some(s) => Verdict::Final(format!("a proxy answered HTTP {s}")),
        }
    }
}

/// `Code: 516. DB::Exception…` (modern) or `Code: 193, e.displayText() = …` (18.16) → the code.
pub fn server_code(message: &str) -> Option<u32> {
    let rest = message.trim_start().strip_prefix("Code: ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Whether the server refused the login: an unknown user (192), a wrong (193) or missing (194)
/// password, or a failed authentication (516, which newer servers give for all of them).
pub fn is_login_refused(message: &str) -> bool {
    matches!(server_code(message), Some(192 | 193 | 194 | 516))
}

/// A number in [0, 1) that differs between processes and calls; good enough for jitter and
/// needs no random number crate.
pub fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!("{nanos}-{}", std::process::id());
    let hash = xxhash_rust::xxh3::xxh3_64(seed.as_bytes());
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_codes_in_old_and_new_messages() {
        assert_eq!(
            server_code("Code: 193, e.displayText() = DB::Exception: Wrong password"),
            Some(193)
        );
        assert_eq!(
            server_code("Code: 516. DB::Exception: default: Authentication failed"),
            Some(516)
        );
        assert_eq!(server_code("<html>502 Bad Gateway</html>"), None);
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let bad = |m: &str| Error::BadResponse(m.to_owned());
        assert!(is_transient(&Error::TimedOut));
        assert!(is_transient(&bad(
            "Code: 252. DB::Exception: Too many parts"
        )));
        assert!(is_transient(&bad("Code: 209, e.displayText() = Timeout")));
        for final_code in [
            "Code: 516. auth",
            "Code: 193, wrong password",
            "Code: 164, readonly",
            "Code: 60. no table",
            "Code: 81. no database",
            "Code: 117. bad data",
            "Code: 62. syntax",
            "something else",
        ] {
            assert!(!is_transient(&bad(final_code)), "{final_code}");
        }
    }

    #[test]
    fn the_verdict_says_why() {
        let bad = |m: &str| Error::BadResponse(m.to_owned());
        assert_eq!(
            classify(&bad("Code: 252. DB::Exception: Too many parts")),
            Verdict::Retry("code 252: too many parts (inserts come faster than merges)".into())
        );
        assert_eq!(
            classify(&bad("Code: 516. DB::Exception: Authentication failed")),
            Verdict::Final("code 516 means authentication failed".into())
        );
    }

    #[test]
    fn proxy_pages_are_recognised_and_gateway_errors_retried() {
        let page =
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body></html>";
        assert_eq!(proxy_page(page), Some(ProxyPage { status: Some(502) }));
        assert!(is_transient(&Error::BadResponse(page.into())));
        let denied = "<!DOCTYPE html><html><head><title>403 Forbidden</title></head></html>";
        assert_eq!(proxy_page(denied).unwrap().status, Some(403));
        assert!(!is_transient(&Error::BadResponse(denied.into())));
        assert_eq!(
            proxy_page("Code: 60. DB::Exception: <html> in a name"),
            None
        );
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let policy = RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(1000),
            deadline: Duration::from_secs(600),
        };
        assert_eq!(policy.delay(0, 1.0), Duration::from_millis(1000));
        assert_eq!(policy.delay(0, 0.0), Duration::from_millis(500));
        assert_eq!(policy.delay(2, 1.0), Duration::from_millis(4000));
        assert_eq!(policy.delay(30, 1.0), MAX_DELAY);
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }
}
