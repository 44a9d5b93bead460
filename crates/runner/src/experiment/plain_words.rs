//! A config's type errors in the words of the person who wrote it: serde says "invalid type:
//! floating point `1.5`, expected usize"; a reader of a config wants "got `1.5`, expected a
//! whole number".

/// Serde's phrases and ours, applied in this order (each phrase as serde_json writes it).
const PHRASES: [(&str, &str); 19] = [
    ("expected usize", "expected a whole number, 0 or more"),
    ("expected u64", "expected a whole number, 0 or more"),
    ("expected u32", "expected a whole number, 0 or more"),
    ("expected u16", "expected a whole number, 0 or more"),
    ("expected u8", "expected a whole number, 0 or more"),
    ("expected i64", "expected a whole number"),
    ("expected i32", "expected a whole number"),
    ("expected f64", "expected a number"),
    ("expected f32", "expected a number"),
    ("expected a sequence", "expected a list"),
    ("expected a boolean", "expected true or false"),
    ("invalid type: string ", "got the text "),
    ("invalid type: floating point ", "got "),
    ("invalid type: integer ", "got "),
    ("invalid value: integer ", "got "),
    ("invalid type: boolean ", "got "),
    ("invalid type: sequence", "got a list"),
    ("invalid type: map", "got an object"),
    ("invalid type: null", "got null"),
];

/// `message` with serde's type names and phrases put in plain words.
pub(super) fn plain_words(message: &str) -> String {
    PHRASES
        .iter()
        .fold(message.to_string(), |m, (serde, ours)| {
            m.replace(serde, ours)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_type_names_become_words() {
        assert_eq!(
            plain_words("invalid type: floating point `1.5`, expected usize"),
            "got `1.5`, expected a whole number, 0 or more"
        );
        assert_eq!(
            plain_words("invalid type: string \"abc\", expected f64"),
            "got the text \"abc\", expected a number"
        );
        assert_eq!(
            plain_words("invalid type: string \"[highway]\", expected a sequence"),
            "got the text \"[highway]\", expected a list"
        );
        assert_eq!(
            plain_words("invalid value: integer `-1`, expected u64"),
            "got `-1`, expected a whole number, 0 or more"
        );
        // Messages of our own pass unchanged.
        assert_eq!(plain_words("must be at least 1"), "must be at least 1");
    }
}
