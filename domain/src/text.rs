//! The text rules every user-supplied string obeys (names, titles, descriptions, emails),
//! written once here and used by each validated type.
//!
//! The Unicode data comes from ICU4X (`icu_properties`, `icu_normalizer`) and the domain
//! mapping from `idna` (UTS #46): no hand-written character tables.

use std::borrow::Cow;

use icu_normalizer::{ComposingNormalizer, ComposingNormalizerBorrowed};
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{
    CodePointMapData, CodePointMapDataBorrowed, CodePointSetData, CodePointSetDataBorrowed,
};

/// Default_Ignorable_Code_Point: characters drawn as nothing (U+200B, U+FEFF, U+00AD, ...).
const DEFAULT_IGNORABLE: CodePointSetDataBorrowed<'static> =
    CodePointSetData::new::<DefaultIgnorableCodePoint>();

/// The general category of every code point.
const GENERAL_CATEGORY: CodePointMapDataBorrowed<'static, GeneralCategory> =
    CodePointMapData::<GeneralCategory>::new();

/// Compatibility composition (NFKC): full-width, ligature and other look-alike forms
/// become the plain character.
const NFKC: ComposingNormalizerBorrowed<'static> = ComposingNormalizer::new_nfkc();

/// Whether line feed, carriage return and tab are allowed (only in descriptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineBreaks {
    /// Refused like every other control character.
    Refused,
    /// Allowed.
    Allowed,
}

/// `raw` trimmed, or `None` when it is made only of white space and
/// Default_Ignorable_Code_Point characters (or of nothing): such a value counts as empty.
pub(crate) fn non_blank(raw: &str) -> Option<&str> {
    let text = raw.trim();
    (!is_blank(text)).then_some(text)
}

/// Whether `text` holds a character no field may hold: a control character (category
/// Cc, less line feed, carriage return and tab where they are allowed) or a
/// bidirectional control. Emoji sequences joined by U+200D hold neither.
pub(crate) fn has_forbidden_char(text: &str, line_breaks: LineBreaks) -> bool {
    text.chars().any(|c| is_forbidden(c, line_breaks))
}

/// Whether `text` is only white space and invisible characters (or nothing at all).
pub(crate) fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || DEFAULT_IGNORABLE.contains(c))
}

/// Whether `c` is a control character (less line breaks and tabs where allowed) or a
/// bidirectional control.
pub(crate) fn is_forbidden(c: char, line_breaks: LineBreaks) -> bool {
    let allowed_break = line_breaks == LineBreaks::Allowed && matches!(c, '\n' | '\r' | '\t');
    (c.is_control() && !allowed_break) || is_bidi_control(c)
}

/// The bidirectional formatting characters: they reorder what a reader sees (the
/// "Trojan Source" characters, U+202E among them).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` may appear in an email address: an assigned character, not invisible, not
/// a control or bidirectional control.
pub(crate) fn is_visible_assigned(c: char) -> bool {
    !DEFAULT_IGNORABLE.contains(c)
        && GENERAL_CATEGORY.get(c) != GeneralCategory::Unassigned
        && !is_forbidden(c, LineBreaks::Refused)
}

/// NFKC, then lower case, then NFKC again (lower-casing can leave a sequence that is not
/// normalised, such as U+0130).
pub(crate) fn fold(text: &str) -> String {
    let lower = NFKC.normalize(text).to_lowercase();
    match NFKC.normalize(&lower) {
        Cow::Borrowed(_) => lower,
        Cow::Owned(normalised) => normalised,
    }
}

/// Length in Unicode scalar values, the unit the contract counts in.
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_only_text_is_blank() {
        for raw in [
            "",
            "  ",
            "\u{200B}",
            "\u{FEFF}",
            " \u{200B}\u{00AD} \u{2060}",
        ] {
            assert_eq!(non_blank(raw), None, "{raw:?}");
        }
        assert_eq!(non_blank(" \u{200B}a "), Some("\u{200B}a"));
    }

    #[test]
    fn controls_and_bidi_overrides_are_invalid() {
        for raw in [
            "Bob\r\nSet-Cookie: x=1",
            "\u{1b}[31mred",
            "abc\u{202E}cba",
            "a\u{2066}b",
            "a\u{061C}b",
            "a\u{0085}b",
            "a\0b",
        ] {
            assert!(has_forbidden_char(raw, LineBreaks::Refused), "{raw:?}");
        }
        assert!(!has_forbidden_char("a\r\n\tb", LineBreaks::Allowed));
        assert!(has_forbidden_char("a\u{202E}b", LineBreaks::Allowed));
        assert!(has_forbidden_char("a\u{7}b", LineBreaks::Allowed));
    }

    #[test]
    fn emoji_sequences_stay_valid() {
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
        assert!(!has_forbidden_char(family, LineBreaks::Refused));
        assert_eq!(non_blank(family), Some(family));
        let heart = "I \u{2764}\u{FE0F} tea";
        assert!(!has_forbidden_char(heart, LineBreaks::Refused));
    }

    #[test]
    fn folding_merges_compatibility_and_case_forms() {
        assert_eq!(fold("ＡＬＩＣＥ"), "alice");
        assert_eq!(fold("ﬁle"), "file");
        assert_eq!(fold("e\u{0301}"), "\u{e9}");
        assert!(!is_visible_assigned('\u{200B}'));
        assert!(!is_visible_assigned('\u{0378}'));
        assert!(is_visible_assigned('é'));
    }
}
