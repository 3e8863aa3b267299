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

/// Where the phrase `phrase` (its words in a row) starts in `words`, if it does.
pub fn find_phrase(words: &[String], phrase: &[String]) -> Option<usize> {
    if phrase.is_empty() || phrase.len() > words.len() {
        return None;
    }
    words.windows(phrase.len()).position(|w| w == phrase)
}

/// The positions of `a` and `b` when some `a` and some `b` stand at most `within` words apart
/// (`within` 1: next to each other).
pub fn near(words: &[String], a: &str, b: &str, within: usize) -> Option<(usize, usize)> {
    let at_a: Vec<usize> = positions(words, a);
    let at_b: Vec<usize> = positions(words, b);
    for &i in &at_a {
        for &j in &at_b {
            if i != j && i.abs_diff(j) <= within {
                return Some((i.min(j), i.max(j)));
            }
        }
    }
    None
}

fn positions(words: &[String], w: &str) -> Vec<usize> {
    words
        .iter()
        .enumerate()
        .filter(|(_, x)| x.as_str() == w)
        .map(|(i, _)| i)
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
        let w = words("I was charged, sadly, twice for it", false);
        assert_eq!(find_phrase(&w, &words("charged sadly", false)), Some(2));
        assert_eq!(near(&w, "charged", "twice", 2), Some((2, 4)));
        assert_eq!(near(&w, "charged", "twice", 1), None);
    }
}
