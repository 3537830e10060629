//! Output: what a person (or a script) sees of a run. The pipeline talks to a [`Reporter`];
//! only this module knows about terminals.

#[cfg(test)]
pub mod fixture;
pub mod format;
pub mod json;
pub mod live;
pub mod summary;

pub use crate::run::{Reporter, Silent};
pub use live::Live;
