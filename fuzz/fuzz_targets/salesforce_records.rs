//! Salesforce record decoding (sync-core `records`): any bytes that are JSON go
//! through the account decoder of both instances and the contact decoder, as a query
//! page's records would. Each record is one account or one finding naming a field.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_core::mapping::Instance;
use sync_core::records::AccountDecoder;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let records = match value {
        serde_json::Value::Array(records) => records,
        other => vec![other],
    };
    for instance in [Instance::Global, Instance::UsFederal] {
        let mut decoder = AccountDecoder::new(instance);
        for record in records.iter().cloned() {
            decoder.push(record);
        }
        let decoded = decoder.finish();
        assert_eq!(decoded.items.len() + decoded.findings.len(), records.len());
        for finding in &decoded.findings {
            assert!(finding.message.contains("field "), "{}", finding.message);
        }
    }
    let contacts = sync_core::decode_contacts(records.clone());
    assert_eq!(contacts.items.len() + contacts.findings.len(), records.len());
});
