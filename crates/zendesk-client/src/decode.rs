//! The one place response bodies become typed values; a failure names the JSON path.

use crate::{Error, Result};
use serde::de::DeserializeOwned;

/// How much of a body an error message keeps.
pub(crate) const BODY_LIMIT: usize = 512;

/// Decodes `body` as `T`; on failure the error names the path that failed, the URL and
/// a truncated copy of the body.
pub(crate) fn decode<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
        url: url.to_owned(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
        body: truncate(&String::from_utf8_lossy(body)),
    })
}

/// Cuts `s` to [`BODY_LIMIT`] bytes on a character boundary, marking the cut.
pub(crate) fn truncate(s: &str) -> String {
    if s.len() <= BODY_LIMIT {
        return s.to_owned();
    }
    let mut end = BODY_LIMIT;
    while !s.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    format!("{}… ({} bytes)", s.get(..end).unwrap_or_default(), s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Outer {
        #[allow(dead_code)]
        items: Vec<Inner>,
    }
    #[derive(Debug, serde::Deserialize)]
    struct Inner {
        #[allow(dead_code)]
        id: u64,
    }

    #[test]
    fn decode_error_names_the_failing_path() {
        let err = decode::<Outer>("http://x/y", br#"{"items":[{"id":1},{"id":"x"}]}"#)
            .expect_err("bad id");
        match err {
            Error::Decode { path, url, .. } => {
                assert_eq!(path, "items[1].id");
                assert_eq!(url, "http://x/y");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        let s = "é".repeat(400);
        let t = truncate(&s);
        assert!(t.starts_with("éé"));
        assert!(t.ends_with("(800 bytes)"));
    }
}
