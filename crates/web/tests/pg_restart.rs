//! `serve` over PostgreSQL when the server restarts under it: the case routes answer again
//! without restarting `serve` (issue 16, finding 2). Runs on a throwaway cluster of its own
//! (`scripts/pg-test-server.sh` with `PG_TEST_DIR`); skipped without `RESTORE_DOCTOR_TEST_PG`
//! (the sign that PostgreSQL is installed), except under `CI`, where it fails.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::path::PathBuf;
use std::process::Command;
use tower::ServiceExt;

fn script(cmd: &str, dir: &std::path::Path) -> String {
    let out = Command::new("bash")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-test-server.sh"))
        .arg(cmd)
        .env("PG_TEST_DIR", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pg-test-server.sh {cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

struct Cluster(PathBuf);

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| script("stop", &self.0));
    }
}

async fn status(app: &axum::Router, uri: &str) -> (StatusCode, String) {
    let r = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let s = r.status();
    let body = r.into_body().collect().await.unwrap().to_bytes();
    (s, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn case_routes_answer_again_after_postgres_restarts() {
    if std::env::var_os("RESTORE_DOCTOR_TEST_PG").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "RESTORE_DOCTOR_TEST_PG must be set in CI"
        );
        eprintln!("WARNING: skipped: RESTORE_DOCTOR_TEST_PG not set");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rd-pg-web-{}", std::process::id()));
    let url = script("start", &dir);
    let cluster = Cluster(dir);
    let mut store = store::Store::open_postgres(&format!("{url}?connect_timeout=2")).unwrap();
    store
        .create_case(&store::NewCase {
            device: store::NewDevice {
                label: "iPhone 8".into(),
                ..Default::default()
            },
            error_code: Some(4013),
            customer: Some("Ada".into()),
            ticket: None,
        })
        .unwrap();
    // As `serve` does: the store is opened before the runtime, used from blocking tasks.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(requests(store, &cluster));
}

async fn requests(store: store::Store, cluster: &Cluster) {
    let state = web::AppState::new(None, Ok(store), 1 << 20);
    let app = web::router(state, std::time::Duration::from_secs(10));
    assert_eq!(status(&app, "/api/cases").await.0, StatusCode::OK);

    script("crash", &cluster.0);
    let (s, body) = status(&app, "/api/cases").await;
    assert!(s.is_server_error(), "{s} {body}");
    assert!(!body.contains("db error\""), "the cause is named: {body}");
    script("restart", &cluster.0);
    let (s, body) = status(&app, "/api/cases").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("Ada"), "{body}");
    assert_eq!(status(&app, "/cases").await.0, StatusCode::OK);
}
