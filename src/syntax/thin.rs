//! The tree's lists are [`ThinVec`]s: one pointer in the node that holds them (length and
//! capacity sit in the allocation, and an empty list allocates nothing), so a list, a
//! record or a string is no larger than any other expression.

pub use thin_vec::ThinVec;

/// `items` in a list of exactly their number: a tree keeps its lists for life, and a list
/// grown one element at a time would keep room for more (a call's one argument, a
/// string's one part).
pub fn exact<T>(items: impl ExactSizeIterator<Item = T>) -> ThinVec<T> {
    let mut list = ThinVec::with_capacity(items.len());
    list.extend(items);
    list
}
