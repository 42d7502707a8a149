//! Sources as a reader sees them: a title and, where the source is a web page, its link,
//! instead of the keys (`PG_FIXSTORY_4013`) that `knowledge/` cites. Both are read off the
//! descriptions in `knowledge/sources.toml`; nothing here is invented: a source whose
//! description names no page has no link, and one that says nothing about itself keeps its key
//! as its title.

use crate::KnowledgeBase;
use serde::Serialize;

/// A cited source, ready to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRef {
    /// The key `knowledge/` cites it by.
    pub key: String,
    /// What to call it: the page's own words (its address's last part) and site, or the
    /// description.
    pub title: String,
    /// `https://` and the page the description names, when it names one in full.
    pub url: Option<String>,
}

/// The longest title shown; longer descriptions are cut at a word.
const MAX_TITLE: usize = 100;

/// The source `key` names, if the knowledge base has it.
pub fn source_ref(kb: &KnowledgeBase, key: &str) -> Option<SourceRef> {
    let source = kb.sources().iter().find(|s| s.key == key)?;
    let desc = source.description.trim();
    let placeholder = desc.starts_with("cited by the reference tables");
    // A source with no words of its own may be described inside another's entry:
    // "... IFIXIT_653673 `ifixit.com/Answers/View/653673/…`".
    let own_link = if placeholder { None } else { first_link(desc) };
    let link = own_link.clone().or_else(|| {
        kb.sources()
            .iter()
            .find_map(|s| link_after_key(&s.description, key))
    });
    let title = match (&own_link, &link) {
        (Some(l), _) => {
            let rest = plain_text(&desc.replacen(&format!("`{l}`"), "", 1));
            // A description may go on to describe other sources ("... PG_OTHER – `link`"):
            // this one's words stop at the next key.
            let rest = match rest.split_whitespace().position(looks_like_key) {
                Some(i) => rest
                    .split_whitespace()
                    .take(i)
                    .collect::<Vec<_>>()
                    .join(" "),
                None => rest,
            };
            let rest = rest.trim_matches(|c: char| c.is_whitespace() || ".,;:()–-".contains(c));
            let rest = rest.strip_prefix("which ").unwrap_or(rest);
            if rest.is_empty() {
                page_title(l)
            } else {
                format!("{}: {}", host(l), cut(rest, MAX_TITLE))
            }
        }
        (None, Some(l)) => page_title(l),
        (None, None) if placeholder => key.to_string(),
        (None, None) => cut(&plain_text(desc), MAX_TITLE),
    };
    let url = link
        .filter(|l| !l.contains('…'))
        .map(|l| format!("https://{}", l.trim_end_matches(['.', ','])));
    Some(SourceRef {
        key: key.to_string(),
        title,
        url,
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

/// A backticked `host.tld/path` in a description: the first page it names.
fn first_link(desc: &str) -> Option<String> {
    desc.split('`')
        .skip(1)
        .step_by(2)
        .find(|t| is_link(t))
        .map(str::to_string)
}

/// `KEY `link`` or `KEY – `link`` inside another source's description.
fn link_after_key(desc: &str, key: &str) -> Option<String> {
    let at = desc.find(key)? + key.len();
    let rest = desc[at..].trim_start_matches([' ', '–', '-']);
    let inner = rest.strip_prefix('`')?;
    let link = &inner[..inner.find('`')?];
    is_link(link).then(|| link.to_string())
}

/// `site.tld/...`: a host with a dot and a letters-only top-level domain, then a path.
fn is_link(t: &str) -> bool {
    let Some((host, _)) = t.split_once('/') else {
        return false;
    };
    let Some((_, tld)) = host.rsplit_once('.') else {
        return false;
    };
    (2..=6).contains(&tld.len())
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// `PG_GADGETMANUAL_NAND`: upper case, digits and underscores, with at least one underscore.
fn looks_like_key(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    w.len() >= 5
        && w.contains('_')
        && w.starts_with(|c: char| c.is_ascii_uppercase())
        && w.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn host(link: &str) -> &str {
    let h = link.split('/').next().unwrap_or(link);
    h.strip_prefix("www.").unwrap_or(h)
}

/// A page's title from its address: the last path part in words, and the site
/// (`iphone-error-4013-fix/` on fixstorydtla.com → `Iphone error 4013 fix (fixstorydtla.com)`).
fn page_title(link: &str) -> String {
    let site = host(link);
    let path = link.split_once('/').map_or("", |(_, p)| p);
    let last = path
        .split(['/', '?', '#'])
        .rfind(|p| !p.is_empty())
        .unwrap_or("");
    let last = last
        .trim_end_matches(".html")
        .trim_end_matches(".htm")
        .trim_end_matches(".md");
    let words: Vec<&str> = last
        .split(['-', '_', '+'])
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() >= 2 && words.iter().any(|w| w.chars().any(char::is_alphabetic)) {
        let mut t = words.join(" ");
        if let Some(first) = t.get(..1) {
            t = first.to_uppercase() + &t[1..];
        }
        format!("{} ({site})", cut(&t, MAX_TITLE))
    } else {
        site.to_string()
    }
}

fn plain_text(s: &str) -> String {
    s.replace('`', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `s` cut to at most `max` characters at a word, with `…` when cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for w in s.split_whitespace() {
        if out.chars().count() + w.chars().count() + 1 > max - 1 {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_source_has_a_title_and_a_link() {
        let kb = crate::kb();
        let r = source_ref(kb, "PG_FIXSTORY_4013").unwrap();
        assert_eq!(
            r.url.as_deref(),
            Some("https://fixstorydtla.com/blog/iphone-errors/iphone-error-4013-4014-4005-fix/")
        );
        assert!(r.title.contains("error 4013") && r.title.contains("fixstorydtla.com"));
        assert!(!r.title.contains("PG_"), "{}", r.title);
        let r = source_ref(kb, "PG_IPSWDOWNLOADS_4013").unwrap();
        assert_eq!(r.url.as_deref(), Some("https://ipswdownloads.com/?p=4685"));
        assert!(
            r.title.starts_with("ipswdownloads.com: summarises"),
            "{}",
            r.title
        );
    }

    #[test]
    fn a_source_described_inside_another_gets_that_link() {
        let kb = crate::kb();
        let r = source_ref(kb, "PG_IPHONESERVICE_56").unwrap();
        assert_eq!(
            r.url.as_deref(),
            Some("https://iphoneservice.com.my/2018/07/iphone-7-error-56-nfc-problem.html")
        );
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
        assert!(source_ref(kb, "NOT_A_KEY").is_none());
    }

    #[test]
    fn every_source_has_a_title_and_well_formed_link() {
        let kb = crate::kb();
        for s in kb.sources() {
            let r = source_ref(kb, &s.key).unwrap();
            assert!(
                !r.title.is_empty() && r.title.chars().count() <= MAX_TITLE + 20,
                "{r:?}"
            );
            if let Some(u) = &r.url {
                assert!(
                    u.starts_with("https://") && !u.contains(' ') && !u.contains('`'),
                    "{r:?}"
                );
            }
        }
    }
}
