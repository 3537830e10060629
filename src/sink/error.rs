//! A ClickHouse client error as one line that says what failed and what to do.

use anyhow::anyhow;

use super::{http, retry};

/// Turns a client error into one line that says what failed and what to do. The password is
/// redacted from it, since a server or a proxy may echo what it was sent.
pub fn describe(error: clickhouse::error::Error, url: &str, user: &str) -> anyhow::Error {
    anyhow!(crate::log::redact(&describe_text(error, url, user)).into_owned())
}

fn describe_text(error: clickhouse::error::Error, url: &str, user: &str) -> String {
    use clickhouse::error::Error;
    let text = match &error {
        Error::Network(source) if http::too_large(source.as_ref()).is_some() => {
            let limit = http::too_large(source.as_ref()).unwrap_or_default();
            format!(
                "ClickHouse at {url} answered more than {limit} bytes, the bound on an answer \
                 (CH_MAX_RESPONSE): is CH_URL a ClickHouse server? If it is, raise \
                 CH_MAX_RESPONSE"
            )
        }
        Error::Network(source) => {
            let chain = error_chain(source.as_ref());
            let hint = if chain.contains("refused") {
                "is the server running? check CH_HOST and CH_PORT"
            } else if chain.contains("dns") || chain.contains("resolve") || chain.contains("lookup")
            {
                "check CH_HOST"
            } else {
                "check CH_HOST, CH_PORT and CH_SECURE"
            };
            format!("cannot reach ClickHouse at {url}: {chain}; {hint}")
        }
        Error::TimedOut => format!(
            "ClickHouse at {url} did not answer in time; check the server or raise --ch-timeout"
        ),
        Error::BadResponse(message) => match retry::proxy_page(message) {
            Some(page) => {
                let status = page
                    .status
                    .map_or_else(|| "with an HTML page".to_owned(), |s| format!("HTTP {s}"));
                format!(
                    "ClickHouse at {url} did not answer: a proxy answered {status} instead; \
                     check that the server behind it is running, and CH_URL"
                )
            }
            None => {
                let first = message.lines().next().unwrap_or_default();
                // Said in our words: the server's text adds only its exception boilerplate.
                if retry::is_login_refused(first) {
                    let user = crate::log::printable(user);
                    return format!(
                        "ClickHouse at {url} refused the login for user {user}: check CH_USER \
                         and CH_PASSWORD"
                    );
                }
                let hint = server_error_hint(first);
                format!(
                    "ClickHouse at {url} refused: {}{hint}",
                    crate::log::printable(first)
                )
            }
        },
        other => format!("ClickHouse at {url}: {other}"),
    };
    text
}

fn server_error_hint(message: &str) -> &'static str {
    match retry::server_code(message) {
        Some(164 | 497) => "; the user may not write: grant it INSERT and CREATE on the database",
        Some(81) => "; check CH_DATABASE",
        Some(242 | 225 | 999) => {
            "; ClickHouse has no ZooKeeper session (replicated tables are read-only and ON \
             CLUSTER changes cannot be queued without it): is ZooKeeper running and reachable \
             from every node? Nothing stored was changed; run again once it is back"
        }
        Some(285 | 286 | 319) => {
            "; in this cluster an insert is acknowledged once two replicas of its shard hold it \
             (insert_quorum), and a replica is down or behind: start it; nothing was lost, and \
             the next run writes what is missing"
        }
        Some(392) => {
            "; the user may not run DDL (allow_ddl=0) and the database needs this change: \
             run ccusage-import once as a user who may"
        }
        _ => "",
    }
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}
