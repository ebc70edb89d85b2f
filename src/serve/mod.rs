//! `agentc serve`: a program behind an HTTP API, durable (docs/serve.md). The HTTP front
//! (`api`, `listen`, `auth`, `inbound`, `errors`), the per-conversation actors and recovery
//! (`hub`), the journal's hooks into the runtime (`journal`) and the store (`store`).
//! Logs go through `tracing`; the CLI chooses where they are written and prints nothing
//! itself but the address it listens on.

mod answer;
mod api;
mod auth;
mod errors;
mod hub;
mod inbound;
mod journal;
mod listen;
mod metrics;
pub mod rasa;
pub mod store;

pub use api::OPENAPI;
pub use auth::{signature, Auth, SIGNATURE_HEADER, TIMESTAMP_HEADER};
pub use errors::ErrorCode;

use crate::ir;
use metrics::Metrics;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{watch, Semaphore};

/// Everything `agentc serve` is configured by (flags or `AGENTC_*` variables).
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    /// `sqlite://PATH` (or a bare path), or `postgres://…` (shared by several nodes).
    pub store: String,
    /// On PostgreSQL, how long a node's hold on a conversation lasts unless renewed: a node
    /// that dies loses its conversations after it.
    pub lease: Duration,
    /// How long a conversation with nothing to do stays in memory.
    pub evict_after: Duration,
    pub auth: Auth,
    /// How long `POST /v1/events` waits for the event's answer.
    pub deadline: Duration,
    pub max_body: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_concurrent: usize,
    /// How long a stop waits for the requests in flight.
    pub drain: Duration,
}

/// Loads and checks the program (again on SIGHUP); `Err` says why it cannot run.
pub type Loader = Arc<dyn Fn() -> Result<ir::Program, String> + Send + Sync>;

/// The settings themselves are coherent: a server reachable from other machines needs a
/// token or a signing secret.
pub fn validate(settings: &Settings) -> Result<(), String> {
    if settings.auth.is_open() && !settings.listen.ip().is_loopback() {
        return Err(format!(
            "refusing to listen on {} without a token or a signing secret: set --token \
             (AGENTC_TOKEN) or --signing-secret (AGENTC_SIGNING_SECRET), or listen on a \
             loopback address",
            settings.listen
        ));
    }
    if settings.lease < Duration::from_millis(300) {
        return Err("--lease must be at least 300ms (it is renewed every third of it)".into());
    }
    if settings.max_concurrent == 0 {
        return Err("--max-concurrent must be at least 1".into());
    }
    Ok(())
}

/// Opens the store a URL names.
pub async fn open_store(
    url: &str,
    lease: Duration,
    metrics: Arc<Metrics>,
) -> Result<Arc<dyn Store>, String> {
    if store::postgres::is_url(url) {
        let store = store::postgres::Postgres::open(url, lease, metrics)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(Arc::new(store));
    }
    let path = store::sqlite::path_of(url).unwrap_or(url);
    if path.contains("://") {
        return Err(format!(
            "`{}` is no store URL: write sqlite://PATH",
            crate::printable::escape(url)
        ));
    }
    let store = store::sqlite::Sqlite::open(path, metrics)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(store))
}

/// `agentc serve --check`: the settings, the program and the store.
pub async fn check(settings: &Settings, load: &Loader) -> Result<(), String> {
    validate(settings)?;
    load()?;
    let store = open_store(&settings.store, settings.lease, Arc::default()).await?;
    store.ping().await.map_err(|e| e.to_string())
}

/// Serves until SIGTERM or SIGINT, then drains. `listening` is told the bound address.
pub async fn run(
    settings: Settings,
    load: Loader,
    listening: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    validate(&settings)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut hangup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    let program = load()?;
    let metrics = Arc::new(Metrics::default());
    let store = open_store(&settings.store, settings.lease, metrics.clone()).await?;
    // Waiting one lease (and a little) is enough for a dead node's hold to pass.
    let lease_wait = settings.lease + Duration::from_secs(1);
    // A dead node's timers are taken over about as often as leases are renewed.
    let sweep_every = settings.lease / 3;
    let (hub, replayed) = hub::Hub::start(
        program,
        store.clone(),
        settings.evict_after,
        lease_wait,
        sweep_every,
    )
    .await?;
    if replayed > 0 {
        tracing::info!(replayed, "finished the events accepted before the restart");
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    if settings.auth.is_open() {
        tracing::warn!(
            "no token or signing secret configured: the API is open to anyone on this machine"
        );
    }
    let (stop_tx, stop) = watch::channel(false);
    let app = Arc::new(api::App {
        hub: hub.clone(),
        store,
        auth: settings.auth.clone(),
        deadline: settings.deadline,
        max_body: settings.max_body,
        body_timeout: settings.body_timeout,
        permits: Arc::new(Semaphore::new(settings.max_concurrent)),
        stopping: AtomicBool::new(false),
        stop: stop.clone(),
        metrics,
    });
    let server = tokio::spawn(listen::serve(
        listener,
        api::router(app.clone()),
        settings.header_timeout,
        stop,
        settings.drain,
    ));
    tracing::info!(%address, "listening");
    listening(address);
    loop {
        tokio::select! {
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
            _ = hangup.recv() => reload(&hub, &load).await,
        }
    }
    tracing::info!("stopping: no new request is accepted; finishing those in flight");
    app.stopping
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = stop_tx.send(true);
    let drained = server.await.unwrap_or(false);
    if !drained {
        tracing::warn!(
            "some requests were still running at the end of the drain; their events are \
             journaled and finish at the next start"
        );
    }
    hub.flush().await?;
    tracing::info!("stopped");
    Ok(())
}

/// SIGHUP: the program is read and checked again; one that does not check is refused.
async fn reload(hub: &hub::Hub, load: &Loader) {
    let program = match load() {
        Ok(program) => program,
        Err(e) => {
            tracing::error!("reload refused, the running program stays: {e}");
            return;
        }
    };
    match hub.reload(program).await {
        Ok(moved) => tracing::info!(conversations = moved, "reloaded the program"),
        Err(e) => tracing::error!("reload refused, the running program stays: {e}"),
    }
}
