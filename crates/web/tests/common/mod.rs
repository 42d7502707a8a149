//! Shared by the handler tests and the browser tests: a seeded case database and the app.
#![allow(dead_code)]

use std::time::Duration;

pub const NAND_LOG: &str = include_str!("../fixtures/nand_failure_with_script_tag.log");

/// A SQLite store in a temp dir with one case: an iPhone X failing with 4013 at the NAND
/// stage on three cables and two computers, opened for a customer whose name holds a script.
pub fn seeded_store() -> (tempfile::TempDir, store::Store, i64) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store::Store::open_sqlite(&dir.path().join("cases.sqlite3")).unwrap();
    let id = s
        .create_case(&store::NewCase {
            device: store::NewDevice {
                label: "iPhone X".into(),
                product_type: Some("iPhone10,3".into()),
                name: Some("iPhone X".into()),
                ecid: Some("000A1B2C3D4E5F60".into()),
                ..Default::default()
            },
            error_code: Some(4013),
            customer: Some("<script>alert('customer')</script>".into()),
            ticket: None,
        })
        .unwrap();
    for computer in ["bench-mac", "bench-pc"] {
        for cable in ["cable-A", "cable-B", "cable-C"] {
            let mut a = store::NewAttempt::new(computer, store::AttemptResult::Error(4013));
            a.cable = Some(cable.into());
            a.stage = Some("nand".into());
            s.add_attempt(id, &a).unwrap();
        }
    }
    s.add_step(
        id,
        &store::NewStep {
            action: "swap_cable".into(),
            outcome: store::StepOutcome::Failed,
            who: None,
        },
    )
    .unwrap();
    (dir, s, id)
}

pub fn app_with(
    store: Result<store::Store, String>,
    token: Option<&str>,
    max_upload: usize,
) -> axum::Router {
    let state = web::AppState::new(token.map(str::to_string), store, max_upload);
    web::router(state, Duration::from_secs(10))
}
