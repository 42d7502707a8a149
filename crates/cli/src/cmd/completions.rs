//! `restore-doctor completions <SHELL>` and `restore-doctor completions man`.

use crate::output::CmdResult;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// `bash`, `zsh`, `fish`, `elvish`, `powershell`, or `man` for the man page (roff).
    pub shell: String,
}

pub fn run(args: Args, mut cmd: clap::Command) -> CmdResult {
    let mut stdout = std::io::stdout();
    if args.shell == "man" {
        clap_mangen::Man::new(cmd).render(&mut stdout)?;
        return Ok(ExitCode::SUCCESS);
    }
    let shell: clap_complete::Shell = match args.shell.parse() {
        Ok(s) => s,
        Err(_) => {
            return crate::output::bad_input(format!(
                "unknown shell `{}`: use bash, zsh, fish, elvish, powershell or man",
                args.shell
            ));
        }
    };
    clap_complete::generate(shell, &mut cmd, "restore-doctor", &mut stdout);
    Ok(ExitCode::SUCCESS)
}
