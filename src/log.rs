//! `--verbose`: what the importer does and how long it takes, on stderr. Messages never hold
//! the password: URLs cannot carry credentials, and the password is never formatted.

use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn enable(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Prints a `ccusage-import: verbose:` line on stderr when `--verbose` is on.
macro_rules! verbose {
    ($($arg:tt)*) => {
        if $crate::log::enabled() {
            eprintln!("ccusage-import: verbose: {}", format_args!($($arg)*));
        }
    };
}
pub(crate) use verbose;
