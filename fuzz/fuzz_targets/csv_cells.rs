//! CSV export: whatever text a client put in a cell, the exported cell never starts
//! with a character a spreadsheet runs as a formula, and reading the row back gives
//! the same number of cells.
#![no_main]

use libfuzzer_sys::fuzz_target;
use partner_service::csv::{Cell, document};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let csv = document(&["a", "b"], [vec![Cell::Text(text.to_owned()), Cell::Number("1".to_owned())]]);
    let row = &csv["a,b\r\n".len()..];
    let cell = row.strip_prefix('"').unwrap_or(row);
    assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{row:?}");
    // A quoted cell ends at its closing quote; the number follows it.
    assert!(row.ends_with(",1\r\n"), "{row:?}");
});
