//! Vietnamese names: NFC-normalised storage, diacritic-insensitive search
//! and Vietnamese alphabetical order (a ă â b c d đ e ê …, tones secondary).

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 255;

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
