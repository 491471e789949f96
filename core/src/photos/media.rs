//! What may be uploaded, and where blobs live in the store.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::PhotoId;
use crate::ids::UserId;

/// The largest original accepted, in bytes. The signed upload enforces it:
/// the signature covers the declared length, and the store refuses a body of
/// any other length.
pub const MAX_UPLOAD_BYTES: u64 = 25 * 1024 * 1024;

/// The image formats accepted as originals and produced as outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MediaType {
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/webp")]
    Webp,
}

impl MediaType {
    pub const ALL: [MediaType; 3] = [MediaType::Jpeg, MediaType::Png, MediaType::Webp];

    pub fn content_type(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Webp => "webp",
        }
    }

    pub fn from_content_type(text: &str) -> Option<Self> {
        let essence = text.split(';').next().unwrap_or("").trim();
        Self::ALL
            .into_iter()
            .find(|media| media.content_type().eq_ignore_ascii_case(essence))
    }

    pub fn from_extension(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|media| media.extension() == text)
    }
}

/// A key in the blob store (an S3 object key, a file path locally).
///
/// Only two shapes exist: `originals/{user}/{photo}`, so the key itself says
/// whose photo it is, and `outputs/{sha256}.{ext}`, named by the hash of the
/// bytes so that processing the same job twice writes the same object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(String);

impl BlobKey {
    pub fn original(owner: UserId, photo: PhotoId) -> Self {
        Self(format!("originals/{owner}/{photo}"))
    }

    pub fn output(sha256_hex: &str, media: MediaType) -> Self {
        Self(format!("outputs/{sha256_hex}.{}", media.extension()))
    }

    /// Reads a key from text (a URL path segment), accepting only the two shapes.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let well_formed = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("originals"), Some(owner), Some(photo), None) => {
                owner.parse::<UserId>().is_ok() && photo.parse::<PhotoId>().is_ok()
            }
            (Some("outputs"), Some(name), None, None) => Self::output_media(name).is_some(),
            _ => false,
        };
        well_formed.then(|| Self(text.to_owned()))
    }

    /// The media type of an output key (`None` for originals).
    pub fn media_type(&self) -> Option<MediaType> {
        self.0.strip_prefix("outputs/").and_then(Self::output_media)
    }

    fn output_media(name: &str) -> Option<MediaType> {
        let (hash, extension) = name.split_once('.')?;
        let is_hash =
            hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        is_hash
            .then(|| MediaType::from_extension(extension))
            .flatten()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_text() {
        let original = BlobKey::original(UserId::new(7).unwrap(), PhotoId::from_random(1));
        assert_eq!(BlobKey::parse(original.as_str()), Some(original.clone()));
        assert_eq!(original.media_type(), None);
        let output = BlobKey::output(&"a".repeat(64), MediaType::Webp);
        assert_eq!(BlobKey::parse(output.as_str()), Some(output.clone()));
        assert_eq!(output.media_type(), Some(MediaType::Webp));
    }

    #[test]
    fn other_shapes_are_not_keys() {
        for text in [
            "",
            "outputs/../x.jpg",
            "outputs/abc.jpg",
            &format!("outputs/{}.gif", "a".repeat(64)),
            "originals/7",
            "originals/0/000000000000000000000000000000ab",
            "originals/7/000000000000000000000000000000ab/x",
            "../etc/passwd",
        ] {
            assert_eq!(BlobKey::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn content_types_ignore_parameters_and_case() {
        assert_eq!(
            MediaType::from_content_type("Image/JPEG; q=1"),
            Some(MediaType::Jpeg)
        );
        assert_eq!(MediaType::from_content_type("image/gif"), None);
    }
}
