//! The IR's own operators. They are not the AST's (`syntax::ast::{UnOp, BinOp}`): lowering
//! maps one onto the other (`check::ops`), so renaming a syntax node cannot change the words
//! an IR file holds. The words are pinned by `tests::every_operator_has_its_ir_word`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    /// `??`
    Coalesce,
    /// `x in list`
    In,
}

impl BinOp {
    /// The operator as the source writes it, for the runtime's messages (`` `/` by zero ``).
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Coalesce => "??",
            BinOp::In => "in",
        }
    }

    /// A comparison or a logical operator: its result is a fresh bool.
    pub fn yields_bool(self) -> bool {
        use BinOp::*;
        matches!(self, Eq | Ne | Lt | Le | Gt | Ge | And | Or | In)
    }
}

#[cfg(test)]
mod tests {
    use super::{BinOp, UnOp};

    /// The words docs/ir.md lists; changing one is an IR change (bump `IR_VERSION`).
    #[test]
    fn every_operator_has_its_ir_word() {
        let binary = [
            (BinOp::Add, "Add"),
            (BinOp::Sub, "Sub"),
            (BinOp::Mul, "Mul"),
            (BinOp::Div, "Div"),
            (BinOp::Rem, "Rem"),
            (BinOp::Eq, "Eq"),
            (BinOp::Ne, "Ne"),
            (BinOp::Lt, "Lt"),
            (BinOp::Le, "Le"),
            (BinOp::Gt, "Gt"),
            (BinOp::Ge, "Ge"),
            (BinOp::And, "And"),
            (BinOp::Or, "Or"),
            (BinOp::Coalesce, "Coalesce"),
            (BinOp::In, "In"),
        ];
        for (op, word) in binary {
            let json = serde_json::to_string(&op).unwrap();
            assert_eq!(json, format!("\"{word}\""));
            assert_eq!(serde_json::from_str::<BinOp>(&json).unwrap(), op);
        }
        for (op, word) in [(UnOp::Neg, "Neg"), (UnOp::Not, "Not")] {
            assert_eq!(serde_json::to_string(&op).unwrap(), format!("\"{word}\""));
        }
    }
}
