//! What the `agentc serve` tests share: the real binary started on a free loopback port
//! with its own SQLite file, and a counting HTTP service (requests per idempotency key).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A program whose `message_received` opens a ticket (a POST with a side effect) on the
/// counting service, and whose `usecase lookup` reads one (a GET).
pub fn program(dir: &Path, service: SocketAddr, hello: &str) -> PathBuf {
    let source = format!(
        r#"agent desk {{
  channels: [chat]
  params: {{ ticket: record, found: record }}
}}

target api: http {{
  base_url: "http://{service}"
  allow_hosts: ["127.0.0.1"]
  timeout: 30s
}}

reply hello {{ text: "{hello} {{user.name ?? "there"}}" }}
reply sorry {{ text: "Sorry!" }}

on conversation_started reply hello
on message_received do open_ticket

usecase lookup {{
  description: "Looks a ticket up"
}}

in usecase lookup do find_ticket

action open_ticket {{
  target: api
  task: post("/tickets", body: {{ subject: event.text ?? "" }})
  save: ticket
  on_failure: apologise
}}

action find_ticket {{
  target: api
  task: get("/tickets/T-1")
  save: found
}}

action apologise {{
  target: conversation
  task: reply(sorry)
}}
"#
    );
    let file = dir.join("desk.agent");
    std::fs::write(&file, source).unwrap();
    file
}

/// Requests the counting service received, by idempotency key (GETs by path).
#[derive(Clone, Default)]
pub struct Counts(Arc<Mutex<HashMap<String, u32>>>);

impl Counts {
    pub fn get(&self, key: &str) -> u32 {
        self.0.lock().unwrap().get(key).copied().unwrap_or(0)
    }
    pub fn all(&self) -> HashMap<String, u32> {
        self.0.lock().unwrap().clone()
    }
    /// Waits (bounded) until the service has received `n` requests.
    pub async fn wait_for(&self, n: u32) {
        for _ in 0..400 {
            if self.all().values().sum::<u32>() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the service received {:?}", self.all());
    }
}

/// How the counting service answers: after `delay`; `hang` never (until the test ends).
#[derive(Clone, Default)]
pub struct Behaviour {
    pub delay: Arc<Mutex<Duration>>,
    pub hang: Arc<std::sync::atomic::AtomicBool>,
}

/// An event POSTed while the service holds its answers, once the service has its request
/// (`counts` reaching `n`): a side effect in flight, for a test that kills the server next.
/// The task ends with the server's answer, or with its failure once the server is gone.
pub async fn in_flight(
    behaviour: &Behaviour,
    counts: &Counts,
    url: &str,
    event: &str,
    n: u32,
) -> tokio::task::JoinHandle<reqwest::Result<(u16, serde_json::Value)>> {
    behaviour
        .hang
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (url, event) = (url.to_string(), event.to_string());
    let cut = tokio::spawn(async move { post(&client(), &url, &event).await });
    counts.wait_for(n).await;
    cut
}

/// Starts the counting service on its own thread's runtime; it lives as long as the test.
pub fn counting_service() -> (SocketAddr, Counts, Behaviour) {
    let counts = Counts::default();
    let behaviour = Behaviour::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let (c, b) = (counts.clone(), behaviour.clone());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
                let (c, b) = (c.clone(), b.clone());
                async move {
                    let key = request
                        .headers()
                        .get("idempotency-key")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("GET {}", request.uri().path()));
                    let n = {
                        let mut counts = c.0.lock().unwrap();
                        let n = counts.entry(key).or_default();
                        *n += 1;
                        counts.values().sum::<u32>()
                    };
                    if b.hang.load(std::sync::atomic::Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    let delay = *b.delay.lock().unwrap();
                    tokio::time::sleep(delay).await;
                    // A service that echoes what it was sent: the test of redaction.
                    let echo = request
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    axum::Json(serde_json::json!({ "id": format!("T-{n}"), "echo": echo }))
                }
            });
            axum::serve(listener, app).await.unwrap();
        });
    });
    (rx.recv().unwrap(), counts, behaviour)
}

/// A running `agentc serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `agentc serve PROGRAM --listen 127.0.0.1:0 --store sqlite://DIR/journal.sqlite`
    /// plus `args`, and waits for the address it prints.
    pub fn start(dir: &Path, args: &[&str]) -> Server {
        Server::start_with_env(dir, args, &[])
    }

    pub fn start_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_on(dir, "sqlite://journal.sqlite", args, env)
    }

    /// Like [`Self::start_with_env`], journaling in `store`.
    pub fn start_on(dir: &Path, store: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("agentc"))
            .current_dir(dir)
            .envs(env.iter().copied())
            .args(["serve", "desk.agent", "--listen", "127.0.0.1:0"])
            .args(["--store", store])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut errors = BufReader::new(child.stderr.take().unwrap());
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while errors.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("agentc serve: listening on ")
            .unwrap_or_else(|| panic!("no address in {line:?}: {}", stderr.lock().unwrap()))
            .to_string();
        Server { child, url, stderr }
    }

    pub fn signal(&self, name: &str) {
        crate::support::signal(&self.child, name);
    }

    /// Waits (bounded) for the process to exit; its status code.
    pub fn wait(&mut self, within: Duration) -> Option<i32> {
        crate::support::exit_within(&mut self.child, within)?.code()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// POSTs an event; the status and the JSON answer.
pub async fn post(
    client: &reqwest::Client,
    server: &str,
    body: &str,
) -> reqwest::Result<(u16, serde_json::Value)> {
    post_to(client, server, "/v1/events", body).await
}

/// POSTs a JSON body to `route` (`/webhook`); the status and the JSON answer.
pub async fn post_to(
    client: &reqwest::Client,
    server: &str,
    route: &str,
    body: &str,
) -> reqwest::Result<(u16, serde_json::Value)> {
    let response = client
        .post(format!("{server}{route}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or_default()))
}

/// A fresh database on the PostgreSQL server of `AGENTC_TEST_POSTGRES_URL` (.ci/postgres.sh),
/// its URL; `None` (the test is skipped) without one, unless `AGENTC_REQUIRE_POSTGRES=1`.
pub async fn fresh_postgres() -> Option<String> {
    let Ok(url) = std::env::var("AGENTC_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("AGENTC_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "AGENTC_REQUIRE_POSTGRES=1 but AGENTC_TEST_POSTGRES_URL is not set"
        );
        eprintln!("note: skipping the PostgreSQL test (set AGENTC_TEST_POSTGRES_URL, see .ci/postgres.sh)");
        return None;
    };
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let name = format!("agentc_serve_{:016x}", rand::random::<u64>());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}

/// The text of `/metrics`.
pub async fn metrics(client: &reqwest::Client, server: &str) -> String {
    let response = client
        .get(format!("{server}/metrics"))
        .send()
        .await
        .unwrap();
    response.text().await.unwrap()
}

pub async fn get(client: &reqwest::Client, url: &str) -> (u16, serde_json::Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// A TCP proxy to `upstream` (a PostgreSQL server) that a test cuts and restores. Cut,
/// it forwards nothing, as across a network partition: the connections through it stall,
/// and a new one is accepted but never answered. Restored, the stalled connections are
/// closed (as a partition's end finds them) and new ones go through.
pub struct Proxy {
    pub address: SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (cut, state) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(pipe(client, upstream, state.clone()));
            }
        });
        Proxy { address, cut }
    }

    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    pub fn restore(&self) {
        self.cut.send_replace(false);
    }

    /// `url` (`postgres://USER@HOST:PORT/DATABASE`) through this proxy.
    pub fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, path) = rest.split_once('/').unwrap();
        let user = authority
            .rsplit_once('@')
            .map(|(user, _)| format!("{user}@"));
        format!(
            "{scheme}://{}{}/{path}",
            user.unwrap_or_default(),
            self.address
        )
    }
}

/// The host and port of a `postgres://` URL.
pub fn address_of(url: &str) -> SocketAddr {
    let (_, rest) = url.split_once("://").unwrap();
    let authority = rest.split('/').next().unwrap();
    let host = authority.rsplit('@').next().unwrap();
    host.parse().unwrap()
}

async fn pipe(
    mut client: tokio::net::TcpStream,
    upstream: SocketAddr,
    mut cut: tokio::sync::watch::Receiver<bool>,
) {
    if *cut.borrow() {
        let _ = cut.wait_for(|cut| !cut).await;
        return;
    }
    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
        return;
    };
    let stalled = tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => false,
        _ = cut.wait_for(|cut| *cut) => true,
    };
    if stalled {
        // Both ends stay open, silent, until the proxy is restored.
        let _ = cut.wait_for(|cut| !cut).await;
    }
}
