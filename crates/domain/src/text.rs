//! Vietnamese names: NFC-normalised storage, diacritic-insensitive search
//! and Vietnamese alphabetical order (a ă â b c d đ e ê …, tones secondary).

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// Longest free text (a comment, a reason, a note, a description) the API
/// takes, in characters: a page of text, and the registry's limit on notes.
pub const MAX_TEXT_CHARS: usize = 2000;

/// The names [`VnName::parse`] accepts, as a regular expression for API
/// contracts (OpenAPI `pattern`, ECMA 262 and Rust `regex` alike): no control
/// character but the blanks it collapses (tab, line breaks, U+0085), none of
/// [`is_invisible_or_bidi`], and at least one character that is not blank.
/// The length limit is [`MAX_NAME_CHARS`].
pub const NAME_PATTERN: &str = concat!(
    r"^[^\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]*",
    r"[^\s\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]",
    r"[^\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]*$",
);

/// The free text [`free_text`] accepts: no control character but tab and
/// line breaks, and no bidirectional override (U+202D, U+202E). The length
/// limit is [`MAX_TEXT_CHARS`].
pub const TEXT_PATTERN: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202d\u202e]*$";

/// A human-readable name: trimmed, inner whitespace collapsed, NFC-normalised, non-empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VnName(String);

/// Why a name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_NAME_CHARS} characters")]
    TooLong,
    #[error("must not contain control characters")]
    Control,
    /// A character that shows nothing or turns the text's direction: the
    /// name would read differently from what is stored (`Sở\u{202E}TTT`
    /// shows reversed; two agencies could look identical).
    #[error("must not contain invisible or direction-changing characters (found {})", codepoint(*.0))]
    Invisible(char),
}

/// `U+202E`: how a character that cannot be shown is named in messages.
pub fn codepoint(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Whether `c` is a bidirectional control (embeddings, overrides,
/// isolates, marks: U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C)
/// or has no width at all (U+200B–U+200D, U+2060, U+FEFF). Names and codes
/// refuse them; free text keeps them (a Vietnamese comment may quote Arabic)
/// but the overrides ([`is_bidi_override`]).
pub fn is_invisible_or_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'
            | '\u{FEFF}'
    )
}

/// Whether `c` is a bidirectional override (U+202D LEFT-TO-RIGHT OVERRIDE,
/// U+202E RIGHT-TO-LEFT OVERRIDE). Unlike marks, embeddings and isolates,
/// which quoting Arabic or Hebrew may need, an override reorders the
/// characters after it whatever their own direction (`đã duyệt\u{202E} 3 tấn`
/// shows its tail reversed), and an unclosed one runs on into whatever a
/// log line, an export cell or a list shows next ("Trojan Source",
/// CVE-2021-42574). No text an officer types needs one.
pub fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202D}' | '\u{202E}')
}

/// Free text (comments, descriptions, reasons): kept exactly as typed,
/// trimmed at the ends, but without control characters other than line
/// breaks and tabs, which nothing displays and which break logs and
/// exports.
pub fn free_text(raw: &str) -> Result<String, NameError> {
    let text = raw.trim();
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(NameError::Control);
    }
    if let Some(c) = text.chars().find(|c| is_bidi_override(*c)) {
        return Err(NameError::Invisible(c));
    }
    Ok(text.to_owned())
}

impl VnName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let name: String = collapsed.nfc().collect();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(NameError::TooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(NameError::Control);
        }
        if let Some(c) = name.chars().find(|c| is_invisible_or_bidi(*c)) {
            return Err(NameError::Invisible(c));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lower-case, diacritics removed, `đ` as `d`: what searches match against.
    pub fn search_key(&self) -> String {
        search_key(&self.0)
    }

    /// A key whose byte order is Vietnamese alphabetical order.
    pub fn sort_key(&self) -> String {
        sort_key(&self.0)
    }
}

impl fmt::Display for VnName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for VnName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<VnName> for String {
    fn from(n: VnName) -> String {
        n.0
    }
}

/// Folds text for diacritic- and case-insensitive matching: "Bình Sơn" → "binh son".
pub fn search_key(text: &str) -> String {
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

// Combining marks in NFD: the letter modifiers are part of the letter
// (primary weight); the five tones only break ties (secondary weight).
const BREVE: char = '\u{0306}';
const CIRCUMFLEX: char = '\u{0302}';
const HORN: char = '\u{031B}';
const TONES: [char; 5] = ['\u{0300}', '\u{0309}', '\u{0303}', '\u{0301}', '\u{0323}'];

/// Vietnamese alphabet in order; each entry's position is its primary weight.
const ALPHABET: [&str; 29] = [
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
    "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v",
];
const TAIL: [&str; 4] = ["w", "x", "y", "z"];

fn letter_weight(letter: &str) -> Option<u32> {
    ALPHABET
        .iter()
        .chain(TAIL.iter())
        .position(|l| *l == letter)
        .map(|p| p as u32)
}

/// Builds a byte-comparable key (lower-case hex only, so any database
/// collation orders it the same): primary weights for letters with their
/// modifiers, then tone weights, then case.
pub fn sort_key(text: &str) -> String {
    let mut primary = String::new();
    let mut secondary = String::new();
    let mut tertiary = String::new();
    let normalized: String = text.nfc().collect();
    for ch in normalized.chars() {
        let decomposed: Vec<char> = ch.nfd().collect();
        let base = decomposed[0];
        let lower_base: String = base.to_lowercase().collect();
        let mut letter = lower_base.clone();
        let mut tone = 0u32;
        for mark in &decomposed[1..] {
            match *mark {
                BREVE | CIRCUMFLEX | HORN => letter.push(*mark),
                m => {
                    if let Some(t) = TONES.iter().position(|t| *t == m) {
                        tone = t as u32 + 1;
                    }
                }
            }
        }
        let letter: String = letter.nfc().collect();
        let weight = if ch.is_whitespace() {
            1
        } else if ch.is_ascii_digit() {
            0x10 + ch.to_digit(10).unwrap_or(0)
        } else if let Some(w) = letter_weight(&letter) {
            0x100 + w
        } else if let Some(w) = letter_weight(&lower_base) {
            // A Latin letter with a mark foreign to Vietnamese sorts with its base.
            0x100 + w
        } else if ch.is_alphanumeric() {
            0x1000 + (u32::from(ch) & 0xfffff)
        } else {
            // Punctuation sorts before letters but after spaces.
            2
        };
        primary.push_str(&format!("{weight:06x}"));
        secondary.push_str(&format!("{tone:x}"));
        tertiary.push(if base.is_uppercase() { '1' } else { '0' });
    }
    // "000000" ends the primary part, so a prefix sorts before its extensions.
    format!("{primary}000000{secondary}0{tertiary}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_every_direction_changing_and_invisible_character() {
        let classes = [
            (
                "embeddings and overrides",
                &['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}'][..],
            ),
            (
                "isolates",
                &['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'],
            ),
            ("marks", &['\u{200E}', '\u{200F}', '\u{061C}']),
            (
                "zero-width",
                &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'],
            ),
        ];
        for (class, chars) in classes {
            for &c in chars {
                let err = VnName::parse(&format!("Sở Thông{c} tin")).unwrap_err();
                assert_eq!(err, NameError::Invisible(c), "{class}");
                assert_eq!(
                    err.to_string(),
                    format!(
                        "must not contain invisible or direction-changing characters (found {})",
                        codepoint(c)
                    )
                );
            }
        }
        // Control characters keep their own message; Vietnamese letters,
        // combining tones and ordinary punctuation are names.
        assert_eq!(VnName::parse("Sở\u{7}"), Err(NameError::Control));
        assert_eq!(VnName::parse("Sở\u{9F}TT"), Err(NameError::Control));
        assert!(VnName::parse("Sở Thông tin & Truyền thông (cũ) – 2025").is_ok());
        assert!(VnName::parse("Ho\u{300}a Vang").is_ok());
    }

    #[test]
    fn free_text_keeps_what_was_typed_but_control_characters() {
        // Isolates and marks quote right-to-left text; they stay.
        let typed = "Sửa lại:\n\t– số liệu quý 3\r\n\u{2067}اقتباس\u{2069}\u{200F}\u{200B} ";
        assert_eq!(free_text(typed).unwrap(), typed.trim());
        // Overrides reorder what follows them: refused, named.
        for c in ['\u{202D}', '\u{202E}'] {
            let err = free_text(&format!("đã duyệt{c} 3 tấn")).unwrap_err();
            assert_eq!(err, NameError::Invisible(c));
            assert!(err.to_string().contains(&codepoint(c)), "{err}");
        }
        for control in ['\u{0}', '\u{7}', '\u{1B}', '\u{7F}', '\u{85}'] {
            assert_eq!(
                free_text(&format!("a{control}b")),
                Err(NameError::Control),
                "{control:?}"
            );
        }
    }

    #[test]
    fn names_are_nfc_and_trimmed() {
        let decomposed = "Bi\u{0300}nh  So\u{031B}n ";
        let name = VnName::parse(decomposed).unwrap();
        assert_eq!(name.as_str(), "Bình Sơn");
        assert_eq!(VnName::parse("   "), Err(NameError::Empty));
        assert_eq!(VnName::parse("a\u{0007}b"), Err(NameError::Control));
    }

    #[test]
    fn search_ignores_diacritics_and_case() {
        assert_eq!(search_key("UBND huyện Bình Sơn"), "ubnd huyen binh son");
        assert_eq!(
            search_key("Sở Thông tin và Truyền thông"),
            "so thong tin va truyen thong"
        );
        assert_eq!(search_key("Đắk Lắk"), "dak lak");
    }

    #[test]
    fn vietnamese_alphabetical_order() {
        let mut names = vec![
            "Đức Phổ",
            "Dung Quất",
            "Ân Phong",
            "Ba Tơ",
            "Ăn",
            "An Nhơn",
            "Ơn",
            "Ông",
            "Sơn Tây",
            "Sơn Hà",
            "Ô Môn",
            "Ố",
        ];
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(
            names,
            [
                "An Nhơn",
                "Ăn",
                "Ân Phong",
                "Ba Tơ",
                "Dung Quất",
                "Đức Phổ",
                "Ố",
                "Ô Môn",
                "Ông",
                "Ơn",
                "Sơn Hà",
                "Sơn Tây"
            ]
        );
    }

    #[test]
    fn tones_are_secondary() {
        // Tone order: ngang, huyền, hỏi, ngã, sắc, nặng.
        let mut words = vec!["mạ", "má", "mã", "mả", "mà", "ma", "mac"];
        words.sort_by_key(|w| sort_key(w));
        assert_eq!(words, ["ma", "mà", "mả", "mã", "má", "mạ", "mac"]);
    }

    #[test]
    fn prefix_sorts_first() {
        assert!(sort_key("Bình") < sort_key("Bình Sơn"));
        assert!(sort_key("Bình Sơn") < sort_key("Bình Sơnx"));
    }
}

/// `sort_key` against ICU4X's Vietnamese collation (CLDR `vi`, compiled into
/// the crate) as the oracle, on names built from Vietnamese syllables.
/// Punctuation is left out on purpose: chiso gives all punctuation one weight.
#[cfg(test)]
mod icu_oracle {
    use std::cmp::Ordering;

    use icu_collator::{
        CollatorBorrowed,
        options::{CollatorOptions, Strength},
    };
    use icu_locale_core::locale;
    use proptest::prelude::*;

    use super::*;

    const INITIALS: [&str; 28] = [
        "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
        "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
    ];
    /// Vowels spelled base letter + modifier (breve, circumflex, horn).
    const VOWELS: [&str; 12] = [
        "a", "a\u{306}", "a\u{302}", "e", "e\u{302}", "i", "o", "o\u{302}", "o\u{31B}", "u",
        "u\u{31B}", "y",
    ];
    const FINALS: [&str; 10] = ["", "", "c", "ch", "m", "n", "ng", "nh", "p", "t"];
    /// No tone (ngang), then huyền, hỏi, ngã, sắc, nặng.
    const TONE_MARKS: [&str; 6] = ["", "\u{300}", "\u{309}", "\u{303}", "\u{301}", "\u{323}"];

    /// How a name reaches the comparison: as typed, composed or decomposed.
    #[derive(Debug, Clone, Copy)]
    enum Form {
        AsBuilt,
        Nfc,
        Nfd,
    }

    /// Initial consonant, vowels and final consonant of a syllable.
    type Skeleton = (&'static str, Vec<&'static str>, &'static str);

    fn skeleton() -> impl Strategy<Value = Skeleton> {
        (
            prop::sample::select(&INITIALS[..]),
            prop::collection::vec(prop::sample::select(&VOWELS[..]), 1..=2),
            prop::sample::select(&FINALS[..]),
        )
    }

    fn syllable((initial, vowels, last): &Skeleton, tone: &str, capital: bool) -> String {
        // The tone sits on the first vowel, after its modifier: not always
        // canonical order (nặng sorts before the circumflex in NFD).
        let mut s = format!("{initial}{}{tone}{}{last}", vowels[0], vowels[1..].concat());
        if capital {
            let mut chars = s.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
            s = first.unwrap_or_default() + chars.as_str();
        }
        s
    }

    /// Names drawn from a few shared skeletons, so that many pairs tie on
    /// the letters and the order falls to tones and case.
    fn names() -> impl Strategy<Value = Vec<String>> {
        let word = (
            0..3usize,
            prop::sample::select(&TONE_MARKS[..]),
            prop::bool::weighted(0.3),
        );
        let name = (
            prop::collection::vec(word, 1..=3),
            prop::sample::select(vec![Form::AsBuilt, Form::Nfc, Form::Nfd]),
        );
        (
            prop::collection::vec(skeleton(), 3),
            prop::collection::vec(name, 2..10),
        )
            .prop_map(|(pool, names)| {
                names
                    .into_iter()
                    .map(|(words, form)| {
                        let name = words
                            .iter()
                            .map(|(i, tone, capital)| syllable(&pool[*i], tone, *capital))
                            .collect::<Vec<_>>()
                            .join(" ");
                        match form {
                            Form::AsBuilt => name,
                            Form::Nfc => name.nfc().collect(),
                            Form::Nfd => name.nfd().collect(),
                        }
                    })
                    .collect()
            })
    }

    /// Tertiary strength: letters, then tones, then case, as `sort_key` does.
    fn vietnamese() -> CollatorBorrowed<'static> {
        let mut options = CollatorOptions::default();
        options.strength = Some(Strength::Tertiary);
        CollatorBorrowed::try_new(locale!("vi").into(), options).expect("vi collation data")
    }

    #[test]
    fn known_order_agrees_with_icu() {
        let collator = vietnamese();
        let words = [
            "ma", "mà", "mả", "mã", "má", "mạ", "mac", "Ma", "ăn", "ân", "đa", "ơn", "ưa",
        ];
        for a in words {
            for b in words {
                assert_eq!(
                    sort_key(a).cmp(&sort_key(b)),
                    collator.compare(a, b),
                    "{a} vs {b}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn sort_key_agrees_with_icu(names in names()) {
            let collator = vietnamese();
            for a in &names {
                for b in &names {
                    let ours = sort_key(a).cmp(&sort_key(b));
                    prop_assert_eq!(ours, collator.compare(a, b), "{:?} vs {:?}", a, b);
                }
                prop_assert_eq!(sort_key(a).cmp(&sort_key(a)), Ordering::Equal);
            }
        }
    }
}
