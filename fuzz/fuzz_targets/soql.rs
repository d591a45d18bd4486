//! The sandbox's SOQL parser (`sandbox::salesforce::soql::parse`): any text is a query
//! or a Salesforce-shaped error with a code and a message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = sandbox::salesforce::soql::parse(text) {
        assert!(!e.code.is_empty() && !e.message.is_empty());
    }
});
