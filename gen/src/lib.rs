//! Generated `.agent` programs, shared by agentc's unit and integration tests, its
//! benchmarks and its fuzz targets: one copy of each generator, no `#[path]` includes.

pub mod forms;
pub mod layout;
pub mod programs;
pub mod scenarios;
pub mod shapes;
