//! Transform: ccusage's JSON → typed rows. Pure: no I/O, no clock.

pub mod json;
pub mod rows;
