//! Limits on what one request may ask for. Every list and string a request carries is bounded
//! (far above what a person or a shop's script sends), so that no single request can make the
//! server allocate or compute without end; over a limit the answer is 400 naming the field
//! (413 for a body over its route's cap).

use crate::wizard::FieldError;

/// Largest JSON body of `POST /api/diagnose`.
pub const MAX_JSON_BODY: usize = 256 << 10;
/// Largest form body of the diagnose wizard and its report (`/diagnose`, `/diagnose/report.md`).
pub const MAX_FORM_BODY: usize = 512 << 10;
/// Most fields in one wizard form.
pub const MAX_FORM_FIELDS: usize = 1000;
/// Most items in `tried`, `observed` and `answers` (the vocabularies are far shorter).
pub const MAX_LIST: usize = 64;
/// Most steps and answers the wizard carries.
pub const MAX_EVENTS: usize = 200;
/// Longest vocabulary word, observation (`key=value`) or answer.
pub const MAX_WORD: usize = 100;
/// Longest device name, host, role, case id or error code as text (and device query).
pub const MAX_NAME: usize = 200;
/// Longest free text in characters (a person's account fits many times over).
pub const MAX_TEXT: usize = 20_000;
/// Longest `file` name given to `POST /api/logs`.
pub const MAX_FILE_NAME: usize = 255;

/// Refuse a string longer than `max` characters.
pub fn check_len(field: &str, value: Option<&str>, max: usize) -> Result<(), FieldError> {
    match value.map(|v| v.chars().count()) {
        Some(n) if n > max => Err(FieldError {
            field: field.into(),
            message: format!("`{field}` is too long ({n} characters): keep it under {max}"),
        }),
        _ => Ok(()),
    }
}

/// Refuse a list with more than `max_items` items or an item longer than `max_each`.
pub fn check_list<S: AsRef<str>>(
    field: &str,
    items: &[S],
    max_items: usize,
    max_each: usize,
) -> Result<(), FieldError> {
    if items.len() > max_items {
        return Err(FieldError {
            field: field.into(),
            message: format!(
                "`{field}` has too many items ({}): give at most {max_items}",
                items.len()
            ),
        });
    }
    for item in items {
        check_len(field, Some(item.as_ref()), max_each)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_the_field() {
        assert!(check_len("device", Some("iPhone X"), MAX_NAME).is_ok());
        assert!(check_len("device", None, MAX_NAME).is_ok());
        let e = check_len("device", Some(&"x".repeat(MAX_NAME + 1)), MAX_NAME).unwrap_err();
        assert_eq!(e.field, "device");
        assert!(e.message.contains("too long"), "{}", e.message);
        let many = vec!["cable_swap"; MAX_LIST + 1];
        let e = check_list("tried", &many, MAX_LIST, MAX_WORD).unwrap_err();
        assert_eq!(e.field, "tried");
        assert!(e.message.contains("too many"), "{}", e.message);
        let long = vec!["x".repeat(MAX_WORD + 1)];
        assert_eq!(
            check_list("observed", &long, MAX_LIST, MAX_WORD)
                .unwrap_err()
                .field,
            "observed"
        );
        // Characters, not bytes.
        assert!(check_len("text", Some(&"é".repeat(MAX_TEXT)), MAX_TEXT).is_ok());
    }
}
