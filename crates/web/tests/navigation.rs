//! The menu, the guides pages, the device picker and the sources on a code's page, through the
//! whole router.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app_with;
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(app: &Router, uri: &str) -> (StatusCode, String, String) {
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        String::from_utf8_lossy(&body).into_owned(),
        location,
    )
}

fn app() -> Router {
    app_with(Err("no database in this test".into()), None, 64 << 20)
}

#[tokio::test]
async fn the_menus_guides_link_opens_the_guides_page() {
    let app = app();
    let (status, home, _) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains(r#"<a href="/guides">Guides</a>"#), "{home}");
    assert!(!home.contains(r#"<a href="/devices">Guides</a>"#));
    let (status, page, _) = get(&app, "/guides").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(r#"<a href="/guides" aria-current="page">Guides</a>"#),
        "{page}"
    );
    assert!(page.contains(r#"<label for="device">"#) && page.contains(r#"<label for="kind">"#));
    // A guide itself is in the Guides section too.
    let (_, dfu, _) = get(&app, "/guides/dfu?device=iPhone%20X").await;
    assert!(dfu.contains(r#"<a href="/guides" aria-current="page">Guides</a>"#));
}

#[tokio::test]
async fn the_guides_page_takes_a_device_and_a_guide() {
    let app = app();
    let (status, page, _) = get(&app, "/guides?device=iphone+x").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h2>iPhone X</h2>"), "{page}");
    for kind in ["force-restart", "recovery", "dfu", "exit-recovery"] {
        assert!(
            page.contains(&format!("/guides/{kind}?device=iphone+x")),
            "{kind}"
        );
    }
    let (status, _, location) = get(&app, "/guides?device=iphone+x&kind=dfu").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/guides/dfu?device=iphone+x");
    let (status, page, _) = get(&app, "/guides?device=nokia+3310").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("No model called"), "{page}");
}

#[tokio::test]
async fn the_device_picker_lists_each_model_once() {
    let app = app();
    for uri in ["/", "/guides"] {
        let (_, page, _) = get(&app, uri).await;
        let options: Vec<&str> = page
            .split(r#"<option value=""#)
            .skip(1)
            .filter_map(|o| o.split('"').next())
            .filter(|o| o.starts_with("iPhone") || o.starts_with("iPad"))
            .collect();
        assert!(options.len() > 50, "{uri}: {}", options.len());
        for name in ["iPhone 7", "iPhone 8", "iPhone X"] {
            let n = options.iter().filter(|o| **o == name).count();
            assert_eq!(n, 1, "{uri}: {name} listed {n} times");
        }
        let mut unique = options.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            options.len(),
            "{uri}: a model is listed twice"
        );
    }
}

#[tokio::test]
async fn a_codes_page_names_its_sources_by_title_and_link() {
    let (status, page, _) = get(&app(), "/codes/4013").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h2>Sources</h2>"), "{page}");
    assert!(
        page.contains(r#"<a href="https://fixstorydtla.com/blog/iphone-errors/iphone-error-4013-4014-4005-fix/""#),
        "{page}"
    );
    assert!(
        !page.contains("PG_FIXSTORY_4013"),
        "raw source key on the page"
    );
    assert!(
        page.contains("Source of these numbers: estimate: [1]"),
        "{page}"
    );
}
