//! Words, as the screening tests see them: runs of letters and digits (any script); everything
//! else separates. Without `case`, lower-cased.

/// The words of `text`.
pub fn words(text: &str, case: bool) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if case {
                w.to_string()
            } else {
                w.to_lowercase()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_letters_and_digits_of_any_script() {
        assert_eq!(
            words("Re: Rückgabe #A-48213, bitte!", false),
            ["re", "rückgabe", "a", "48213", "bitte"]
        );
        assert_eq!(words("Hello World", true), ["Hello", "World"]);
    }
}
