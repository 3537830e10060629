//! How to reach ClickHouse: the settings `config` resolves and the sink connects with. They
//! live here, not in `config`, so the sink depends on nothing above it.

use std::fmt;
use std::time::Duration;

use super::retry::RetryPolicy;

#[derive(Clone)]
pub struct ClickHouse {
    /// The endpoints as the user gave them, comma-separated: for messages.
    pub url: String,
    /// Each endpoint's URL, in the order they are tried.
    pub urls: Vec<String>,
    /// `--ch-cluster`: the schema is created ON CLUSTER in its cluster form.
    pub cluster: Option<String>,
    pub user: String,
    pub password: Secret,
    pub database: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// The largest answer read from ClickHouse, in bytes (`CH_MAX_RESPONSE`).
    pub max_response: u64,
}

impl fmt::Debug for ClickHouse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickHouse")
            .field("url", &self.url)
            .field("cluster", &self.cluster)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("database", &self.database)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("max_response", &self.max_response)
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
