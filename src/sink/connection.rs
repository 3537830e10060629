//! How to reach ClickHouse: the settings `config` resolves and the sink connects with. They
//! live here, not in `config`, so the sink depends on nothing above it.

use std::fmt;
use std::time::Duration;

use super::retry::RetryPolicy;

#[derive(Clone)]
pub struct ClickHouse {
    pub url: String,
    /// Further servers from a `CH_HOST` list, tried in order when the one before cannot be
    /// reached.
    pub alternates: Vec<String>,
    pub user: String,
    pub password: Secret,
    pub database: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl fmt::Debug for ClickHouse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickHouse")
            .field("url", &self.url)
            .field("alternates", &self.alternates)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("database", &self.database)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

/// A password: usable, never printed.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(password: String) -> Secret {
        Secret(password)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}
