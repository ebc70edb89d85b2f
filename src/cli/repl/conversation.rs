//! The session's conversation: events fired with `:send`, its state, mocks and dry runs,
//! through the real interpreter.

use super::render::Printer;
use super::session::Session;

impl Session {
    pub fn send(&mut self, out: &mut Printer, _what: &str) {
        out.error("`:send` is waiting for the interpreter (branch `runtime`)");
    }

    pub fn state(&mut self, out: &mut Printer) {
        out.error("`:state` is waiting for the interpreter (branch `runtime`)");
    }

    pub fn reset(&mut self, out: &mut Printer) {
        out.error("`:reset` is waiting for the interpreter (branch `runtime`)");
    }

    pub fn mock(&mut self, out: &mut Printer, _rule: &str) {
        out.error("`:mock` is waiting for the mock services (branch `executors`)");
    }
}
