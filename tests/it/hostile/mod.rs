//! The hostile-input suite: what a chat user, a service, an event stream or a program in a
//! pull request can send, one module per kind of attack. Every test here failed before the
//! fix it guards (issue 9); ARCHITECTURE.md names the invariant each module keeps.

mod egress;
mod inputs;
mod lifecycle;
mod pipes;
mod secrets;
mod values;
