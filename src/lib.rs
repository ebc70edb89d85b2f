//! agentc: a toolchain for `.agent` files. Data flows one way:
//! source → [`syntax`] → [`check`] → [`ir`] → [`runtime`]. [`catalogue`] is the table of
//! built-ins that every layer reads; [`diagnostics`] is plain data; [`cli`] is the only layer
//! that knows about the terminal.

pub mod catalogue;
pub mod check;
pub mod cli;
pub mod diagnostics;
pub mod fmt;
pub mod ide;
pub mod ir;
pub mod printable;
pub mod runtime;
pub mod serve;
pub mod syntax;
pub mod testing;
