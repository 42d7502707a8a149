//! One module per subcommand: each has an `Args` (clap) and a `run`.

pub mod cases;
pub mod completions;
pub mod devices;
pub mod explain;
pub mod fleet;
pub mod guide;
pub mod identify;
pub mod serve;
