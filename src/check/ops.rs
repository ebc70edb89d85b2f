//! Lowering of the AST's operators to the IR's (`ir::ops`): the one place the two meet.

use crate::ir;
use crate::syntax::ast;

pub(super) fn unary(op: ast::UnOp) -> ir::UnOp {
    match op {
        ast::UnOp::Neg => ir::UnOp::Neg,
        ast::UnOp::Not => ir::UnOp::Not,
    }
}

pub(super) fn binary(op: ast::BinOp) -> ir::BinOp {
    use ast::BinOp as A;
    use ir::BinOp as I;
    match op {
        A::Add => I::Add,
        A::Sub => I::Sub,
        A::Mul => I::Mul,
        A::Div => I::Div,
        A::Rem => I::Rem,
        A::Eq => I::Eq,
        A::Ne => I::Ne,
        A::Lt => I::Lt,
        A::Le => I::Le,
        A::Gt => I::Gt,
        A::Ge => I::Ge,
        A::And => I::And,
        A::Or => I::Or,
        A::Coalesce => I::Coalesce,
        A::In => I::In,
    }
}

#[cfg(test)]
mod tests {
    use crate::syntax::ast::BinOp;

    /// The runtime's messages name an operator as the source wrote it.
    #[test]
    fn a_lowered_operator_keeps_its_symbol() {
        for op in BinOp::ALL {
            assert_eq!(super::binary(op).symbol(), op.symbol(), "{op:?}");
        }
    }
}
