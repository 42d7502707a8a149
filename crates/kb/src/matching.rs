//! Finding a device from what a person types: marketing names in any reasonable spelling
//! ("iphone x", "iPhone-X", "7 plus", "7+", "iPad 7", "iPad (7th generation)"), product types
//! ("iPhone10,3") and boards ("d22ap", "d22").

use crate::model::Device;
use std::collections::BTreeMap;

/// The outcome of a device search.
#[derive(Debug, Clone)]
pub enum DeviceMatch<'a> {
    /// One model (all its variants share the name, button scheme and faults).
    Found {
        name: &'a str,
        variants: Vec<&'a Device>,
    },
    /// Several models match equally well; their names, best first.
    Ambiguous(Vec<&'a str>),
    /// Nothing matches; the closest names, best first.
    NotFound(Vec<&'a str>),
}

/// Lower-case, `generation` → `gen`, `+` → ` plus`, punctuation and dashes to spaces.
pub fn normalise_name(s: &str) -> String {
    let s = s.trim().to_lowercase();
    let s = s.replace("generation", "gen").replace('+', " plus ");
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '(' | ')' | ',' | '-' | '_' | '/' | '"' | '\'' | '’' => out.push(' '),
            _ => out.push(ch),
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    words.join(" ")
}

/// Names, product types and boards, normalised, pointing at device indexes.
#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    keys: BTreeMap<String, Vec<usize>>,
}

impl NameIndex {
    pub(crate) fn new(devices: &[Device]) -> Self {
        let mut idx = NameIndex::default();
        for (i, d) in devices.iter().enumerate() {
            for key in keys_for(d) {
                let slot = idx.keys.entry(key).or_default();
                if !slot.contains(&i) {
                    slot.push(i);
                }
            }
        }
        idx
    }

    pub(crate) fn find<'a>(&self, query: &str, devices: &'a [Device]) -> DeviceMatch<'a> {
        let q = normalise_name(query);
        let compact = q.replace(' ', "");
        // 1. Exact on any spelling of any device (also with the spaces squeezed out).
        let hits = self
            .keys
            .get(&q)
            .or_else(|| self.keys.get(&compact))
            .cloned()
            .or_else(|| {
                let v: Vec<usize> = self
                    .keys
                    .iter()
                    .filter(|(k, _)| k.replace(' ', "") == compact)
                    .flat_map(|(_, v)| v.iter().copied())
                    .collect();
                (!v.is_empty()).then_some(v)
            });
        if let Some(hits) = hits {
            return group(hits, devices);
        }
        if q.is_empty() {
            return DeviceMatch::NotFound(Vec::new());
        }
        // 2. Every word of the query appears in a name: ambiguous unless one model.
        let qwords: Vec<&str> = q.split(' ').collect();
        let mut partial: Vec<usize> = Vec::new();
        for (i, d) in devices.iter().enumerate() {
            let name = normalise_name(&d.name);
            let words: Vec<&str> = name.split(' ').collect();
            if qwords.iter().all(|w| words.contains(w)) {
                partial.push(i);
            }
        }
        if !partial.is_empty() {
            return match group(partial, devices) {
                DeviceMatch::Found { name, .. } => DeviceMatch::Ambiguous(vec![name]),
                other => other,
            };
        }
        // 3. Nothing: the closest names by edit distance.
        let mut scored: Vec<(usize, &'a str)> = Vec::new();
        for d in devices {
            if scored.iter().any(|(_, n)| *n == d.name) {
                continue;
            }
            let dist = levenshtein(&q, &normalise_name(&d.name));
            scored.push((dist, &d.name));
        }
        scored.sort();
        DeviceMatch::NotFound(scored.into_iter().take(5).map(|(_, n)| n).collect())
    }
}

fn group(hits: Vec<usize>, devices: &[Device]) -> DeviceMatch<'_> {
    let mut names: Vec<&str> = Vec::new();
    for &i in &hits {
        if !names.contains(&devices[i].name.as_str()) {
            names.push(&devices[i].name);
        }
    }
    if names.len() == 1 {
        let name = names[0];
        let variants = devices.iter().filter(|d| d.name == name).collect();
        DeviceMatch::Found { name, variants }
    } else {
        DeviceMatch::Ambiguous(names)
    }
}

/// Every spelling a device answers to.
fn keys_for(d: &Device) -> Vec<String> {
    let mut keys = vec![
        d.product_type.to_ascii_lowercase(),
        normalise_name(&d.product_type),
        d.board.to_ascii_lowercase(),
    ];
    if let Some(b) = d.board.strip_suffix("ap") {
        keys.push(b.to_string());
    }
    let mut names = vec![normalise_name(&d.name), normalise_name(&d.variant)];
    names.extend(d.aliases.iter().map(|a| normalise_name(a)));
    // "iPad Pro 12.9-inch (3rd gen)" is also "ipad pro 12.9 3rd gen", and by its year without
    // the size, "ipad pro 2018" (which the 11-inch 1st gen answers to as well: ambiguous, so
    // the person is asked which).
    for n in names.clone() {
        if let Some((sized, _)) = n.split_once(" inch") {
            names.push(n.replace(" inch", ""));
            if d.year > 0
                && let Some((model, _size)) = sized.rsplit_once(' ')
            {
                keys.push(format!("{model} {}", d.year));
            }
        }
    }
    for n in names.clone() {
        // "ipad 7th gen" → "ipad 7", "ipad 7 gen"; "iphone se 2nd gen" → "iphone se 2".
        if let Some(stem) = n.strip_suffix(" gen") {
            let mut words: Vec<&str> = stem.split(' ').collect();
            if let Some(last) = words.pop() {
                let num = last.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                if !num.is_empty() && num.chars().all(|c| c.is_ascii_digit()) {
                    let base = words.join(" ");
                    names.push(format!("{base} {num}"));
                    names.push(format!("{base} {num} gen"));
                    names.push(format!("{base} {last}"));
                    // The year people tell generations apart by: "iphone se 2020", "ipad 2019".
                    if d.year > 0 {
                        names.push(format!("{base} {}", d.year));
                    }
                }
            }
        }
    }
    for n in names {
        // Without the family word: "7 plus", "11 pro max", "se 2".
        if d.family == crate::model::DeviceFamily::IPhone
            && let Some(rest) = n.strip_prefix("iphone ")
        {
            keys.push(rest.to_string());
        }
        keys.push(n);
    }
    keys.sort();
    keys.dedup();
    keys
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_the_spellings_people_use() {
        assert_eq!(normalise_name("iPhone-X"), "iphone x");
        assert_eq!(normalise_name("iPhone 7+"), "iphone 7 plus");
        assert_eq!(normalise_name("iPad (7th generation)"), "ipad 7th gen");
        assert_eq!(normalise_name("  iphone_11  Pro "), "iphone 11 pro");
    }

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("iphone 8", "iphone 8"), 0);
        assert_eq!(levenshtein("iphon 8", "iphone 8"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
    }
}
