//! `agentc serve PROGRAM`: runs a program behind an HTTP API (docs/serve.md). This file only
//! reads the flags, loads the program as `agentc run` does, sets up the logs and prints the
//! address; the server is `crate::serve`.

use super::files;
use super::run::load_program;
use crate::serve::{self, Auth, Loader, Settings};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program, as `agentc run` takes it: its root .agent file, a directory holding
    /// it, or an IR .json file.
    #[arg(
        required = true,
        value_name = "PROGRAM",
        env = "AGENTC_PROGRAM",
        value_delimiter = ','
    )]
    pub program: Vec<PathBuf>,
    /// The address to listen on; one off loopback needs --token or --signing-secret.
    #[arg(long, env = "AGENTC_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where events, outcomes and states are journaled: sqlite://PATH (created if missing),
    /// or postgres://USER@HOST/DB, which several nodes may share.
    #[arg(
        long,
        env = "AGENTC_STORE",
        default_value = "sqlite://agentc-serve.sqlite",
        hide_env_values = true
    )]
    pub store: String,
    /// On PostgreSQL, how long a node's hold on a conversation lasts unless renewed; a
    /// node that dies loses its conversations to the others after it.
    #[arg(long, env = "AGENTC_LEASE", default_value = "10s", value_parser = super::duration_arg)]
    pub lease: Duration,
    /// How long the journal of finished work is kept: answered events (and so the window
    /// in which a delivery id is deduplicated), their attempts, ended conversations. 0
    /// keeps everything.
    #[arg(long, env = "AGENTC_RETAIN", default_value = "7d", value_parser = super::duration_arg)]
    pub retain: Duration,
    /// How long a conversation with nothing to do stays in memory; it is read back from
    /// the store on its next event.
    #[arg(long, env = "AGENTC_EVICT_AFTER", default_value = "30s", value_parser = super::duration_arg)]
    pub evict_after: Duration,
    /// Every /v1 request must carry `Authorization: Bearer TOKEN`.
    #[arg(long, env = "AGENTC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Every /v1 request must be signed: `X-Agentc-Signature: sha256=HMAC(SECRET,
    /// "TIMESTAMP.BODY")` with `X-Agentc-Timestamp: TIMESTAMP` (Unix seconds).
    #[arg(long, env = "AGENTC_SIGNING_SECRET", hide_env_values = true)]
    pub signing_secret: Option<String>,
    /// How far a signature's timestamp may be from the server's clock.
    #[arg(long, env = "AGENTC_SIGNATURE_TOLERANCE", default_value = "5m", value_parser = super::duration_arg)]
    pub signature_tolerance: Duration,
    /// How long `POST /v1/events` waits for the event's answer; past it the answer says
    /// what still runs, and the event goes on.
    #[arg(long, env = "AGENTC_DEADLINE", default_value = "10s", value_parser = super::duration_arg)]
    pub deadline: Duration,
    /// The longest request body, in bytes.
    #[arg(long, env = "AGENTC_MAX_BODY", default_value_t = 1 << 20)]
    pub max_body: usize,
    /// How long a client may take to send a request's headers.
    #[arg(long, env = "AGENTC_HEADER_TIMEOUT", default_value = "10s", value_parser = super::duration_arg)]
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body.
    #[arg(long, env = "AGENTC_BODY_TIMEOUT", default_value = "10s", value_parser = super::duration_arg)]
    pub body_timeout: Duration,
    /// Requests handled at once; past it, 503 with `Retry-After`.
    #[arg(long, env = "AGENTC_MAX_CONCURRENT", default_value_t = 256)]
    pub max_concurrent: usize,
    /// On SIGTERM, how long the requests in flight may take to finish.
    #[arg(long, env = "AGENTC_DRAIN", default_value = "10s", value_parser = super::duration_arg)]
    pub drain: Duration,
    /// How logs are written to standard error.
    #[arg(long, env = "AGENTC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Check the settings, the program and the store, then exit.
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub imports: files::ImportRoots,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn run(args: Args) -> ExitCode {
    init_logs(args.log_format);
    let settings = Settings {
        listen: args.listen,
        store: args.store.clone(),
        lease: args.lease,
        retain: args.retain,
        evict_after: args.evict_after,
        auth: Auth {
            token: args.token.clone().filter(|t| !t.is_empty()),
            signing_secret: args.signing_secret.clone().filter(|s| !s.is_empty()),
            tolerance: args.signature_tolerance,
        },
        deadline: args.deadline,
        max_body: args.max_body,
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        max_concurrent: args.max_concurrent,
        drain: args.drain,
    };
    let (paths, imports) = (args.program.clone(), args.imports.clone());
    let load: Loader = Arc::new(move || load_program(&paths, &imports).ok_or(serve::Unchecked));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            note!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        if args.check {
            return serve::check(&settings, &load).await.map(|()| {
                out!("agentc serve: the settings, the program and the store are fine");
            });
        }
        serve::run(settings, load, |address| {
            out!("agentc serve: listening on http://{address}");
        })
        .await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            note!("error: {}", crate::printable::escape(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

fn init_logs(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
