//! Expressions typed at the prompt: checked against the session's program, evaluated in the
//! session's conversation, printed with their type.

use super::render::Printer;
use super::session::Session;

impl Session {
    pub fn evaluate(&mut self, out: &mut Printer, _text: &str) {
        out.error("expressions are waiting for the checker (branch `check`)");
    }

    pub fn type_of(&mut self, out: &mut Printer, _text: &str) {
        out.error("`:type` is waiting for the checker (branch `check`)");
    }
}
