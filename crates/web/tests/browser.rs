//! End to end in a real headless Chromium driven through chromedriver (WebDriver, fantoccini):
//! a diagnosis from the first page to the verdict, a log upload showing the failure stage,
//! and a case's cable × computer grid (and the fleet charts) behind the token login. Screenshots are saved under
//! `target/web-screenshots/`.
//!
//! chromedriver and Chromium are found through `RESTORE_DOCTOR_CHROMEDRIVER` and
//! `RESTORE_DOCTOR_CHROMIUM`, else on the PATH (Debian packages `chromium-driver` and
//! `chromium`). Without them these tests print a WARNING and pass, except when `CI` is set,
//! where they fail.

mod common;

use common::{NAND_LOG, app_with, seeded_store};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One browser at a time: the machine is small.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// chromedriver and Chromium, or None (after the warning) when they are missing outside CI.
fn browser_programs() -> Option<(PathBuf, PathBuf)> {
    let driver = find_program("RESTORE_DOCTOR_CHROMEDRIVER", &["chromedriver"]);
    let chromium = find_program(
        "RESTORE_DOCTOR_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    match (driver, chromium) {
        (Some(d), Some(c)) => Some((d, c)),
        (d, c) => {
            let msg = format!(
                "browser tests need chromedriver ({}) and Chromium ({}): install the Debian \
                 packages chromium-driver and chromium, or set RESTORE_DOCTOR_CHROMEDRIVER and \
                 RESTORE_DOCTOR_CHROMIUM",
                if d.is_some() { "found" } else { "missing" },
                if c.is_some() { "found" } else { "missing" }
            );
            if std::env::var_os("CI").is_some() {
                panic!("{msg}");
            }
            eprintln!("\n**********\nWARNING: SKIPPING the browser tests: {msg}\n**********\n");
            None
        }
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver, stopped when dropped (also when a test fails half-way): the browser session
/// is deleted first (that ends its Chromium), then the driver is killed.
struct Reaper {
    child: Child,
    port: u16,
    session: Option<String>,
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(id) = &self.session
            && let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", self.port))
        {
            use std::io::{Read, Write};
            let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                conn,
                "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            );
            let _ = conn.read_to_end(&mut Vec::new());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser session against a server running `app`.
struct Session {
    client: Client,
    base: String,
    driver: Reaper,
    _profile: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Session {
    async fn start(app: axum::Router, driver: &Path, chromium: &Path) -> Session {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut reaper = Reaper {
            child,
            port,
            session: None,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=412,915",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = caps.as_object().unwrap().clone();
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session through chromedriver");
        reaper.session = client.session_id().await.ok().flatten();
        Session {
            client,
            base,
            driver: reaper,
            _profile: profile,
            server,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn shot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/web-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    async fn css(&self, sel: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(sel))
            .await
            .unwrap_or_else(|e| panic!("no element {sel}: {e}"))
    }

    /// Wait until the page source holds one of `needles`; returns the source.
    async fn wait_for_text(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let src = self.client.source().await.unwrap();
            if needles.iter().any(|n| src.contains(n)) {
                return src;
            }
            assert!(
                Instant::now() < deadline,
                "page never showed {needles:?}; it shows:\n{}",
                &src[..src.len().min(3000)]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn end(mut self) {
        self.driver.session = None;
        let _ = self.client.close().await;
        self.server.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diagnosis_from_the_first_page_to_the_verdict() {
    let Some((driver, chromium)) = browser_programs() else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let app = app_with(Err("no case database in this test".into()), None, 64 << 20);
    let s = Session::start(app, &driver, &chromium).await;
    s.client.goto(&s.url("/")).await.unwrap();
    // Keyboard: the first Tab lands on the skip link, which leads to the form.
    s.css("body").await.send_keys("\u{E004}").await.unwrap();
    let first = s.client.active_element().await.unwrap();
    assert_eq!(first.attr("class").await.unwrap().as_deref(), Some("skip"));
    assert_eq!(first.attr("href").await.unwrap().as_deref(), Some("#main"));
    s.css("#device").await.send_keys("iPhone X").await.unwrap();
    s.css("#error").await.send_keys("4013").await.unwrap();
    s.css("#host")
        .await
        .select_by_value("windows_itunes")
        .await
        .unwrap();
    // What was tried and the person's words are behind "More" (closed at first).
    s.css("#more summary").await.click().await.unwrap();
    s.css("input[name=tried][value=cable_swap]")
        .await
        .click()
        .await
        .unwrap();
    s.css("#text")
        .await
        .send_keys("The restore fails near the end <b>help</b>")
        .await
        .unwrap();
    s.shot("diagnose-1-intake-phone").await;
    s.css("#start").await.click().await.unwrap();
    let mut src = s
        .wait_for_text(&["<h1>Step 1</h1>", r#"id="verdict""#])
        .await;
    assert!(
        src.contains("<h1>Step 1</h1>"),
        "a first step before any verdict"
    );
    assert!(src.contains("iPhone X (iPhone10,3)"), "device recognised");
    assert!(
        !src.contains("<b>help</b>"),
        "the person's words are escaped"
    );
    s.shot("diagnose-2-first-step-phone").await;
    let mut n = 1;
    while !src.contains(r#"id="verdict""#) {
        // "Still fails" for actions, "No" for questions, else the first answer.
        let buttons = s
            .client
            .find_all(Locator::Css("form.answer button"))
            .await
            .unwrap();
        assert!(!buttons.is_empty(), "a step page has answer buttons");
        let mut chosen = None;
        for b in &buttons {
            let v = b.attr("value").await.unwrap().unwrap_or_default();
            if v.ends_with(":failed") || v.ends_with("=no") {
                chosen = Some(b.clone());
                break;
            }
        }
        chosen
            .unwrap_or_else(|| buttons[0].clone())
            .click()
            .await
            .unwrap();
        n += 1;
        assert!(n < 40, "no verdict after 40 steps");
        src = s
            .wait_for_text(&[&format!("<h1>Step {n}</h1>"), r#"id="verdict""#])
            .await;
    }
    assert!(n >= 2, "at least one step was answered");
    let verdict = s.css("#verdict").await.text().await.unwrap();
    assert!(verdict.contains("Most likely cause"), "{verdict}");
    assert!(verdict.contains("What a shop should test first"));
    assert!(s.css("#download-md").await.is_displayed().await.unwrap());
    s.shot("diagnose-3-verdict-phone").await;
    s.client.set_window_size(1280, 1000).await.unwrap();
    s.shot("diagnose-3-verdict-desktop").await;
    s.end().await;
}

/// What a scripted person's run through the web wizard asked and showed.
struct WebRun {
    /// Question pages, in order (their titles).
    questions: Vec<String>,
    /// Question pages before the first step to do.
    before_first_step: Option<usize>,
    /// Steps (actions and tests) shown, in order.
    steps: Vec<String>,
    /// The text of every page, one after the other.
    text: String,
}

/// Fill the first page's three questions (and a role behind "More"), then answer every page:
/// a step with `step_outcome(title)` (`failed`, `cannot_do`), a question "yes" when it asks
/// for a backup, else "no", else the first answer; until the verdict.
async fn run_web(
    s: &Session,
    device: &str,
    error: &str,
    host: &str,
    technician: bool,
    step_outcome: &dyn Fn(&str) -> &'static str,
) -> WebRun {
    s.client.goto(&s.url("/")).await.unwrap();
    s.css("#device").await.send_keys(device).await.unwrap();
    s.css("#error").await.send_keys(error).await.unwrap();
    s.css("#host").await.select_by_value(host).await.unwrap();
    if technician {
        s.css("#more summary").await.click().await.unwrap();
        s.css("#role")
            .await
            .select_by_value("technician")
            .await
            .unwrap();
    }
    s.css("#start").await.click().await.unwrap();
    let mut run = WebRun {
        questions: Vec::new(),
        before_first_step: None,
        steps: Vec::new(),
        text: String::new(),
    };
    let mut n = 1;
    loop {
        let src = s
            .wait_for_text(&[&format!("<h1>Step {n}</h1>"), r#"id="verdict""#])
            .await;
        run.text
            .push_str(&s.css("#main").await.text().await.unwrap());
        run.text.push('\n');
        if src.contains(r#"id="verdict""#) {
            return run;
        }
        let kind = s.css("#step .kind").await.text().await.unwrap();
        let title = s.css("#step-title").await.text().await.unwrap();
        let buttons = s
            .client
            .find_all(Locator::Css("form.answer button"))
            .await
            .unwrap();
        let mut values = Vec::new();
        for b in &buttons {
            values.push(b.attr("value").await.unwrap().unwrap_or_default());
        }
        let pick = if kind.eq_ignore_ascii_case("question") {
            run.questions.push(title.clone());
            let want = if title.contains("backup") {
                "=yes"
            } else {
                "=no"
            };
            values.iter().position(|v| v.ends_with(want)).unwrap_or(0)
        } else {
            run.before_first_step.get_or_insert(run.questions.len());
            run.steps.push(title.clone());
            let want = format!(":{}", step_outcome(&title));
            values
                .iter()
                .position(|v| v.ends_with(&want) || v.ends_with("=no"))
                .unwrap_or(0)
        };
        buttons[pick].clone().click().await.unwrap();
        n += 1;
        assert!(n < 40, "no verdict after 40 pages");
    }
}

/// The checks every scripted web run shares (as the terminal wizard's): the first step right
/// after the first page's three questions, no question twice, no step again, a verdict, no ids.
fn check_web_run(name: &str, run: &WebRun) {
    let before = run
        .before_first_step
        .unwrap_or_else(|| panic!("{name}: no step: {:?}", run.questions));
    assert_eq!(
        before, 0,
        "{name}: question pages before the first step: {:?}",
        run.questions
    );
    for (i, q) in run.questions.iter().enumerate() {
        assert!(!run.questions[..i].contains(q), "{name}: asked twice: {q}");
    }
    for (i, st) in run.steps.iter().enumerate() {
        assert!(!run.steps[..i].contains(st), "{name}: step again: {st}");
    }
    for id in [
        "apple_current",
        "windows_apple_devices",
        "windows_itunes",
        "failure_stage",
        "(erases the device) (erases the device)",
    ] {
        assert!(!run.text.contains(id), "{name}: a page shows {id:?}");
    }
    eprintln!(
        "web {name}: 3 questions before the first step, {} more and {} steps to the verdict",
        run.questions.len(),
        run.steps.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_people_reach_a_verdict_in_the_browser() {
    let Some((driver, chromium)) = browser_programs() else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let app = app_with(Err("no case database in this test".into()), None, 64 << 20);
    let s = Session::start(app, &driver, &chromium).await;

    let owner = run_web(
        &s,
        "iPhone 11",
        "4013",
        "windows_apple_devices",
        false,
        &|_| "failed",
    )
    .await;
    check_web_run("owner", &owner);
    assert!(!owner.text.contains("Open Finder"), "{}", owner.text);
    assert!(!owner.text.contains("macOS"), "{}", owner.text);
    assert!(
        !owner
            .questions
            .iter()
            .any(|q| q.contains("error number change")),
        "{:?}",
        owner.questions
    );

    let tech = run_web(
        &s,
        "iPhone X",
        "4013",
        "idevicerestore",
        true,
        &|_| "failed",
    )
    .await;
    check_web_run("technician", &tech);

    let nocomp = run_web(&s, "iPhone 8", "3194", "windows_itunes", false, &|title| {
        if title.contains("another computer") {
            "cannot_do"
        } else {
            "failed"
        }
    })
    .await;
    check_web_run("no second computer", &nocomp);
    assert!(
        nocomp.steps.iter().any(|t| t.contains("another computer")),
        "{:?}",
        nocomp.steps
    );
    assert!(
        nocomp.text.contains("Notepad as administrator"),
        "{}",
        nocomp.text
    );
    s.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploading_logs_shows_the_failure_stage_and_compares_attempts() {
    let Some((driver, chromium)) = browser_programs() else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let app = app_with(Err("no case database in this test".into()), None, 64 << 20);
    let s = Session::start(app, &driver, &chromium).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("attempt-1.log");
    std::fs::write(&file, NAND_LOG).unwrap();
    let second = dir.path().join("attempt-2.log");
    std::fs::write(&second, NAND_LOG).unwrap();
    s.client.set_window_size(1280, 1000).await.unwrap();
    s.client.goto(&s.url("/logs")).await.unwrap();
    s.css("#files")
        .await
        .send_keys(&format!("{}\n{}", file.display(), second.display()))
        .await
        .unwrap();
    s.css("#analyse").await.click().await.unwrap();
    let src = s.wait_for_text(&[r#"class="stage""#, "notice bad"]).await;
    assert!(
        src.contains("attempt-1.log") && src.contains("attempt-2.log"),
        "both logs shown"
    );
    let stages = s.client.find_all(Locator::Css("dd.stage")).await.unwrap();
    assert_eq!(stages.len(), 2);
    for st in stages {
        assert_eq!(st.text().await.unwrap(), "nand");
    }
    assert!(
        !s.client
            .find_all(Locator::Css(".log-timeline li.hot"))
            .await
            .unwrap()
            .is_empty()
    );
    let same = s.css("#same-verdict").await.text().await.unwrap();
    assert!(same.contains("same point"), "{same}");
    // The log's <script> tags were shown as text, not run.
    assert!(
        s.client.get_alert_text().await.is_err(),
        "a script from the log ran"
    );
    assert!(src.contains("&lt;script&gt;alert(1)") || src.contains("&#60;script&#62;alert(1)"));
    s.shot("logs-side-by-side-desktop").await;
    s.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_grid_behind_the_token_login() {
    let Some((driver, chromium)) = browser_programs() else {
        return;
    };
    let _one = ONE_AT_A_TIME.lock().await;
    let (_dir, store, id) = seeded_store();
    let app = app_with(Ok(store), Some("bench-secret-42"), 64 << 20);
    let s = Session::start(app, &driver, &chromium).await;
    s.client.goto(&s.url("/cases")).await.unwrap();
    // Sent to the login form first.
    s.css("#token")
        .await
        .send_keys("bench-secret-42")
        .await
        .unwrap();
    s.css("form[action='/login'] button")
        .await
        .click()
        .await
        .unwrap();
    s.wait_for_text(&[r#"id="start""#]).await;
    s.client.goto(&s.url("/cases")).await.unwrap();
    s.css(&format!("a[href='/cases/{id}']"))
        .await
        .click()
        .await
        .unwrap();
    let grid = s.css("#attempt-grid").await;
    let text = grid.text().await.unwrap();
    for name in ["bench-mac", "bench-pc", "cable-A", "cable-B", "cable-C"] {
        assert!(text.contains(name), "{name} in the grid");
    }
    let failed = s
        .client
        .find_all(Locator::Css("#attempt-grid td.cell.fail"))
        .await
        .unwrap();
    assert_eq!(failed.len(), 6, "three cables on two computers, all failed");
    let reading = s.css("#grid-reading").await.text().await.unwrap();
    assert!(reading.contains("look at the device"), "{reading}");
    assert!(
        s.client.get_alert_text().await.is_err(),
        "the customer's script ran"
    );
    s.shot("case-grid-phone").await;
    // The same attempts as fleet rates with intervals, one chart per bench and cable.
    s.client.set_window_size(1280, 1000).await.unwrap();
    s.client.goto(&s.url("/fleet")).await.unwrap();
    let charts = s.client.find_all(Locator::Css("svg.rate")).await.unwrap();
    assert!(charts.len() >= 5, "{} charts", charts.len());
    let page = s.css("main").await.text().await.unwrap();
    assert!(page.contains("cable-B") && page.contains("bench-pc"));
    s.shot("fleet-desktop").await;
    s.end().await;
}
