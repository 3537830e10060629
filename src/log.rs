//! `--verbose`: what the importer does and how long it takes, on stderr. Messages never hold
//! the password: URLs cannot carry credentials, and the password is never formatted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::transform::projects::Projects;

static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn enable(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

static REDACTOR: OnceLock<Arc<Projects>> = OnceLock::new();

/// In hash and hidden runs verbose lines lose what could name a project, like errors do.
pub fn redact_with(projects: Arc<Projects>) {
    let _ = REDACTOR.set(projects);
}

pub fn emit(line: String) {
    let line = match REDACTOR.get() {
        Some(projects) => projects.redact(&line),
        None => line,
    };
    eprintln!("ccusage-import: verbose: {line}");
}

/// Prints a `ccusage-import: verbose:` line on stderr when `--verbose` is on.
macro_rules! verbose {
    ($($arg:tt)*) => {
        if $crate::log::enabled() {
            $crate::log::emit(format!($($arg)*));
        }
    };
}
pub(crate) use verbose;
