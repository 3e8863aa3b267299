//! Characters that hide or disguise text: the classes the identity policy and the display-text
//! rule refuse (see `address.rs`, `ids.rs` and `header.rs`).

/// Unicode's default-ignorable code points (DerivedCoreProperties, Default_Ignorable_Code_Point):
/// invisible when rendered, so two strings that differ only by them look the same. Zero-width
/// space and joiners, soft hyphen, bidi marks and controls, variation selectors, tags, fillers.
pub fn is_default_ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

/// The explicit bidirectional formatting characters (Unicode Bidi_Control less the three marks):
/// embeddings, overrides and isolates, which reorder what follows them (`U+202E` shows
/// `moc.elpmaxe@nna` as `ann@example.com`). The marks LRM, RLM and ALM are left to text, where
/// right-to-left writing needs them; identities refuse them as default-ignorable.
pub fn is_bidi_formatting(c: char) -> bool {
    matches!(c as u32, 0x202A..=0x202E | 0x2066..=0x2069)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classes_hold_what_the_probe_used() {
        for c in [
            '\u{200B}', '\u{202E}', '\u{200D}', '\u{FEFF}', '\u{00AD}', '\u{2066}',
        ] {
            assert!(is_default_ignorable(c), "{c:?}");
        }
        for c in ['a', 'K', '\u{212A}', '\u{0430}', ' ', '\u{05D0}'] {
            assert!(!is_default_ignorable(c), "{c:?}");
        }
        assert!(is_bidi_formatting('\u{202E}') && is_bidi_formatting('\u{2067}'));
        assert!(!is_bidi_formatting('\u{200F}'), "RLM is text's own");
    }
}
