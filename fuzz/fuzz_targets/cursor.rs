//! A cursor from a client — tampered, foreign or garbage — is either refused or
//! resumes inside the partition of the query it is given to: never another app's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use partner_store::Query;
use partner_store::keys::attr;
use partner_store::table::Index;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let query = Query::partition(Index::Gsi1, "APP#app_a#APPLICATIONS");
    if let Ok(keys) = partner_store::cursor::decode(&query, text) {
        assert_eq!(keys.get(attr::GSI1_PK).map(String::as_str), Some(query.partition.as_str()));
    }
});
