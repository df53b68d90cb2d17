//! CSV exports that are safe to open in a spreadsheet.
//!
//! Fields are quoted when they hold a comma, quote or line break, and text that a
//! spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
//! carriage return) is prefixed with `'` (OWASP's CSV-injection advice). Numbers
//! this service writes itself are emitted as they are.

/// One CSV cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text that may come from a client: neutralised and quoted as needed.
    Text(String),
    /// A number written by this service.
    Number(String),
}

fn escape_text(value: &str) -> String {
    let neutralised = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if neutralised.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutralised.replace('"', "\"\""))
    } else {
        neutralised
    }
}

/// A CSV document: the header row, then one row per record, CRLF line endings.
pub fn document(header: &[&str], rows: impl IntoIterator<Item = Vec<Cell>>) -> String {
    let mut out = header.join(",");
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row
            .into_iter()
            .map(|cell| match cell {
                Cell::Text(text) => escape_text(&text),
                Cell::Number(number) => number,
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_specials_quoted() {
        let doc = document(
            &["a", "b"],
            [
                vec![
                    Cell::Text("=HYPERLINK(\"x\")".into()),
                    Cell::Number("-19.8".into()),
                ],
                vec![Cell::Text("a,b".into()), Cell::Text("@SUM(1)".into())],
            ],
        );
        assert_eq!(
            doc,
            "a,b\r\n\"'=HYPERLINK(\"\"x\"\")\",-19.8\r\n\"a,b\",'@SUM(1)\r\n"
        );
    }

    proptest::proptest! {
        #[test]
        fn no_text_cell_ever_starts_a_formula(text in "\\PC{0,20}") {
            let line = document(&["x"], [vec![Cell::Text(text)]]);
            let raw = line.strip_prefix("x\r\n").unwrap().strip_suffix("\r\n").unwrap();
            // What a spreadsheet reads: a quoted cell without its quotes, "" as ".
            let cell = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => raw.to_owned(),
            };
            proptest::prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?}");
        }
    }
}
