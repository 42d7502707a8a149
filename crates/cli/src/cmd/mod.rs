//! One module per subcommand: each has an `Args` (clap) and a `run`.

pub mod bench;
pub mod bench_logs;
pub mod cases;
pub mod completions;
pub mod detect;
pub mod devices;
pub mod diagnose;
pub mod explain;
pub mod fleet;
pub mod guide;
pub mod identify;
pub mod logs;
pub mod serve;
pub mod watch;
