//! `cargo run -p engine --release --example policies -- [CASES] [SEED] [owner|technician]`:
//! the policy benchmark without building the whole CLI.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cases = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(500);
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let role = args
        .get(3)
        .and_then(|s| engine::Role::parse(s))
        .unwrap_or_default();
    let report = engine::sim::run(kb::kb(), engine::sim::SimConfig { cases, seed, role });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
