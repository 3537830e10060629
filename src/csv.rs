//! CSV as `query --format csv` and the dashboard's downloads write it: RFC 4180 quoting, and
//! text cells a spreadsheet would evaluate made inert.
//!
//! A machine's project directory, session or machine name is chosen by whoever uses that
//! machine, and a file opened in a spreadsheet runs a cell starting with `=`, `+`, `-`, `@`, a
//! tab or a carriage return as a formula (`=HYPERLINK(…)` reaches the network). Such text cells
//! get a leading `'`, as OWASP's "CSV injection" advice says; spreadsheets show the value without
//! it. Numeric columns are never touched, so a negative number stays a number. The JSON API stays
//! exact: this is only for CSV.

/// Characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A ClickHouse column type without the `Nullable(…)` around it.
pub fn unwrap_nullable(column_type: &str) -> &str {
    column_type
        .strip_prefix("Nullable(")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(column_type)
}

/// Whether a ClickHouse column type holds numbers (`Nullable(…)` around one too).
pub fn is_numeric(column_type: &str) -> bool {
    let inner = unwrap_nullable(column_type);
    ["Int", "UInt", "Float", "Decimal"]
        .iter()
        .any(|prefix| inner.starts_with(prefix))
}

/// One field: a text cell that would be evaluated gets a leading `'`; then quoted where it must
/// be. `text` is false for numeric columns.
pub fn field(value: &str, text: bool) -> String {
    let guarded = if text && value.starts_with(FORMULA_STARTS) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One record: fields joined by commas, CRLF last (RFC 4180).
pub fn record(fields: impl IntoIterator<Item = String>) -> String {
    fields.into_iter().collect::<Vec<_>>().join(",") + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cells_a_spreadsheet_would_evaluate_get_a_leading_quote() {
        let cases = [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1", "'+1"),
            ("-home-alice", "'-home-alice"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
            ("two\nlines", "\"two\nlines\""),
        ];
        for (value, written) in cases {
            assert_eq!(field(value, true), written, "{value:?}");
        }
        // Numbers are never escaped: a negative number stays a number.
        assert_eq!(field("-12", false), "-12");
        assert_eq!(field("-1.5", false), "-1.5");
        assert_eq!(record(["a".into(), "b".into()]), "a,b\r\n");
        assert!(is_numeric("Nullable(Int64)") && is_numeric("Decimal(18, 6)"));
        assert!(!is_numeric("String") && !is_numeric("Date"));
    }
}
