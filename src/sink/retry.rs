//! Which ClickHouse failures are worth another try, and how long to wait before it.

use std::time::Duration;

use clickhouse::error::Error;

/// Server error codes that say "not now" rather than "never": timeouts, too many queries,
/// socket and network errors, memory pressure, a replica in read-only mode, too many parts.
const TRANSIENT_CODES: [u32; 8] = [159, 202, 209, 210, 241, 242, 252, 425];

/// Retries and backoff, from `--max-retries` and `--retry-delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
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

/// Whether a failed request may succeed if sent again. Authentication, permission, missing
/// objects, bad data and anything unknown are final.
pub fn is_transient(error: &Error) -> bool {
    match error {
        Error::Network(_) | Error::TimedOut => true,
        Error::BadResponse(message) => {
            server_code(message).is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        _ => false,
    }
}

/// `Code: 516. DB::Exception…` (modern) or `Code: 193, e.displayText() = …` (18.16) → the code.
pub fn server_code(message: &str) -> Option<u32> {
    let rest = message.trim_start().strip_prefix("Code: ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
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
    fn backoff_grows_is_jittered_and_capped() {
        let policy = RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(1000),
        };
        assert_eq!(policy.delay(0, 1.0), Duration::from_millis(1000));
        assert_eq!(policy.delay(0, 0.0), Duration::from_millis(500));
        assert_eq!(policy.delay(2, 1.0), Duration::from_millis(4000));
        assert_eq!(policy.delay(30, 1.0), MAX_DELAY);
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }
}
