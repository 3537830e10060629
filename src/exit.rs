//! Exit codes: one table, shown in `--help` and the README.

/// How a run ended. The numeric values are a documented interface: cron wrappers and
/// scripts branch on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Every report was imported (or every `--verify` check passed).
    Ok = 0,
    /// Anything not covered below.
    Other = 1,
    /// Bad usage or configuration (clap also exits 2 on a bad flag).
    Usage = 2,
    /// ClickHouse failed: connection, authentication, schema or write.
    ClickHouse = 3,
    /// One or more ccusage reports failed; the others were imported.
    Reports = 4,
    /// Another import holds the lock.
    Locked = 5,
    /// Stopped by Ctrl-C (SIGINT), 128 + 2 as shells report it.
    Interrupted = 130,
    /// Stopped by SIGTERM, 128 + 15.
    Terminated = 143,
    /// Stopped by SIGHUP (the terminal closed), 128 + 1.
    Hangup = 129,
    /// Stopped by SIGQUIT, 128 + 3.
    Quit = 131,
    /// Stopped by SIGUSR1, 128 + 10.
    User1 = 138,
    /// Stopped by SIGUSR2, 128 + 12.
    User2 = 140,
    /// Stopped by SIGALRM, 128 + 14.
    Alarm = 142,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

/// An error that knows its exit code. Errors without one exit with [`Exit::Other`].
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Failure {}

/// Tags an error with the exit code it should end the program with.
pub trait ExitContext<T> {
    fn exit_code(self, exit: Exit) -> Result<T, Failure>;
}

impl<T> ExitContext<T> for anyhow::Result<T> {
    fn exit_code(self, exit: Exit) -> Result<T, Failure> {
        self.map_err(|error| Failure { exit, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_documented_table() {
        let table = [
            (Exit::Ok, 0),
            (Exit::Other, 1),
            (Exit::Usage, 2),
            (Exit::ClickHouse, 3),
            (Exit::Reports, 4),
            (Exit::Locked, 5),
            (Exit::Interrupted, 130),
            (Exit::Terminated, 143),
            (Exit::Hangup, 129),
            (Exit::Quit, 131),
            (Exit::User1, 138),
            (Exit::User2, 140),
            (Exit::Alarm, 142),
        ];
        for (exit, code) in table {
            assert_eq!(exit.code(), code);
        }
    }
}
