//! How long fitting the embedded corpus takes (once per process): `cargo run --release -p
//! engine --example fit_time`.

fn main() {
    let t = std::time::Instant::now();
    let kb = kb::kb();
    let _ = kb.cases().len();
    println!("cases decoded in {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let _ = engine::text::understand(kb, "warm up the reader");
    println!("reader built in {:?}", t.elapsed());
    let t = std::time::Instant::now();
    for c in kb.cases() {
        let _ = engine::text::understand(kb, &c.report);
    }
    println!("every report read in {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let fit = engine::learn::default_fit();
    println!("fitted {} cases in {:?}", fit.cases, t.elapsed());
}
