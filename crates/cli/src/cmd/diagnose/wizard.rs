//! The interactive diagnosis wizard (terminal only).

use crate::output::{CmdResult, bad_input};
use std::path::PathBuf;

pub fn run(_session: Option<PathBuf>, _role: Option<String>) -> CmdResult {
    bad_input("the interactive wizard is not available yet; use flags (see --help)")
}
