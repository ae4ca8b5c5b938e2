//! The message catalog: every user-facing text, in bokmål (default), nynorsk and English.
//!
//! Catalogs are plain `key = text` files compiled into the binary, so a translator edits
//! text without touching Rust, and a test checks every language has the same keys.
//! `{name}` in a text is a placeholder filled by [`Tr::fill`]. The nynorsk texts use the
//! words of `docs/glossary.md`.

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Nb,
    Nn,
    En,
}

impl Lang {
    /// Every language, in the order the language switch lists them.
    pub const ALL: [Lang; 3] = [Lang::Nb, Lang::Nn, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::Nn => "nn",
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
            "nb" | "no" | "nb-no" | "no-no" => Some(Lang::Nb),
            "nn" | "nn-no" | "no-nn" => Some(Lang::Nn),
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

    /// The catalog file, as compiled in.
    fn source(self) -> &'static str {
        match self {
            Lang::Nb => include_str!("nb.txt"),
            Lang::Nn => include_str!("nn.txt"),
            Lang::En => include_str!("en.txt"),
        }
    }

    fn catalog(self) -> &'static Catalog {
        &CATALOGS[self as usize]
    }
}

type Catalog = HashMap<&'static str, String>;

/// One catalog per language, in the order of the enum (and of [`Lang::ALL`]).
static CATALOGS: LazyLock<[Catalog; 3]> =
    LazyLock::new(|| [Lang::Nb, Lang::Nn, Lang::En].map(|lang| parse(lang.source())));

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
    fn every_catalog_has_the_same_keys() {
        let nb: std::collections::BTreeSet<_> = Lang::Nb.catalog().keys().collect();
        assert!(!nb.is_empty());
        for lang in Lang::ALL {
            let keys: std::collections::BTreeSet<_> = lang.catalog().keys().collect();
            assert_eq!(
                nb.symmetric_difference(&keys).collect::<Vec<_>>(),
                Vec::<&&&str>::new(),
                "nb.txt and {}.txt",
                lang.code()
            );
        }
    }

    #[test]
    fn every_catalog_is_where_its_code_says() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
            assert_eq!(Lang::parse(lang.code()), Some(lang));
            let name = Tr::new(lang).t("layout.this_language");
            let expected = match lang {
                Lang::Nb => "Norsk (bokmål)",
                Lang::Nn => "Norsk (nynorsk)",
                Lang::En => "English",
            };
            assert_eq!(name, expected);
        }
    }

    /// Nynorsk follows bokmål key by key: the same order and the same section comments, so
    /// a key added to nb.txt has an obvious place in nn.txt.
    #[test]
    fn nynorsk_is_in_the_order_of_bokmal() {
        // Each line as its key, a comment as `#` (nn.txt's comments are in English).
        let outline = |source: &'static str| -> Vec<&'static str> {
            source
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(|line| match line.split_once(" = ") {
                    _ if line.starts_with('#') => "#",
                    Some((key, _)) => key,
                    None => line,
                })
                .collect()
        };
        let (nb, nn) = (outline(Lang::Nb.source()), outline(Lang::Nn.source()));
        if let Some(at) = nb.iter().zip(&nn).position(|(a, b)| a != b) {
            panic!(
                "line {} of the outline: nb.txt has {}, nn.txt {}",
                at + 1,
                nb[at],
                nn[at]
            );
        }
        assert_eq!(nb.len(), nn.len(), "nb.txt and nn.txt end differently");
    }

    /// The words that give bokmål away, and are never nynorsk (see docs/glossary.md). A
    /// bokmål text copied into nn.txt to be translated later fails here.
    #[test]
    fn nynorsk_has_no_bokmal_words() {
        const BOKMAL: [&str; 32] = [
            "ikke",
            "hva",
            "hvordan",
            "hvem",
            "hvor",
            "hvis",
            "hvilke",
            "hvilken",
            "hvorfor",
            "noe",
            "noen",
            "bare",
            "fra",
            "jeg",
            "mye",
            "dere",
            "ble",
            "enda",
            "ennå",
            "virksomhet",
            "virksomheten",
            "virksomheter",
            "bestillingen",
            "tjenesten",
            "mottatt",
            "lenken",
            "navn",
            "eksempel",
            "vennlig",
            "bekreftelse",
            "egen",
            "hele",
        ];
        let mut found = Vec::new();
        for (key, text) in Lang::Nn.catalog() {
            for word in text.split(|c: char| !c.is_alphanumeric()) {
                if BOKMAL.contains(&word.to_lowercase().as_str()) {
                    found.push(format!("{key}: {word}"));
                }
            }
        }
        found.sort();
        assert!(found.is_empty(), "bokmål in nn.txt:\n{}", found.join("\n"));
    }

    #[test]
    fn no_text_is_empty_and_keys_are_unique_per_file() {
        for lang in Lang::ALL {
            let mut seen = std::collections::HashSet::new();
            for line in lang.source().lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (key, text) = line.split_once(" = ").expect("line must be `key = text`");
                assert!(
                    seen.insert(key),
                    "duplicate key {key} in {}.txt",
                    lang.code()
                );
                assert!(!text.trim().is_empty(), "empty text for {key}");
            }
        }
    }

    /// The database refuses a language it does not know: some migration (the latest one to
    /// touch it) limits `orders.language` to exactly these codes, in this order.
    #[test]
    fn the_codes_are_the_ones_the_database_allows() {
        let allowed = format!(
            "({})",
            Lang::ALL.map(|l| format!("'{}'", l.code())).join(", ")
        );
        let missing = crate::store::backends_not_limiting("language", &allowed);
        assert!(
            missing.is_empty(),
            "no {missing:?} migration limits the language to {allowed}"
        );
    }

    #[test]
    fn our_codes_and_their_aliases_are_parsed() {
        for (raw, lang) in [
            ("nb", Lang::Nb),
            ("no", Lang::Nb),
            ("nb-NO", Lang::Nb),
            ("no-NO", Lang::Nb),
            ("nn", Lang::Nn),
            (" NN ", Lang::Nn),
            ("nn-NO", Lang::Nn),
            ("no-NN", Lang::Nn),
            ("en", Lang::En),
            ("en-GB", Lang::En),
        ] {
            assert_eq!(Lang::parse(raw), Some(lang), "{raw:?}");
        }
        assert_eq!(Lang::parse("se"), None);
        // Stored values are our own codes only.
        assert_eq!(Lang::from_code("nn"), Some(Lang::Nn));
        assert_eq!(Lang::from_code("nn-NO"), None);
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
        assert_eq!(Lang::from_accept_language("nn-NO"), Some(Lang::Nn));
        assert_eq!(
            Lang::from_accept_language("nn-NO,nn;q=0.9,nb;q=0.8,en;q=0.5"),
            Some(Lang::Nn)
        );
        assert_eq!(
            Lang::from_accept_language("nb-NO,nb;q=0.9,nn;q=0.8"),
            Some(Lang::Nb)
        );
        assert_eq!(Lang::from_accept_language("de,nn;q=0.3"), Some(Lang::Nn));
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
