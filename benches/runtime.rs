//! Runtime figures (issue 3, "Speed"):
//! - conversation-only actions dispatched per second (target ≥ 1,000,000/s, ≤ 1 µs each);
//! - HTTP actions at concurrency 16 against a local server, next to a bare reqwest loop
//!   against the same server (target ≥ 0.9× its throughput, issue 14), and to a reqwest loop
//!   that also sets a timeout and parses the JSON answer, as an action does;
//! - memory of 10,000 concurrent idle conversations (target ≤ 20 KB each), measured with a
//!   counting global allocator and printed before the timings.
//!
//! `cargo bench --bench runtime`

use agentc::check::{check_program, MemoryLoader};
use agentc::diagnostics::SourceMap;
use agentc::ir::{Program, Value};
use agentc::runtime::executors::{self, ExecutorOptions};
use agentc::runtime::{Event, EventKind, MapEnv, Runtime};
use criterion::{criterion_group, Criterion, Throughput};
use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

/// Counts the bytes currently allocated, on mimalloc: the allocator of the `agentc` binary
/// (`src/allocator.rs`), so the timings are the tool's.
struct Counting;

static ALLOCATED: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as isize, Ordering::Relaxed);
        MiMalloc.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as isize, Ordering::Relaxed);
        MiMalloc.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        MiMalloc.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        MiMalloc.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn compile(source: &str) -> Program {
    let mut sources = SourceMap::new();
    let root = sources.add("bench.agent", source);
    let checked = check_program(&mut sources, root, &mut MemoryLoader::new());
    match checked.program {
        Some(program) => program,
        None => panic!(
            "the bench program does not check: {:#?}",
            checked.diagnostics
        ),
    }
}

/// One event runs `ACTIONS_PER_EVENT` conversation-only actions.
const ACTIONS_PER_EVENT: usize = 1_000;

fn conversation_program() -> Program {
    let names: Vec<String> = (0..ACTIONS_PER_EVENT / 4)
        .flat_map(|i| {
            [
                format!("count_{i}"),
                format!("flag_{i}"),
                format!("tag_{i}"),
                format!("check_{i}"),
            ]
        })
        .collect();
    let mut source = String::from(
        "agent bench {\n  channels: [chat]\n  inactivity: 5m\n  params: { counter: number = 0, vip: bool = false, tier: text = \"gold\" }\n}\n",
    );
    for i in 0..ACTIONS_PER_EVENT / 4 {
        source += &format!(
            "action count_{i} {{ target: conversation\n task: increment(counter)\n when: counter >= 0 }}\n\
             action flag_{i} {{ target: conversation\n task: set(vip: tier == \"gold\") }}\n\
             action tag_{i} {{ target: conversation\n task: add_label(\"vip\")\n when: vip }}\n\
             action check_{i} {{ target: conversation\n task: verify(counter > 0, message: \"no count\") }}\n"
        );
    }
    source += &format!("on message_received do {}\n", names.join(", "));
    compile(&source)
}

fn message(conversation: &str) -> Event {
    Event::new(
        conversation,
        EventKind::Named("message_received".into()),
        Value::Record(
            [("text".to_string(), Value::Text("hi".into()))]
                .into_iter()
                .collect(),
        ),
    )
}

fn conversation_actions(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let runtime =
        tokio.block_on(async { Runtime::builder(conversation_program()).build().unwrap() });
    let mut group = c.benchmark_group("conversation actions");
    group.throughput(Throughput::Elements(ACTIONS_PER_EVENT as u64));
    group.bench_function("1000 actions per event, untraced", |b| {
        b.iter(|| {
            tokio.block_on(async {
                runtime.send(message("c-1"));
                runtime.settle().await;
            })
        })
    });
    group.finish();
}

/// Memory held by 10,000 conversations that each handled one event and now wait, with an
/// inactivity timer armed.
fn idle_conversation_memory() {
    const CONVERSATIONS: usize = 10_000;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let program = compile(
        "agent bench {\n  channels: [chat]\n  inactivity: 5m\n  params: { order_id: text, attempts: number = 0, customer: record }\n}\n\
         reply welcome { text: \"Hi {user.name ?? \"there\"}!\" }\n\
         on conversation_started reply welcome\n",
    );
    tokio.block_on(async {
        let runtime = Runtime::builder(program).build().unwrap();
        let before = ALLOCATED.load(Ordering::SeqCst);
        for i in 0..CONVERSATIONS {
            let payload = serde_json::json!({"user": {"id": format!("u-{i}"), "name": "Ana"}});
            runtime.send(Event::new(
                format!("conversation-{i}"),
                EventKind::Named("conversation_started".into()),
                Value::from_json(&payload),
            ));
        }
        runtime.settle().await;
        let after = ALLOCATED.load(Ordering::SeqCst);
        let per = (after - before) as f64 / CONVERSATIONS as f64;
        println!(
            "memory: {CONVERSATIONS} idle conversations hold {:.1} MB, {:.0} bytes ({:.1} KB) each (target ≤ 20 KB)",
            (after - before) as f64 / 1e6,
            per,
            per / 1024.0
        );
        drop(runtime.finish().await);
    });
}

/// A local HTTP server answering every request with a small JSON body.
async fn local_server() -> std::net::SocketAddr {
    let app = axum::Router::new()
        .fallback(|| async { axum::Json(serde_json::json!({"ok": true, "id": 42})) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

const CONCURRENCY: usize = 16;
const REQUESTS_PER_WORKER: usize = 50;

fn http_actions(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = tokio.block_on(local_server());
    let program = compile(&format!(
        "agent bench {{ channels: [chat] }}\n\
         target api: http {{ base_url: \"http://{addr}\", allow_hosts: [\"127.0.0.1\"] }}\n\
         action fetch {{ target: api\n task: get(\"/orders/1\") }}\n\
         on message_received do fetch\n"
    ));
    let runtime = tokio.block_on(async {
        Runtime::builder(program)
            .env(MapEnv::default())
            .executor_factory(Arc::new(|target, fields| {
                executors::build(target, fields, &ExecutorOptions::default())
            }))
            .build()
            .unwrap()
    });
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/orders/1");
    let mut group = c.benchmark_group("http actions, concurrency 16");
    group.throughput(Throughput::Elements(
        (CONCURRENCY * REQUESTS_PER_WORKER) as u64,
    ));
    group.sample_size(20);
    group.bench_function("agentc runtime", |b| {
        b.iter(|| {
            tokio.block_on(async {
                for _ in 0..REQUESTS_PER_WORKER {
                    for worker in 0..CONCURRENCY {
                        runtime.send(message(&format!("w-{worker}")));
                    }
                }
                runtime.settle().await;
            })
        })
    });
    group.bench_function("bare reqwest", |b| {
        b.iter(|| {
            tokio.block_on(on_workers(&client, &url, |client, url| async move {
                for _ in 0..REQUESTS_PER_WORKER {
                    let body = client
                        .get(&url)
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap();
                    assert!(!body.is_empty());
                }
            }))
        })
    });
    // What an action does besides the request: a timer on it, and the JSON answer parsed.
    group.bench_function("reqwest, timeout and JSON parse", |b| {
        b.iter(|| {
            tokio.block_on(on_workers(&client, &url, |client, url| async move {
                for _ in 0..REQUESTS_PER_WORKER {
                    let body = client
                        .get(&url)
                        .timeout(std::time::Duration::from_secs(10))
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap();
                    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    assert!(answer.is_object());
                }
            }))
        })
    });
    group.finish();
}

/// `worker` run on `CONCURRENCY` tasks at once, each with its own handle on the client.
async fn on_workers<F, Fut>(client: &reqwest::Client, url: &str, worker: F)
where
    F: Fn(reqwest::Client, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| tokio::spawn(worker(client.clone(), url.to_string())))
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
}

criterion_group!(benches, conversation_actions, http_actions);

fn main() {
    idle_conversation_memory();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
