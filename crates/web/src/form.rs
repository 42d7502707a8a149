//! `application/x-www-form-urlencoded` bodies with repeated keys (checkbox lists and the
//! wizard's hidden evidence fields), which serde's flat form decoding cannot hold.

/// The decoded pairs of a form body, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> FormData {
        FormData(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The last non-empty value of a key, trimmed.
    pub fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .rev()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .next()
    }

    /// Every non-empty value of a key, trimmed, in order.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_kept_in_order_and_blanks_dropped() {
        let f = FormData::parse(
            b"tried=cable_swap&tried=&tried=port_swap&device=iPhone+X&text=%3Cb%3E",
        );
        assert_eq!(f.all("tried"), vec!["cable_swap", "port_swap"]);
        assert_eq!(f.get("device").as_deref(), Some("iPhone X"));
        assert_eq!(f.get("text").as_deref(), Some("<b>"));
        assert_eq!(f.get("missing"), None);
    }
}
