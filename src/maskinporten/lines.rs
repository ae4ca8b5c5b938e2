//! The report shape shared by the certificate and grant checks: one line per check, passed,
//! failed or not checked, each naming the variant of its text (`detail`) so the page can say
//! exactly what was wrong, or remark on a line that did not fail.

use super::Outcome;

/// One line of a certificate or grant report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// A stable id (`validity`, `audience`, ...), the catalog key's middle part.
    pub name: &'static str,
    pub outcome: Outcome,
    /// Which text goes with the line: the fix of a failed line, or a remark on one that
    /// passed or was not checked (a chain was pasted, the certificate expires soon, ...).
    pub detail: Option<&'static str>,
    /// What was found, for that text: never the pasted certificate, key or grant itself.
    pub found: Option<String>,
}

/// The lines of one report, in the order of its list of checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines(pub Vec<Line>);

impl Lines {
    /// No line failed: lines that could not be checked do not count against it.
    pub fn passed(&self) -> bool {
        !self.0.iter().any(|l| l.outcome == Outcome::Failed)
    }

    pub fn named(&self, name: &str) -> Option<&Line> {
        self.0.iter().find(|l| l.name == name)
    }

    /// The names of the lines with `outcome`, for the order's event.
    pub fn names(&self, outcome: Outcome) -> Vec<&'static str> {
        self.0
            .iter()
            .filter(|l| l.outcome == outcome)
            .map(|l| l.name)
            .collect()
    }
}

/// Records lines; [`Recorder::finish`] puts them in the order of the list of checks and
/// marks the ones never recorded as not checked.
pub(super) struct Recorder {
    lines: Vec<Line>,
}

impl Recorder {
    pub fn new() -> Self {
        Recorder { lines: Vec::new() }
    }

    fn push(
        &mut self,
        name: &'static str,
        outcome: Outcome,
        detail: Option<&'static str>,
        found: Option<String>,
    ) {
        self.lines.push(Line {
            name,
            outcome,
            detail,
            found,
        });
    }

    pub fn pass(&mut self, name: &'static str) {
        self.push(name, Outcome::Passed, None, None);
    }

    /// Passed, with a remark.
    pub fn note(&mut self, name: &'static str, detail: &'static str, found: Option<String>) {
        self.push(name, Outcome::Passed, Some(detail), found);
    }

    pub fn fail(&mut self, name: &'static str, detail: &'static str, found: Option<String>) {
        self.push(name, Outcome::Failed, Some(detail), found);
    }

    /// Not checked, saying why.
    pub fn skip(&mut self, name: &'static str, detail: &'static str, found: Option<String>) {
        self.push(name, Outcome::NotChecked, Some(detail), found);
    }

    pub fn has_failed(&self, name: &str) -> bool {
        self.lines
            .iter()
            .any(|l| l.name == name && l.outcome == Outcome::Failed)
    }

    pub fn finish(self, order: &[(&'static str, &[&'static str])]) -> Lines {
        let mut lines = self.lines;
        let mut sorted = Vec::with_capacity(order.len());
        for (name, _) in order {
            match lines.iter().position(|l| l.name == *name) {
                Some(at) => sorted.push(lines.swap_remove(at)),
                None => sorted.push(Line {
                    name,
                    outcome: Outcome::NotChecked,
                    detail: None,
                    found: None,
                }),
            }
        }
        Lines(sorted)
    }
}

/// The `(name, detail)` pairs a source file records with literals (`.fail("name", "detail"`,
/// and `.note(` and `.skip(` alike), so a test can hold them against the module's list of
/// checks: a pair not listed would have no text in the catalogs.
#[cfg(test)]
pub(super) fn recorded_pairs(source: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for method in ["fail", "note", "skip"] {
        let marker = format!(".{method}(");
        for (at, _) in source.match_indices(&marker) {
            let rest = &source[at + marker.len()..];
            let mut literals = rest.split('"');
            // `name`, then the text between the literals (`, `), then `detail`.
            let (Some(before), Some(name), Some(between), Some(detail)) = (
                literals.next(),
                literals.next(),
                literals.next(),
                literals.next(),
            ) else {
                continue;
            };
            if before.trim().is_empty() && between.trim() == "," {
                pairs.push((name.to_owned(), detail.to_owned()));
            }
        }
    }
    pairs
}

/// Holds the pairs recorded in `source` against `checks`, both ways: every recorded pair is
/// listed, and every listed detail is recorded somewhere, but for the checks in `by_value`,
/// whose details are passed around as values (their own tests cover each).
#[cfg(test)]
pub(super) fn assert_recorded_match(
    source: &str,
    checks: &[(&'static str, &[&'static str])],
    by_value: &[&str],
) {
    let recorded = recorded_pairs(source);
    assert!(!recorded.is_empty());
    for (name, detail) in &recorded {
        let listed = checks
            .iter()
            .any(|(n, details)| n == name && details.contains(&detail.as_str()));
        assert!(listed, "{name}/{detail} is recorded but not listed");
    }
    for (name, details) in checks.iter().filter(|(n, _)| !by_value.contains(n)) {
        for detail in *details {
            assert!(
                recorded.iter().any(|(n, d)| n == name && d == detail),
                "{name}/{detail} is listed but never recorded"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_out_in_the_listed_order_and_unrecorded_ones_are_not_checked() {
        const LIST: [(&str, &[&str]); 3] = [("a", &[]), ("b", &["x"]), ("c", &[])];
        let mut recorder = Recorder::new();
        recorder.pass("c");
        recorder.fail("b", "x", Some("found".into()));
        let lines = recorder.finish(&LIST);
        let names: Vec<_> = lines.0.iter().map(|l| (l.name, l.outcome)).collect();
        assert_eq!(
            names,
            [
                ("a", Outcome::NotChecked),
                ("b", Outcome::Failed),
                ("c", Outcome::Passed)
            ]
        );
        assert!(!lines.passed());
        assert_eq!(lines.names(Outcome::Failed), ["b"]);
    }

    #[test]
    fn the_recorded_pairs_are_read_from_literal_calls_only() {
        let source =
            r#"r.fail("one", "two", None); r.note("three", "four", x); r.fail(name, "x", None);"#;
        let pairs = recorded_pairs(source);
        assert_eq!(
            pairs,
            [
                ("one".to_owned(), "two".to_owned()),
                ("three".to_owned(), "four".to_owned())
            ]
        );
    }
}
