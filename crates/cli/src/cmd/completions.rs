//! `restore-doctor completions <SHELL|man> [--dir DIR]`: shell completions and man pages,
//! generated from this CLI's clap definition (what the Debian package installs).

use crate::output::{CmdResult, bad_input};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  restore-doctor completions bash > /etc/bash_completion.d/restore-doctor\n  restore-doctor completions zsh --dir ~/.zfunc\n  restore-doctor completions man | man -l -\n  restore-doctor completions man --dir /usr/local/share/man/man1"
)]
pub struct Args {
    /// `bash`, `zsh`, `fish`, `elvish`, `powershell`, or `man` for the man pages (roff).
    pub shell: String,
    /// Write into this directory instead of standard output: for `man`, one page per command
    /// and subcommand (restore-doctor.1, restore-doctor-explain.1, restore-doctor-cases-new.1...);
    /// for a shell, the completion file under the name that shell looks for.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: Args, mut cmd: clap::Command) -> CmdResult {
    if args.shell == "man" {
        match &args.dir {
            Some(dir) => {
                let pages = write_man_pages(cmd, dir)?;
                tracing::info!("wrote {} man pages into {}", pages.len(), dir.display());
            }
            None => {
                tracing::info!("the main man page on standard output (--dir writes all of them)");
                man(cmd).render(&mut std::io::stdout())?
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let shell: clap_complete::Shell = match args.shell.parse() {
        Ok(s) => s,
        Err(_) => {
            return bad_input(format!(
                "unknown shell `{}`: use bash, zsh, fish, elvish, powershell or man",
                args.shell
            ));
        }
    };
    match &args.dir {
        Some(dir) => {
            ensure_dir(dir)?;
            let path = clap_complete::generate_to(shell, &mut cmd, "restore-doctor", dir)?;
            tracing::info!("wrote {}", path.display());
        }
        None => {
            tracing::info!("{shell} completions for every command and flag, on standard output");
            clap_complete::generate(shell, &mut cmd, "restore-doctor", &mut std::io::stdout())
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ensure_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .or_else(|e| bad_input(format!("--dir {}: cannot create it: {e}", dir.display())))
}

/// A man page, its footer naming the program and version (subcommands carry no version).
fn man(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd)
        .source(format!("restore-doctor {}", env!("CARGO_PKG_VERSION")))
        .manual("restore-doctor manual")
}

/// One man page per command and subcommand, as `restore-doctor.1` names them in its SEE ALSO
/// list (`restore-doctor-explain(1)`, `restore-doctor-cases-new(1)`...). Returns the files.
pub fn write_man_pages(cmd: clap::Command, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    ensure_dir(dir)?;
    let mut cmd = cmd.disable_help_subcommand(true);
    // Building names every subcommand by its full path (`restore-doctor-cases-new`).
    cmd.build();
    let mut written = Vec::new();
    fn walk(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, dir, written)?;
        }
        written.push(man(cmd.clone()).generate_to(dir)?);
        Ok(())
    }
    walk(&cmd, dir, &mut written)?;
    Ok(written)
}
