//! Which real cases quote restore-log lines in their report, and what the log reader makes of
//! them: `cargo run -p engine --example quoted`.

fn main() {
    for c in kb::kb().cases() {
        if let Some(lines) = engine::intake::quoted_log_lines(&c.report) {
            let log = logs::analyze_bytes(lines.as_bytes());
            println!(
                "{} [{}] tool={} outcome={:?} facts={:?}\n   {}",
                c.id,
                c.resolution_category,
                log.tool.as_str(),
                log.outcome,
                log.facts(),
                lines.replace('\n', " | ")
            );
        }
    }
}
