//! Sources as a reader sees them: a title and a link instead of the keys (`PG_FIXSTORY_4013`)
//! that `knowledge/` cites, from the records of `knowledge/sources.toml` (each has both; the
//! knowledge base's validation checks it).

use crate::KnowledgeBase;
use serde::Serialize;

/// A cited source, ready to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRef {
    /// The key `knowledge/` cites it by.
    pub key: String,
    /// What the document is.
    pub title: String,
    /// Where to read it.
    pub url: Option<String>,
}

/// The source `key` names (a bare key or `KEY@revision`), if the knowledge base has it.
pub fn source_ref(kb: &KnowledgeBase, key: &str) -> Option<SourceRef> {
    let source = kb.source(key)?;
    Some(SourceRef {
        key: source.key.clone(),
        title: source.title.clone(),
        url: Some(source.url.clone()).filter(|u| !u.is_empty()),
    })
}

/// The source keys `text` cites, each once, in the order they first appear.
pub fn cited_keys(kb: &KnowledgeBase, text: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.len() >= 3
            && word.chars().any(|c| c.is_ascii_uppercase())
            && !word.chars().any(|c| c.is_ascii_lowercase())
            && kb.sources().iter().any(|s| s.key == word)
            && !keys.iter().any(|k| k == word)
        {
            keys.push(word.to_string());
        }
    }
    keys
}

/// `text` with every cited key replaced by its number in `refs` (`[1]`), for a reader.
pub fn number_citations(text: &str, refs: &[SourceRef]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match refs.iter().position(|r| r.key == *word) {
            Some(i) => out.push_str(&format!("[{}]", i + 1)),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The sources the texts cite (in order), as references to show.
pub fn cited(kb: &KnowledgeBase, texts: &[&str]) -> Vec<SourceRef> {
    let mut keys: Vec<String> = Vec::new();
    for t in texts {
        for k in cited_keys(kb, t) {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys.iter().filter_map(|k| source_ref(kb, k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_source_has_a_title_and_a_link() {
        let kb = crate::kb();
        let r = source_ref(kb, "PG_FIXSTORY_4013").unwrap();
        assert!(
            r.url
                .as_deref()
                .is_some_and(|u| u.contains("fixstorydtla.com")),
            "{r:?}"
        );
        assert!(!r.title.contains("PG_"), "{}", r.title);
        assert!(source_ref(kb, "NOT_A_KEY").is_none());
    }

    #[test]
    fn citations_are_numbered_in_order() {
        let kb = crate::kb();
        let text = "estimate: PG_FIXSTORY_4013 and APPLE_102561_VIA_PG_KYOTO say so; \
                    PG_FIXSTORY_4013's case studies";
        let refs = cited(kb, &[text]);
        let keys: Vec<&str> = refs.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["PG_FIXSTORY_4013", "APPLE_102561_VIA_PG_KYOTO"]);
        assert_eq!(
            number_citations(text, &refs),
            "estimate: [1] and [2] say so; [1]'s case studies"
        );
    }

    #[test]
    fn every_source_has_a_title_and_a_link() {
        let kb = crate::kb();
        for s in kb.sources() {
            let r = source_ref(kb, &s.key).unwrap();
            assert!(!r.title.is_empty(), "{r:?}");
            let u = r.url.as_deref().unwrap_or_default();
            assert!(
                (u.starts_with("https://") || u.starts_with("http://")) && !u.contains(' '),
                "{r:?}"
            );
        }
    }
}
