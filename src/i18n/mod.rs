//! The message catalog: every user-facing text, in bokmål (default) and English.
//!
//! Catalogs are plain `key = text` files compiled into the binary, so a translator edits
//! text without touching Rust, and a test checks both languages have the same keys.
//! `{name}` in a text is a placeholder filled by [`Tr::fill`].

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Nb,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Nb, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    /// Exactly one of our own codes, as stored: no aliases.
    pub fn from_code(code: &str) -> Option<Lang> {
        Self::ALL.into_iter().find(|lang| lang.code() == code)
    }

    /// Accepts our own codes plus the common aliases browsers and people use.
    pub fn parse(raw: &str) -> Option<Lang> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "nb" | "no" | "nn" | "nb-no" | "no-no" | "nn-no" => Some(Lang::Nb),
            "en" | "en-gb" | "en-us" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the first supported language from an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut candidates: Vec<(f32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(position, part)| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim();
                let q = pieces
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                let primary = tag.split('-').next().unwrap_or(tag);
                let lang = Lang::parse(tag).or_else(|| Lang::parse(primary))?;
                (q > 0.0).then_some((q, position, lang))
            })
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        candidates.first().map(|c| c.2)
    }

    fn catalog(self) -> &'static Catalog {
        match self {
            Lang::Nb => &CATALOGS.0,
            Lang::En => &CATALOGS.1,
        }
    }
}

type Catalog = HashMap<&'static str, String>;

static CATALOGS: LazyLock<(Catalog, Catalog)> =
    LazyLock::new(|| (parse(include_str!("nb.txt")), parse(include_str!("en.txt"))));

fn parse(source: &'static str) -> Catalog {
    source
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(" = "))
        .map(|(key, text)| (key.trim(), text.trim().replace("\\n", "\n")))
        .collect()
}

/// A translator for one language; cheap to copy into every template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// The text for `key`. A key missing from this language falls back to bokmål, and one
    /// missing from both shows "??" and is logged, so a page still renders in production.
    /// In debug builds (every test) a missing key panics instead, so a test that renders one
    /// fails; look a key up that may be absent only behind [`Tr::has`]. The tests in
    /// `coverage` check every key the code builds.
    pub fn t(&self, key: &str) -> &'static str {
        debug_assert!(
            self.has(key),
            "message catalog key {key:?} missing in {}.txt",
            self.lang.code()
        );
        match self.lang.catalog().get(key) {
            Some(text) => text.as_str(),
            None => match Lang::Nb.catalog().get(key) {
                Some(text) => text.as_str(),
                None => {
                    tracing::warn!(key, "message catalog key missing");
                    "??"
                }
            },
        }
    }

    /// A status's name (`status.<status>`).
    pub fn status(&self, status: crate::domain::OrderStatus) -> &'static str {
        self.t(&format!("status.{}", status.as_str()))
    }

    /// An environment's name (`environment.<environment>`).
    pub fn environment(&self, environment: crate::domain::Environment) -> &'static str {
        self.t(&format!("environment.{}", environment.as_str()))
    }

    /// A workflow action's name on the case handler's buttons (`admin.action.<action>`).
    pub fn action(&self, action: crate::domain::Action) -> &'static str {
        self.t(&format!("admin.action.{}", action.as_str()))
    }

    /// Maskinporten's environment by its own name (`maskinporten.<environment>`): "Maskinporten
    /// TEST" for test, where Altinn's is TT02.
    pub fn maskinporten(&self, environment: crate::domain::Environment) -> &'static str {
        self.t(&format!("maskinporten.{}", environment.as_str()))
    }

    /// A count with its noun in the right plural (`<base>_one` / `<base>_other`, with `{n}`):
    /// "1 minutt", "5 minutter". One and other are the only plural forms CLDR gives nb, nn
    /// and en, so the catalog needs no more.
    pub fn plural(&self, base: &str, n: i64) -> String {
        let form = if n == 1 { "one" } else { "other" };
        self.fill(&format!("{base}_{form}"), &[("n", &n.to_string())])
    }

    /// A form field's label (`field.<name>`).
    pub fn label(&self, field: &str) -> &'static str {
        self.t(&format!("field.{field}"))
    }

    /// A form field's hint (`hint.<name>`).
    pub fn hint(&self, field: &str) -> &'static str {
        self.t(&format!("hint.{field}"))
    }

    /// Whether this language's catalog has `key`: the guard for a key that may legitimately be
    /// absent (a field-specific error text, a stored value without a name), so [`Tr::t`] is
    /// asked only for keys that exist.
    pub fn has(&self, key: &str) -> bool {
        self.lang.catalog().contains_key(key)
    }

    /// The text for `key` with `{name}` placeholders replaced.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        values
            .iter()
            .fold(self.t(key).to_owned(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), value)
            })
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

#[cfg(test)]
mod coverage;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_have_the_same_keys() {
        let nb: std::collections::BTreeSet<_> = CATALOGS.0.keys().collect();
        let en: std::collections::BTreeSet<_> = CATALOGS.1.keys().collect();
        assert!(!nb.is_empty());
        assert_eq!(
            nb.symmetric_difference(&en).collect::<Vec<_>>(),
            Vec::<&&&str>::new()
        );
    }

    #[test]
    fn no_text_is_empty_and_keys_are_unique_per_file() {
        for source in [include_str!("nb.txt"), include_str!("en.txt")] {
            let mut seen = std::collections::HashSet::new();
            for line in source.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (key, text) = line.split_once(" = ").expect("line must be `key = text`");
                assert!(seen.insert(key), "duplicate key {key}");
                assert!(!text.trim().is_empty(), "empty text for {key}");
            }
        }
    }

    #[test]
    fn accept_language_prefers_the_highest_quality_supported_language() {
        assert_eq!(
            Lang::from_accept_language("en-GB,en;q=0.9,nb;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("de,nb;q=0.5,en;q=0.4"),
            Some(Lang::Nb)
        );
        assert_eq!(Lang::from_accept_language("nn-NO"), Some(Lang::Nb));
        assert_eq!(Lang::from_accept_language("de,fr"), None);
        assert_eq!(Lang::from_accept_language("en;q=0"), None);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "message catalog key \"no.such.key\" missing in en.txt")]
    fn a_missing_key_panics_in_debug_builds() {
        Tr::new(Lang::En).t("no.such.key");
    }

    #[test]
    fn a_look_up_guarded_by_has_never_panics() {
        for lang in Lang::ALL {
            let tr = Tr::new(lang);
            for key in [
                "admin.actor.api",
                "admin.actor.user:7",
                "error.scope.required",
            ] {
                let text = if tr.has(key) { tr.t(key) } else { key };
                assert!(!text.is_empty() && text != "??", "{key}");
            }
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let tr = Tr::new(Lang::En);
        let text = tr.fill("receipt.reference_is", &[("reference", "RRH-ABCD-EFGH")]);
        assert!(text.contains("RRH-ABCD-EFGH"));
    }
}
