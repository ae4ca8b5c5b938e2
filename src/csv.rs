//! CSV as spreadsheets read it with Norwegian settings: the queue's export and the TT02
//! loading list are both written with these.

/// Excel reads the BOM as "this is UTF-8" and keeps æøå.
pub const BOM: &str = "\u{feff}";
/// The list separator Excel expects with Norwegian regional settings, where `,` is the
/// decimal mark.
pub const SEPARATOR: char = ';';

/// One CSV cell: a value a spreadsheet would run as a formula gets a leading apostrophe, and
/// anything with a separator, quote or line break is quoted.
pub fn cell(value: &str) -> String {
    let neutralised = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    quoted(&neutralised)
}

/// A value quoted as CSV quotes it when it holds a separator, quote or line break, else as
/// it is: also for lists read by people, where a `;` in a name must not split it in two.
pub fn quoted(value: &str) -> String {
    if value.contains([SEPARATOR, '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// One line of cells, ended with CRLF as RFC 4180 has it.
pub fn line(cells: &[&str]) -> String {
    let mut line = cells
        .iter()
        .map(|c| cell(c))
        .collect::<Vec<_>>()
        .join(&SEPARATOR.to_string());
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_start_a_formula_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+4791234567"), "'+4791234567");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Ærlig Økonomi AS"), "Ærlig Økonomi AS");
        assert_eq!(cell("a;b"), "\"a;b\"");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn a_line_joins_its_cells_and_ends_with_crlf() {
        assert_eq!(
            line(&["974760673", "A;B", "=1"]),
            "974760673;\"A;B\";'=1\r\n"
        );
    }
}
