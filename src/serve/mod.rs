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
use crate::runtime::PlanError;
use metrics::Metrics;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use store::{Store, StoreError};
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
    /// How long the journal of finished work is kept (`store::prune`); zero keeps it all.
    pub retain: Duration,
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
pub type Loader = Arc<dyn Fn() -> Result<ir::Program, Unchecked> + Send + Sync>;

/// The program does not check (the loader printed its diagnostics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unchecked;

impl fmt::Display for Unchecked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the program does not check")
    }
}

impl std::error::Error for Unchecked {}

/// Why `agentc serve` does not start (or `--check` fails, or a stop does not flush).
#[derive(Debug)]
pub enum ServeError {
    /// Open (no token, no signing secret) on an address other machines reach.
    OpenOffLoopback(SocketAddr),
    /// `--lease` is under 300ms.
    LeaseTooShort,
    /// `--max-concurrent` is 0.
    NoConcurrency,
    Unchecked(Unchecked),
    /// The program checks but cannot be prepared to run.
    Plan(PlanError),
    /// Neither `sqlite://PATH`, a bare path nor `postgres://…`.
    NotAStoreUrl(String),
    Store(StoreError),
    /// A stop signal's handler cannot be installed.
    Signals(std::io::Error),
    Listen(SocketAddr, std::io::Error),
    /// The bound socket has no address.
    Address(std::io::Error),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::OpenOffLoopback(listen) => write!(
                f,
                "refusing to listen on {listen} without a token or a signing secret: set \
                 --token (AGENTC_TOKEN) or --signing-secret (AGENTC_SIGNING_SECRET), or \
                 listen on a loopback address"
            ),
            ServeError::LeaseTooShort => {
                f.write_str("--lease must be at least 300ms (it is renewed every third of it)")
            }
            ServeError::NoConcurrency => f.write_str("--max-concurrent must be at least 1"),
            ServeError::Unchecked(e) => write!(f, "{e}"),
            ServeError::Plan(e) => write!(f, "{e}"),
            ServeError::NotAStoreUrl(url) => write!(
                f,
                "`{}` is no store URL: write sqlite://PATH",
                crate::printable::escape(url)
            ),
            ServeError::Store(e) => write!(f, "{e}"),
            ServeError::Signals(e) | ServeError::Address(e) => write!(f, "{e}"),
            ServeError::Listen(listen, e) => write!(f, "cannot listen on {listen}: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

impl From<Unchecked> for ServeError {
    fn from(e: Unchecked) -> Self {
        ServeError::Unchecked(e)
    }
}

impl From<PlanError> for ServeError {
    fn from(e: PlanError) -> Self {
        ServeError::Plan(e)
    }
}

impl From<StoreError> for ServeError {
    fn from(e: StoreError) -> Self {
        ServeError::Store(e)
    }
}

/// Why a SIGHUP's reload is refused (the running program stays).
#[derive(Debug)]
pub enum ReloadError {
    Unchecked(Unchecked),
    Plan(PlanError),
}

impl fmt::Display for ReloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReloadError::Unchecked(e) => write!(f, "{e}"),
            ReloadError::Plan(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReloadError {}

/// The settings themselves are coherent: a server reachable from other machines needs a
/// token or a signing secret.
pub fn validate(settings: &Settings) -> Result<(), ServeError> {
    if settings.auth.is_open() && !settings.listen.ip().is_loopback() {
        return Err(ServeError::OpenOffLoopback(settings.listen));
    }
    if settings.lease < Duration::from_millis(300) {
        return Err(ServeError::LeaseTooShort);
    }
    if settings.max_concurrent == 0 {
        return Err(ServeError::NoConcurrency);
    }
    Ok(())
}

/// Opens the store a URL names.
pub async fn open_store(
    url: &str,
    lease: Duration,
    metrics: Arc<Metrics>,
) -> Result<Arc<dyn Store>, ServeError> {
    if store::postgres::is_url(url) {
        let store = store::postgres::Postgres::open(url, lease, metrics).await?;
        return Ok(Arc::new(store));
    }
    let path = store::sqlite::path_of(url).unwrap_or(url);
    if path.contains("://") {
        return Err(ServeError::NotAStoreUrl(url.to_string()));
    }
    let store = store::sqlite::Sqlite::open(path, metrics).await?;
    Ok(Arc::new(store))
}

/// `agentc serve --check`: the settings, the program and the store.
pub async fn check(settings: &Settings, load: &Loader) -> Result<(), ServeError> {
    validate(settings)?;
    load()?;
    let store = open_store(&settings.store, settings.lease, Arc::default()).await?;
    Ok(store.ping().await?)
}

/// Serves until SIGTERM or SIGINT, then drains. `listening` is told the bound address.
pub async fn run(
    settings: Settings,
    load: Loader,
    listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    validate(&settings)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(ServeError::Signals)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(ServeError::Signals)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(ServeError::Signals)?;
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
    // Only once recovery has read what it needs.
    tokio::spawn(store::prune::sweep(
        store.clone(),
        settings.retain,
        metrics.clone(),
    ));
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| ServeError::Listen(settings.listen, e))?;
    let address = listener.local_addr().map_err(ServeError::Address)?;
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
            _ = hangup.recv() => match reload(&hub, &load).await {
                Ok(moved) => tracing::info!(conversations = moved, "reloaded the program"),
                Err(e) => tracing::error!("reload refused, the running program stays: {e}"),
            },
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
/// Returns how many conversations moved to it.
async fn reload(hub: &hub::Hub, load: &Loader) -> Result<usize, ReloadError> {
    let program = load().map_err(ReloadError::Unchecked)?;
    hub.reload(program).await.map_err(ReloadError::Plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(listen: &str) -> Settings {
        Settings {
            listen: listen.parse().expect("an address"),
            store: "sqlite://unused.sqlite".into(),
            lease: Duration::from_secs(10),
            retain: Duration::ZERO,
            evict_after: Duration::from_secs(30),
            auth: Auth {
                token: None,
                signing_secret: None,
                tolerance: Duration::from_secs(300),
            },
            deadline: Duration::from_secs(10),
            max_body: 1 << 20,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_concurrent: 1,
            drain: Duration::from_secs(10),
        }
    }

    #[test]
    fn settings_that_cannot_serve_are_refused_with_a_typed_error_and_the_same_sentence() {
        let open = settings("0.0.0.0:8080");
        let Err(error) = validate(&open) else {
            panic!("an open server off loopback was accepted");
        };
        assert!(
            matches!(error, ServeError::OpenOffLoopback(at) if at == open.listen),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "refusing to listen on 0.0.0.0:8080 without a token or a signing secret: set \
             --token (AGENTC_TOKEN) or --signing-secret (AGENTC_SIGNING_SECRET), or listen on \
             a loopback address"
        );
        let short = Settings {
            lease: Duration::from_millis(299),
            ..settings("127.0.0.1:8080")
        };
        assert!(matches!(validate(&short), Err(ServeError::LeaseTooShort)));
        let none = Settings {
            max_concurrent: 0,
            ..settings("127.0.0.1:8080")
        };
        assert!(matches!(validate(&none), Err(ServeError::NoConcurrency)));
        assert!(validate(&settings("127.0.0.1:8080")).is_ok());
    }

    #[test]
    fn a_url_of_another_scheme_is_no_store() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let opened = runtime.block_on(open_store(
            "mysql://db/agentc",
            Duration::from_secs(10),
            Arc::default(),
        ));
        let Err(error) = opened else {
            panic!("a MySQL URL opened a store");
        };
        assert!(matches!(&error, ServeError::NotAStoreUrl(url) if url == "mysql://db/agentc"));
        assert_eq!(
            error.to_string(),
            "`mysql://db/agentc` is no store URL: write sqlite://PATH"
        );
    }
}
