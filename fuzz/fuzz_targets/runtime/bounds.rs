//! What the runtime promises about the values it keeps, checked against its own [`Limits`]:
//! no stored param, scope or saved value nests deeper, holds a longer list or a longer text
//! than the limits allow, however hostile the events and the services were.

use agentc::ir::Value;
use agentc::runtime::{ConversationState, Limits};
use serde_json::Value as Json;

/// The deepest a kept value may nest (a scalar is 0 deep, `[1]` 1).
fn max_depth(limits: &Limits) -> usize {
    limits.value.max_depth
}

/// A conversation's final params and scopes respect the limits.
pub fn check_state(state: &ConversationState, limits: &Limits) {
    let scopes = [("user", &state.user), ("caller", &state.caller)];
    let params = state
        .params
        .iter()
        .map(|(name, value)| (name.as_str(), value));
    for (name, value) in params.chain(scopes) {
        let what = format!("conversation `{}`: `{name}`", state.id);
        // The runtime's own measure (depth and memory), then the shape bounds.
        if let Err(breach) = value.measure(&limits.value) {
            panic!("{what}: {breach}");
        }
        Shape::of(Item::Value(value)).check(&what, limits);
    }
}

/// A value in the trace (saved by an action, or a final param) respects the limits.
pub fn check_traced(json: &Json, what: &str, limits: &Limits) {
    Shape::of(Item::Json(json)).check(what, limits);
}

/// A value as the runtime holds it or as the trace shows it.
#[derive(Clone, Copy)]
enum Item<'a> {
    Value(&'a Value),
    Json(&'a Json),
}

/// How far a value reaches: its depth, its longest list and its longest text.
#[derive(Default)]
struct Shape {
    depth: usize,
    items: usize,
    text: usize,
}

impl Shape {
    fn check(&self, what: &str, limits: &Limits) {
        assert!(
            self.depth <= max_depth(limits),
            "{what} nests {} deep, past the limit of {}",
            self.depth,
            max_depth(limits)
        );
        assert!(
            self.items <= limits.max_list_items,
            "{what} holds a list of {} items, past the limit of {}",
            self.items,
            limits.max_list_items
        );
        assert!(
            self.text <= limits.max_text_bytes,
            "{what} holds a text of {} bytes, past the limit of {}",
            self.text,
            limits.max_text_bytes
        );
    }
}

impl Shape {
    /// Measures without recursing: a value past every bound must still be measured.
    fn of(item: Item) -> Shape {
        let mut shape = Shape::default();
        let mut pending = vec![(item, 0)];
        while let Some((item, depth)) = pending.pop() {
            shape.depth = shape.depth.max(depth);
            let children: Vec<Item> = match item {
                Item::Value(Value::Text(text)) => {
                    shape.text = shape.text.max(text.len());
                    continue;
                }
                Item::Json(Json::String(text)) => {
                    shape.text = shape.text.max(text.len());
                    continue;
                }
                Item::Value(Value::List(items)) => {
                    shape.items = shape.items.max(items.len());
                    items.iter().map(Item::Value).collect()
                }
                Item::Json(Json::Array(items)) => {
                    shape.items = shape.items.max(items.len());
                    items.iter().map(Item::Json).collect()
                }
                Item::Value(Value::Record(fields)) => fields.values().map(Item::Value).collect(),
                Item::Json(Json::Object(fields)) => fields.values().map(Item::Json).collect(),
                _ => continue,
            };
            pending.extend(children.into_iter().map(|child| (child, depth + 1)));
        }
        shape
    }
}
