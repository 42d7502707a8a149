//! `restore-doctor serve` logs one line per request on stderr (method, path, status, time),
//! and nothing a person typed: no query string, no body, no header.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn request(addr: &str, req: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply
}

#[test]
fn serve_logs_one_line_per_request_without_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("restore-doctor"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("s.sqlite3"))
        .env("NO_COLOR", "1")
        .env_remove("RESTORE_DOCTOR_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    // "restore-doctor is serving on http://127.0.0.1:PORT/ ..."
    let mut line = String::new();
    let started = Instant::now();
    let addr = loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "serve ended early");
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(30));
    };
    let reply = request(
        &addr,
        "GET /api/devices?q=Jane%20Doe%20iPhone HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
    let reply = request(
        &addr,
        "GET /codes/4013 HTTP/1.1\r\nHost: localhost\r\nCookie: secret=hunter2\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let mut logged = Vec::new();
    while logged.len() < 2 {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "serve ended early");
        if line.contains("GET ") {
            logged.push(line.trim_end().to_string());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(logged[0].contains("GET /api/devices 404"), "{logged:?}");
    assert!(logged[1].contains("GET /codes/4013 200"), "{logged:?}");
    for l in &logged {
        assert!(l.ends_with(" ms"), "{l}");
        assert!(
            !l.contains("Jane") && !l.contains("q=") && !l.contains("hunter2"),
            "{l}"
        );
        assert!(!l.contains('\u{1b}'), "colour off a terminal: {l}");
    }
}
