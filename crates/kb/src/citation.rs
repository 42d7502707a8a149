//! The `source` strings of the knowledge base: `KEY; KEY@revision; estimate: reasoning`.
//! Each key names a record of `knowledge/sources.toml` ([`crate::Source`]); the reasoning after
//! `estimate:` stands in for a source where none supports the number.

/// One cited key, with the revision the citation pins (`IDR_RESTORE_C@405fcd1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CitedKey<'a> {
    pub key: &'a str,
    pub revision: Option<&'a str>,
}

/// A `source` string split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Citation<'a> {
    /// The cited keys, in the order written.
    pub keys: Vec<CitedKey<'a>>,
    /// The reasoning after `estimate:`, trimmed; `None` when the string has no estimate.
    pub estimate: Option<&'a str>,
}

/// Split a `source` string: keys separated by `;` before an optional `estimate:` clause.
pub fn parse_citation(value: &str) -> Citation<'_> {
    let (keys, estimate) = match value.split_once("estimate:") {
        Some((keys, reason)) => (keys, Some(reason.trim())),
        None => (value, None),
    };
    let keys = keys
        .split(';')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| match k.split_once('@') {
            Some((key, rev)) => CitedKey {
                key: key.trim(),
                revision: Some(rev.trim()),
            },
            None => CitedKey {
                key: k,
                revision: None,
            },
        })
        .collect();
    Citation { keys, estimate }
}

/// The words of an estimate's reasoning shaped like a source key with parts (`PG_ROSSMANN_4013`,
/// `IDR_HIST_3e86511`). Reasoning that names a source this way must name one that exists.
/// (A one-word key such as `USBIDS` cannot be told from an acronym, so it is not looked for.)
pub fn keys_named_in(reasoning: &str) -> impl Iterator<Item = &str> {
    reasoning
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.contains('_') && is_key_shaped(w))
}

/// A source key: an upper-case word (letters and digits), then any `_`-joined parts
/// (`USBIDS`, `PG_ROSSMANN_4013`, `IDR_HIST_3e86511`).
pub(crate) fn is_key_shaped(word: &str) -> bool {
    let mut parts = word.split('_');
    let head = parts.next().unwrap_or("");
    head.len() >= 2
        && head.starts_with(|c: char| c.is_ascii_uppercase())
        && head
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && parts.all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_keys_revisions_and_the_estimate() {
        let c =
            parse_citation("IDR_RESTORE_C@405fcd1; ISSUE_IDR_539 ;estimate: one log, address lost");
        assert_eq!(
            c.keys,
            [
                CitedKey {
                    key: "IDR_RESTORE_C",
                    revision: Some("405fcd1")
                },
                CitedKey {
                    key: "ISSUE_IDR_539",
                    revision: None
                },
            ]
        );
        assert_eq!(c.estimate, Some("one log, address lost"));
        let only = parse_citation("estimate: judged from shop write-ups");
        assert!(only.keys.is_empty());
        assert_eq!(only.estimate, Some("judged from shop write-ups"));
        assert_eq!(parse_citation("").keys, []);
    }

    #[test]
    fn finds_key_shaped_words_in_reasoning() {
        let named: Vec<&str> = keys_named_in(
            "shops (PG_ROSSMANN_4013, IFIXIT_797434) and IDR_HIST_3e86511; not I2C, DFU, 4013, snake_case or A__B",
        )
        .collect();
        assert_eq!(
            named,
            ["PG_ROSSMANN_4013", "IFIXIT_797434", "IDR_HIST_3e86511"]
        );
    }

    #[test]
    fn keys_are_upper_case_words() {
        for good in ["USBIDS", "APPLEDB", "PG_ROSSMANN_4013", "PASTEBIN_SWd5zvUg"] {
            assert!(is_key_shaped(good), "{good}");
        }
        for bad in [
            "",
            "appledb_spotcheck",
            "cpid_to_soc",
            "X",
            "PG__X",
            "PG_",
            "PG_A-B",
            "Pg_X",
        ] {
            assert!(!is_key_shaped(bad), "{bad}");
        }
    }
}
