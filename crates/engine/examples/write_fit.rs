//! Write the fit of the embedded corpus to `crates/engine/fitted/default_fit.json`, which every
//! diagnosis decodes instead of reading the corpus again (`engine::learn::default_fit`):
//! `cargo run -p engine --example write_fit`. The test `tests/fit.rs` says when it is due.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kb = kb::kb();
    let fit = engine::learn::fit_corpus(kb);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fitted/default_fit.json");
    let mut text = serde_json::to_string_pretty(&fit.data())?;
    text.push('\n');
    std::fs::write(&path, text)?;
    println!("wrote the fit of {} cases to {}", fit.cases, path.display());
    Ok(())
}
