//! Record encoding for the embedded tables: one format byte, then postcard.
//!
//! postcard is compact and fast but not self-describing, so a record whose
//! layout changes gets a new format byte, and the reader keeps a decoder for
//! each layout still on disk.

use millions_core::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The first byte of a record, naming its layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format(pub u8);

/// A record written in a layout the reader did not expect.
#[derive(Debug, thiserror::Error)]
#[error("a record has format {found}; this table reads format {expected}")]
struct UnknownFormat {
    found: u8,
    expected: u8,
}

pub fn encode(format: Format, record: &impl Serialize) -> Vec<u8> {
    postcard::to_extend(record, vec![format.0]).expect("records always serialize")
}

/// JSON after the format byte, for records whose types postcard cannot carry
/// (internally tagged enums need a self-describing format).
pub fn encode_json(format: Format, record: &impl Serialize) -> Vec<u8> {
    let mut bytes = vec![format.0];
    serde_json::to_writer(&mut bytes, record).expect("records always serialize");
    bytes
}

pub fn decode_json<T: DeserializeOwned>(format: Format, bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&found, record)) if found == format.0 => {
            serde_json::from_slice(record).map_err(StoreError::unavailable)
        }
        other => Err(StoreError::unavailable(UnknownFormat {
            found: other.map_or(0, |(found, _)| *found),
            expected: format.0,
        })),
    }
}

pub fn decode<T: DeserializeOwned>(format: Format, bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&found, record)) if found == format.0 => {
            postcard::from_bytes(record).map_err(StoreError::unavailable)
        }
        other => Err(StoreError::unavailable(UnknownFormat {
            found: other.map_or(0, |(found, _)| *found),
            expected: format.0,
        })),
    }
}
