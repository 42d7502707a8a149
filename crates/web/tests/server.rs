//! The server over real sockets: header-read and idle timeouts, the connection bound, the
//! client address the token limiter keys on. Bounds on waiting here are liveness limits (a
//! hung server fails the test instead of hanging it), not performance figures.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start(config: web::Config) -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            web::serve_listener(config, Err("no database".into()), listener, async {
                let _ = stop_rx.await;
            })
            .await
            .unwrap();
        });
    });
    let addr = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    Server {
        addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

fn config(header_timeout: Duration, max_connections: Option<usize>) -> web::Config {
    web::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        header_timeout,
        max_connections,
        request_timeout: Duration::from_secs(5),
        ..web::Config::default()
    }
}

/// One whole request on a new connection; the status line, or an error.
fn get(addr: SocketAddr, path: &str, wait: Duration) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, wait)?;
    s.set_read_timeout(Some(wait))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out.lines().next().unwrap_or("").to_string())
}

/// Whether the server closed the connection (read gives end of file or a reset) within `wait`.
fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // a 408 or similar before the close
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn a_client_trickling_its_headers_is_cut_off() {
    let server = start(config(Duration::from_secs(1), None));
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    // One header byte every 200 ms for as long as the server lets us.
    let started = Instant::now();
    let mut cut = false;
    while started.elapsed() < Duration::from_secs(15) {
        if s.write_all(b"X").is_err() {
            cut = true;
            break;
        }
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut b = [0u8; 256];
        match s.read(&mut b) {
            Ok(0) => {
                cut = true;
                break;
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                cut = true;
                break;
            }
        }
    }
    assert!(
        cut,
        "a connection trickling headers was still open after 15 s"
    );
    // The server answers others meanwhile and after.
    let status = get(server.addr, "/api/explain/4013", Duration::from_secs(10)).unwrap();
    assert!(status.contains("200"), "{status}");
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let server = start(config(Duration::from_secs(1), None));
    let mut s = TcpStream::connect(server.addr).unwrap();
    // A silent connection that never sends a byte.
    assert!(
        closed_within(&mut s, Duration::from_secs(15)),
        "a silent connection was still open after 15 s"
    );
    // A connection idle after one answered request.
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(b"GET /api/codes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    assert!(
        closed_within(&mut s, Duration::from_secs(15)),
        "an idle keep-alive connection was still open after 15 s"
    );
}

#[test]
fn connections_over_the_bound_wait_and_are_served_when_others_go() {
    let server = start(config(Duration::from_secs(2), Some(8)));
    // Fill every slot with connections that send half a request and then nothing.
    let mut hogs = Vec::new();
    for _ in 0..8 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        hogs.push(s);
    }
    // The ninth waits in the backlog, then is served once the header timeout frees slots.
    let status = get(server.addr, "/api/explain/4013", Duration::from_secs(20)).unwrap();
    assert!(status.contains("200"), "{status}");
    drop(hogs);
}

#[test]
fn the_token_limiter_sees_each_client_address() {
    let mut cfg = config(Duration::from_secs(5), None);
    cfg.token = Some("correct-horse".into());
    let server = start(cfg);
    let ask = |token: &str| -> String {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET /api/codes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out.lines().next().unwrap_or("").to_string()
    };
    assert!(ask("correct-horse").contains("200"));
    let mut last = String::new();
    for i in 0..30 {
        last = ask(&format!("wrong-{i}"));
    }
    assert!(last.contains("429"), "{last}");
}
