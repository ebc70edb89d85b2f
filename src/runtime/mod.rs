//! The async interpreter: runs a compiled [`crate::ir::Program`] against events.

pub mod effects;
pub mod executors;
pub mod mock;
