//! Print what the free-text reader makes of a text: `cargo run -p engine --example understand
//! -- "my iphone 11 fails with 4013, tried another cable"`.

fn main() {
    let text: Vec<String> = std::env::args().skip(1).collect();
    let u = engine::text::understand(kb::kb(), &text.join(" "));
    println!("{}", serde_json::to_string_pretty(&u).unwrap_or_default());
}
