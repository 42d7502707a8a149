//! The web server alone, without the rest of the CLI: `cargo run --release -p web --example
//! serve -- [LISTEN] [DB]` (used by `scripts/bench-web.sh`). `restore-doctor serve` is the
//! command people use; both call [`web::serve_blocking`].

/// The same allocator as `restore-doctor` (see crates/cli/src/main.rs): a diagnosis allocates
/// and frees thousands of small strings and vectors.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let listen = args
        .next()
        .unwrap_or_else(|| web::DEFAULT_LISTEN.to_string());
    let db = args.next();
    let Ok(listen) = listen.parse() else {
        eprintln!("error: `{listen}` is not an address and port, e.g. 127.0.0.1:7413");
        std::process::exit(2);
    };
    let config = web::Config {
        listen,
        db,
        ..web::Config::default()
    };
    if let Err(e) = web::serve_blocking(config) {
        eprintln!("error: {e}");
        std::process::exit(if e.is_bad_input() { 2 } else { 1 });
    }
}
