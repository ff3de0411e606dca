//! The language of the client's messages, and of the server's answers.

/// English or Vietnamese (tiếng Việt), from the locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Vi,
}

impl Lang {
    /// The locale's language: the first of `LC_ALL`, `LC_MESSAGES`, `LANG`
    /// that is set decides, as POSIX orders them; Vietnamese when it starts
    /// with `vi`, English otherwise.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`Lang::from_env`] over any source of variables, for tests.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .find_map(|name| get(name).filter(|v| !v.is_empty()))
            .map_or(Self::En, |locale| {
                if locale.to_ascii_lowercase().starts_with("vi") {
                    Self::Vi
                } else {
                    Self::En
                }
            })
    }

    /// The `Accept-Language` the server answers in.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Vi => "vi",
        }
    }

    /// The English or the Vietnamese text.
    pub fn pick<'a>(self, en: &'a str, vi: &'a str) -> &'a str {
        match self {
            Self::En => en,
            Self::Vi => vi,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(vars: &[(&str, &str)]) -> Lang {
        Lang::from_vars(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_first_set_variable_decides() {
        assert_eq!(lang(&[]), Lang::En);
        assert_eq!(lang(&[("LANG", "vi_VN.UTF-8")]), Lang::Vi);
        assert_eq!(lang(&[("LANG", "VI")]), Lang::Vi);
        assert_eq!(lang(&[("LANG", "en_US.UTF-8")]), Lang::En);
        assert_eq!(lang(&[("LC_ALL", "C.UTF-8"), ("LANG", "vi_VN")]), Lang::En);
        assert_eq!(lang(&[("LC_ALL", ""), ("LANG", "vi_VN")]), Lang::Vi);
        assert_eq!(
            lang(&[("LC_MESSAGES", "vi_VN"), ("LANG", "en_US")]),
            Lang::Vi
        );
    }
}
