//! One integration-test binary: a real ClickHouse server, real ccusage on generated logs, and a
//! stand-in ccusage for what cannot be produced for real. Each test has its own database.

mod attack;
mod bad_input;
mod cluster;
mod config;
mod dashboard;
mod dry_run;
mod faults;
mod fleet;
mod harness;
mod hostile;
mod hours;
mod import;
mod integrity;
mod join;
mod names;
mod projects;
mod proxy;
mod queries;
mod report;
mod secrets;
mod sequences;
mod sessions;
mod tls;
mod versions;
