//! A readable line diff: what a reviewer changed in a reply, as people read it in the history.

/// Above this many line pairs the texts are shown whole, removed then added (no search).
const MAX_CELLS: usize = 4_000_000;

/// The change from `old` to `new`, one line each: `- ` removed, `+ ` added, `  ` kept.
/// Equal texts give an empty diff.
pub fn lines(old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut out = String::new();
    let mut push = |mark: &str, line: &str| {
        out.push_str(mark);
        out.push_str(line);
        out.push('\n');
    };
    if a.len().saturating_mul(b.len()) > MAX_CELLS {
        a.iter().for_each(|l| push("- ", l));
        b.iter().for_each(|l| push("+ ", l));
        return out;
    }
    // Longest common subsequence, from the end: lcs[i][j] for a[i..] and b[j..].
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if a[i] == b[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            push("  ", a[i]);
            i += 1;
            j += 1;
        } else if lcs[at(i + 1, j)] >= lcs[at(i, j + 1)] {
            push("- ", a[i]);
            i += 1;
        } else {
            push("+ ", b[j]);
            j += 1;
        }
    }
    a[i..].iter().for_each(|l| push("- ", l));
    b[j..].iter().for_each(|l| push("+ ", l));
    out
}

#[cfg(test)]
mod tests {
    use super::lines;

    #[test]
    fn shows_removed_added_and_kept_lines_in_order() {
        let old = "Dear Ann,\nyour refund is on its way.\nBest,\nalice";
        let new = "Dear Ann,\nyour refund of 20 EUR is on its way.\nBest,\nalice\nP.S. thanks";
        assert_eq!(
            lines(old, new),
            "  Dear Ann,\n- your refund is on its way.\n+ your refund of 20 EUR is on its way.\n  Best,\n  alice\n+ P.S. thanks\n"
        );
        assert_eq!(lines("same", "same"), "");
        assert_eq!(lines("", "new"), "+ new\n");
        assert_eq!(lines("old", ""), "- old\n");
    }

    #[test]
    fn applying_the_diff_gives_both_texts_back() {
        let old = "a\nb\nc\nd\ne";
        let new = "a\nx\nc\ne\nf";
        let d = lines(old, new);
        let before: Vec<&str> = d
            .lines()
            .filter(|l| !l.starts_with("+ "))
            .map(|l| &l[2..])
            .collect();
        let after: Vec<&str> = d
            .lines()
            .filter(|l| !l.starts_with("- "))
            .map(|l| &l[2..])
            .collect();
        assert_eq!(before.join("\n"), old);
        assert_eq!(after.join("\n"), new);
    }
}
