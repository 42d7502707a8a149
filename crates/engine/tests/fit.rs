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

/// The estimates the real cases now inform say so in their source: every observation whose
/// likelihoods the fit replaces and every code family whose prior it counts.
#[test]
fn every_estimate_the_corpus_refits_says_so() {
    let kb = kb::kb();
    let data = default_fit().data();
    let says_so = |source: &str| source.contains("corpus of real cases");
    for id in data.likelihoods.keys() {
        let o = kb
            .observation(id)
            .expect("a fitted observation is in the knowledge base");
        assert!(
            says_so(&o.source),
            "knowledge/observations.toml: the source of `{id}` does not say the corpus refits it"
        );
    }
    for id in data.family_counts.keys() {
        let f = kb
            .family(id)
            .expect("a fitted family is in the knowledge base");
        assert!(
            says_so(&f.prior_source),
            "knowledge/error_codes.toml: the prior_source of family `{id}` does not say the \
             corpus refits it"
        );
    }
}
