//! A program with many scenario tests, for the runner's speed benchmark and its tests: a chat
//! agent that looks orders up over HTTP, tags, counts and replies; each test mocks its own
//! order, sends a few events and checks what happened.

pub fn program(tests: usize) -> String {
    let mut text = String::from(HEADER);
    for i in 0..tests {
        text.push_str(&scenario(i));
    }
    text
}

const HEADER: &str = r#"agent shop {
    channels: [chat]
    inactivity: 5m
    params: {
        order_id: text
        order: record
        lookups: number = 0
    }
}

target orders: http {
    base_url: "https://orders.example/v2"
    auth: bearer(secret("ORDERS_TOKEN"))
}

task get_order(id: text) on orders {
    method: GET
    path: "/orders/{id}"
    result: { status: response.body.status, eta: response.body.eta }
}

reply welcome { text: "Hi {user.name ?? "there"}!" }
reply still_there { text: "Still there?" }
reply status { text: "Order {order_id} is {order.status}." }

action remember_order {
    target: conversation
    task: set(order_id: event.params.order_id)
    when: event.params.order_id != null
}

action look_up {
    target: orders
    task: get_order(order_id)
    save: order
    when: order_id != null
}

action count_lookup {
    target: conversation
    task: increment(lookups)
    when: order != null
}

action tag_late {
    target: conversation
    task: add_label("late")
    when: order.status == "delayed"
}

action tell_status {
    target: conversation
    task: reply(status)
    when: order != null
}

on conversation_started reply welcome
on conversation_inactive reply still_there
on message_received do remember_order, look_up, count_lookup, tag_late, tell_status
"#;

fn scenario(i: usize) -> String {
    if i.is_multiple_of(2) {
        let status = if i.is_multiple_of(4) {
            "delayed"
        } else {
            "shipped"
        };
        let late = if status == "delayed" {
            "expect label \"late\""
        } else {
            "expect not label \"late\""
        };
        format!(
            r#"
test "order {i} is looked up" {{
    mock orders GET "/orders/O-{i}" -> 200 {{ status: "{status}", eta: "2026-01-0{d}" }}
    send conversation_started {{ user: {{ name: "Customer {i}" }} }}
    expect reply "Hi Customer {i}!"
    send message_received {{ text: "where is O-{i}?", params: {{ order_id: "O-{i}" }} }}
    expect ran look_up
    expect request orders GET "/orders/O-{i}"
    expect param order.status == "{status}"
    expect param lookups == 1
    {late}
    expect reply "Order O-{i} is {status}."
}}
"#,
            d = i % 9 + 1
        )
    } else {
        format!(
            r#"
test "visitor {i} without an order" {{
    send conversation_started
    expect reply welcome
    send message_received {{ text: "hello {i}" }}
    expect not ran look_up
    send wait 5m
    expect reply still_there
    expect param lookups == 0
    expect status "active"
}}
"#
        )
    }
}
