//! `restore-doctor serve`: the local web UI and JSON API (crate `web`).

use crate::output::{CmdResult, Out, bad_input};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  restore-doctor serve                          # http://127.0.0.1:7413/\n  restore-doctor serve --db shop.sqlite3\n  restore-doctor serve --listen 0.0.0.0:7413 --token \"$(openssl rand -hex 16)\"\n\nOff loopback a token is required; API clients send `Authorization: Bearer <token>`,\nbrowsers sign in once at /login."
)]
pub struct Args {
    /// Address and port to listen on (loopback unless a token is given).
    #[arg(long, default_value = web::DEFAULT_LISTEN)]
    pub listen: String,
    /// Secret every request must carry (required for a non-loopback address).
    #[arg(long, env = "RESTORE_DOCTOR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Case database: a SQLite file or a postgres:// URL (default: RESTORE_DOCTOR_DB, else
    /// the platform data directory).
    #[arg(long)]
    pub db: Option<String>,
    /// Largest accepted upload (a restore log), in MiB.
    #[arg(long, default_value_t = 64)]
    pub max_upload_mib: usize,
    /// Seconds before a request is abandoned.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Seconds a connection has to send a request's headers (also the longest idle time
    /// between requests on one connection).
    #[arg(long, default_value_t = 10)]
    pub header_timeout: u64,
    /// Most connections open at once (default: what the open-file limit allows).
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// A host name this server is reached by besides localhost and IP addresses (repeatable).
    /// A loopback server refuses requests for any other name (DNS rebinding), and browser
    /// form posts must come from one of these names or an address.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
}

fn parse_listen(text: &str) -> Option<SocketAddr> {
    if let Ok(a) = text.parse() {
        return Some(a);
    }
    let port = text.strip_prefix("localhost:")?.parse::<u16>().ok()?;
    Some(SocketAddr::from(([127, 0, 0, 1], port)))
}

pub fn run(args: Args, _out: &Out) -> CmdResult {
    let Some(listen) = parse_listen(args.listen.trim()) else {
        return bad_input(format!(
            "--listen `{}` is not an address and port, e.g. 127.0.0.1:7413",
            args.listen
        ));
    };
    if args.max_upload_mib == 0 || args.max_upload_mib > 4096 {
        return bad_input(format!(
            "--max-upload-mib {} is out of range: give 1 to 4096",
            args.max_upload_mib
        ));
    }
    if args.timeout == 0 {
        return bad_input("--timeout must be at least 1 second");
    }
    if args.header_timeout == 0 {
        return bad_input("--header-timeout must be at least 1 second");
    }
    if args.max_connections == Some(0) {
        return bad_input("--max-connections must be at least 1");
    }
    let config = web::Config {
        listen,
        token: args.token,
        db: args.db,
        max_upload: args.max_upload_mib << 20,
        request_timeout: Duration::from_secs(args.timeout),
        header_timeout: Duration::from_secs(args.header_timeout),
        max_connections: args.max_connections,
        allowed_hosts: args.allow_hosts,
        heavy_workers: None,
    };
    tracing::info!(
        "serving on {listen}: token {}, uploads up to {} MiB, {} s per request; one log line per request",
        if config.token.is_some() {
            "required"
        } else {
            "not required (loopback)"
        },
        args.max_upload_mib,
        args.timeout
    );
    match web::serve_blocking(config) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.is_bad_input() => bad_input(e.to_string()),
        Err(e) => Err(e.into()),
    }
}
