//! The fit every diagnosis uses (`engine::learn::default_fit`, decoded from
//! `fitted/default_fit.json`) is the fit of the corpus as it is now: fitted again here from the
//! knowledge base's cases through the free-text and log readers as they are now.

use engine::learn::{FitData, default_fit, fit_corpus};

#[test]
fn the_embedded_fit_is_the_fit_of_the_corpus_now() {
    let kb = kb::kb();
    let fresh: FitData = fit_corpus(kb).data();
    let embedded: FitData = default_fit().data();
    assert!(
        fresh == embedded,
        "crates/engine/fitted/default_fit.json is stale (the corpus, the knowledge base or a \
         reader changed): run `cargo run -p engine --example write_fit` and commit it"
    );
    assert!(embedded.cases >= 100, "{} cases", embedded.cases);
}
