//! Transform: ccusage's JSON → typed rows. Pure: no I/O, no clock.

pub mod derive;
pub mod json;
pub mod rows;
