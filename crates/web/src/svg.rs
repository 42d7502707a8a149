//! Small charts drawn on the server as inline SVG. They hold numbers only (labels stay in the
//! escaped HTML around them) and use presentation attributes, not inline styles, so the strict
//! Content-Security-Policy allows them.

fn pct(x: f64) -> f64 {
    (x.clamp(0.0, 1.0) * 1000.0).round() / 10.0
}

/// A horizontal probability bar; `before` (the value before the last answer) is drawn as a
/// thin marker so the move shows.
pub fn probability_bar(p: f64, before: Option<f64>) -> String {
    let w = pct(p);
    let marker = before
        .map(|b| {
            let x = pct(b);
            format!(r#"<rect class="before" x="{x}" y="0" width="0.8" height="10"/>"#)
        })
        .unwrap_or_default();
    let label = match before {
        Some(b) => format!("{w}% (was {}%)", pct(b)),
        None => format!("{w}%"),
    };
    format!(
        r#"<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="{label}"><rect class="track" x="0" y="0" width="100" height="10"/><rect class="fill" x="0" y="0" width="{w}" height="10"/>{marker}</svg>"#
    )
}

/// A failure rate with its 95% interval, on a scale from 0 to `scale` (e.g. the largest upper
/// bound shown), as a bar with a whisker; `flagged` colours it.
pub fn rate_with_interval(rate: f64, lo: f64, hi: f64, scale: f64, flagged: bool) -> String {
    let s = if scale > 0.0 { scale } else { 1.0 };
    let x = |v: f64| ((v / s).clamp(0.0, 1.0) * 2000.0).round() / 10.0;
    let (r, l, h) = (x(rate), x(lo), x(hi));
    let class = if flagged { "fill flagged" } else { "fill" };
    format!(
        r#"<svg class="rate" viewBox="0 0 200 12" preserveAspectRatio="none" role="img" aria-label="failure rate {:.1}%, 95% interval {:.1}% to {:.1}%"><rect class="track" x="0" y="2" width="200" height="8"/><rect class="{class}" x="0" y="2" width="{r}" height="8"/><line class="ci" x1="{l}" y1="6" x2="{h}" y2="6"/><line class="ci" x1="{l}" y1="1" x2="{l}" y2="11"/><line class="ci" x1="{h}" y1="1" x2="{h}" y2="11"/></svg>"#,
        rate * 100.0,
        lo * 100.0,
        hi * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_and_clamp() {
        assert!(probability_bar(0.42, None).contains(r#"class="fill" x="0" y="0" width="42""#));
        assert!(probability_bar(1.7, None).contains(r#"width="100" height="10"/></svg>"#));
        let moved = probability_bar(0.5, Some(0.25));
        assert!(moved.contains(r#"class="before" x="25""#));
        assert!(moved.contains("was 25%"));
    }

    #[test]
    fn interval_whiskers_sit_at_the_bounds() {
        let s = rate_with_interval(0.2, 0.1, 0.4, 0.5, true);
        assert!(s.contains(r#"width="80""#));
        assert!(s.contains(r#"x1="40" y1="6" x2="160""#));
        assert!(s.contains("fill flagged"));
    }
}
