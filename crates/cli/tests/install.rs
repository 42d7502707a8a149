//! What an installed tool carries: `--help` lists every command (completions included), and the
//! man pages and completions the Debian package installs are generated from the CLI, one man
//! page per command so that every page a man page points to exists.

use assert_cmd::Command;
use std::collections::BTreeSet;

fn rd() -> Command {
    let mut cmd = Command::cargo_bin("restore-doctor").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

#[test]
fn help_lists_every_command_with_completions() {
    let out = rd().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for cmd in [
        "explain",
        "guide",
        "devices",
        "identify",
        "detect",
        "watch",
        "logs",
        "cases",
        "fleet",
        "diagnose",
        "serve",
        "bench",
        "completions",
    ] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(cmd)),
            "--help does not list {cmd}:\n{help}"
        );
    }
}

#[test]
fn every_man_page_a_man_page_names_exists() {
    let dir = tempfile::tempdir().unwrap();
    let out = rd()
        .args(["completions", "man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pages: BTreeSet<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for page in [
        "restore-doctor.1",
        "restore-doctor-explain.1",
        "restore-doctor-diagnose.1",
        "restore-doctor-cases.1",
        "restore-doctor-cases-new.1",
        "restore-doctor-fleet-report.1",
        "restore-doctor-bench-policies.1",
        "restore-doctor-completions.1",
    ] {
        assert!(pages.contains(page), "{page} missing: {pages:?}");
    }
    // Every `name(1)` a page refers to is a page here.
    let mut referenced = BTreeSet::new();
    for page in &pages {
        // roff writes `-` as `\-`.
        let text = std::fs::read_to_string(dir.path().join(page))
            .unwrap()
            .replace("\\-", "-");
        assert!(text.contains(".TH"), "{page} is not roff");
        for word in text.split(char::is_whitespace) {
            if let Some(name) = word.strip_suffix("(1)")
                && name.starts_with("restore-doctor")
            {
                referenced.insert(format!("{name}.1"));
            }
        }
    }
    assert!(referenced.len() >= 13, "{referenced:?}");
    let missing: Vec<&String> = referenced.difference(&pages).collect();
    assert!(
        missing.is_empty(),
        "referenced but not generated: {missing:?}"
    );
    // The page on standard output is the main one.
    let main = rd().args(["completions", "man"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&main.stdout)
            .replace("\\-", "-")
            .contains("restore-doctor-explain(1)")
    );
}

#[test]
fn completions_are_written_where_each_shell_looks() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, file) in [
        ("bash", "restore-doctor.bash"),
        ("zsh", "_restore-doctor"),
        ("fish", "restore-doctor.fish"),
    ] {
        rd().args(["completions", shell, "--dir"])
            .arg(dir.path())
            .assert()
            .success();
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(
            text.contains("diagnose") && text.contains("observed"),
            "{shell}"
        );
    }
    rd().args(["completions", "tcsh"]).assert().code(2);
}
