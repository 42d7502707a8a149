//! The interactive wizard, driven through a real pseudo-terminal (tmux): intake, questions,
//! steps with outcomes, the verdict saved as Markdown, and quit/resume via the session file.
//! Skipped (with a warning) where tmux is not installed, except in CI, where that fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    dir: PathBuf,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn start(name: &str, dir: &Path, args: &str) -> Tmux {
        let socket = format!("rd-wizard-{}-{name}", std::process::id());
        let bin = env!("CARGO_BIN_EXE_restore-doctor");
        let cmd = format!(
            "cd {} && HOME={} NO_COLOR=1 {bin} diagnose {args}; echo EXITED $?; sleep 60",
            dir.display(),
            dir.display()
        );
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-x",
                "200",
                "-y",
                "60",
                &cmd,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session");
        Tmux {
            socket,
            dir: dir.to_path_buf(),
        }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-J", "-S", "-400"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }

    fn text(&self, text: &str) {
        Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-l", text])
            .status()
            .unwrap();
        self.keys(&["Enter"]);
    }

    /// Wait until the screen's last prompt contains `what`.
    fn wait_for(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waited for {what:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
        let _ = &self.dir;
    }
}

fn intake(t: &Tmux, device: &str, error: &str, words: &str) {
    t.wait_for("Which device?");
    t.text(device);
    t.wait_for("Which error number");
    t.text(error);
    t.wait_for("Which program");
    t.keys(&["Enter"]);
    t.wait_for("own words");
    t.text(words);
}

#[test]
fn a_session_from_intake_to_a_saved_report() {
    if !Tmux::available() {
        // scripts/test.sh installs tmux; in CI a missing tmux is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is needed for the wizard test in CI"
        );
        eprintln!("WARNING: tmux not installed: wizard pty test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start("full", dir.path(), "--session s.json");
    intake(
        &t,
        "iPhone 7",
        "4013",
        "speaker greyed out before this, tried two cables and another computer",
    );
    let first = t.wait_for("Most likely causes now");
    assert!(first.contains("Audio chip"), "{first}");
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(400));
        let s = t.screen();
        let tail: String = s
            .lines()
            .rev()
            .filter(|l| !l.trim().is_empty())
            .take(8)
            .collect::<Vec<_>>()
            .join("\n");
        if tail.contains("EXITED") {
            break;
        }
        if tail.contains("File name:") || tail.contains("Save a report") {
            t.keys(&["Enter"]);
        } else if tail.contains("How did it go?") {
            // "Still fails (same error)".
            t.keys(&["Down", "Enter"]);
        } else if tail.contains("I don't know") || tail.contains("I can't do this") {
            t.keys(&["Enter"]);
        }
    }
    let s = t.wait_for("EXITED 0");
    assert!(s.contains("Verdict"), "{s}");
    assert!(s.contains("Saved restore-doctor-report.md"), "{s}");
    let report = std::fs::read_to_string(dir.path().join("restore-doctor-report.md")).unwrap();
    assert!(report.contains("# restore-doctor report"));
    assert!(report.contains("iPhone 7"));
    assert!(report.contains("## Verdict"));
    assert!(report.contains("## Likely causes"));
    assert!(
        !dir.path().join("s.json").exists(),
        "session removed when done"
    );
}

#[test]
fn quit_and_resume() {
    if !Tmux::available() {
        // scripts/test.sh installs tmux; in CI a missing tmux is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is needed for the wizard test in CI"
        );
        eprintln!("WARNING: tmux not installed: wizard pty test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    {
        let t = Tmux::start("quit", dir.path(), "--session s.json");
        intake(&t, "iPhone X", "4013", "");
        t.wait_for("Most likely causes now");
        std::thread::sleep(Duration::from_millis(500));
        t.keys(&["Escape"]);
        let s = t.wait_for("EXITED 0");
        assert!(s.contains("Saved."), "{s}");
    }
    let saved = std::fs::read_to_string(dir.path().join("s.json")).unwrap();
    assert!(saved.contains("iPhone X"), "{saved}");
    let t = Tmux::start("resume", dir.path(), "--session s.json");
    let s = t.wait_for("Resume the saved session");
    assert!(s.contains("iPhone X, error 4013"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait_for("Most likely causes now");
    assert!(
        !s.contains("Which device?"),
        "resumed without asking again: {s}"
    );
    assert!(s.contains("Earpiece / Face ID flex"), "{s}");
    t.keys(&["Escape"]);
    t.wait_for("EXITED 0");
}

#[test]
fn ctrl_c_saves_and_exits_130() {
    if !Tmux::available() {
        // scripts/test.sh installs tmux; in CI a missing tmux is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is needed for the wizard test in CI"
        );
        eprintln!("WARNING: tmux not installed: wizard pty test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // At the first prompt, with nothing entered: nothing to save, still an interruption.
    {
        let t = Tmux::start("ctrlc-first", dir.path(), "--session first.json");
        t.wait_for("Which device?");
        t.keys(&["C-c"]);
        let s = t.wait_for("EXITED");
        assert!(s.contains("EXITED 130"), "{s}");
        assert!(!dir.path().join("first.json").exists());
    }
    // Later: the session is saved, and the exit code still says it was interrupted.
    let t = Tmux::start("ctrlc-later", dir.path(), "--session s.json");
    intake(&t, "iPhone X", "4013", "");
    t.wait_for("Most likely causes now");
    std::thread::sleep(Duration::from_millis(500));
    t.keys(&["C-c"]);
    let s = t.wait_for("EXITED");
    assert!(s.contains("EXITED 130"), "{s}");
    assert!(s.contains("Saved."), "{s}");
    assert!(dir.path().join("s.json").exists());
}
