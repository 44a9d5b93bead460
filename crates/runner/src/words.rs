//! Counts in messages, in words a reader expects: "1 epoch", "2 epochs".

/// `n` and `noun`, the noun in the plural unless `n` is 1 (the nouns of our messages take an
/// `s`: run, epoch, trial, group, point).
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1, "epoch"), "1 epoch");
        assert_eq!(count(0, "run"), "0 runs");
        assert_eq!(count(20, "epoch"), "20 epochs");
    }
}
