//! The mapping loader (sync-core `Mapping::parse`, what `Mapping::load` runs on a file
//! under the 1 MiB cap): any text is a mapping or an error naming the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_core::mapping::Mapping;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Mapping::parse(text, "fuzz.toml") {
        assert!(e.to_string().contains("fuzz.toml"), "{e}");
    }
});
