//! The `Blobs` port on local files, with signed upload URLs served by the
//! local stack in place of S3's presigned ones.
//!
//! An object is written to a temporary file in its final folder, flushed,
//! then renamed over the key: a reader (or a restart after a crash) sees the
//! whole old object or the whole new one, never a torn write.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use millions_core::photos::{Blob, BlobKey, Blobs, MediaType, UploadSlot};
use millions_core::{Clock, StoreError};
use sha2::Sha256;
use std::sync::Arc;

/// The path of the upload route the local stack serves.
pub const UPLOAD_PATH: &str = "/_local/uploads/";
const SIGNING_KEY_FILE: &str = "upload-signing.key";

/// The query of a signed upload URL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct UploadGrant {
    #[serde(rename = "type")]
    pub content_type: String,
    pub bytes: u64,
    pub expires: u64,
    pub signature: String,
}

/// Why an upload was refused; each says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefusal {
    #[error("the upload URL's signature does not match; ask POST /photos for a new one")]
    BadSignature,
    #[error("the upload URL has expired; ask POST /photos for a new one")]
    Expired,
    #[error("this URL accepts Content-Type {expected} only")]
    WrongType { expected: String },
    #[error("this URL accepts exactly {expected} bytes, not {actual}")]
    WrongLength { expected: u64, actual: u64 },
    #[error("not an upload key")]
    BadKey,
}

#[derive(Clone)]
pub struct LocalBlobs {
    root: PathBuf,
    signing_key: Arc<[u8; 32]>,
    base_url: String,
    clock: Arc<dyn Clock>,
}

impl LocalBlobs {
    /// Blobs under `data_dir/blobs`; upload URLs start with `base_url` (the
    /// local stack's front door). The signing key is made once and kept in
    /// the data folder, so URLs handed out survive a restart.
    pub fn open(data_dir: &Path, base_url: String, clock: Arc<dyn Clock>) -> std::io::Result<Self> {
        let root = data_dir.join("blobs");
        std::fs::create_dir_all(&root)?;
        Ok(Self {
            root,
            signing_key: Arc::new(signing_key(data_dir)?),
            base_url,
            clock,
        })
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        // Keys are one of two checked shapes (`BlobKey::parse`): no `..`.
        self.root.join(key.as_str())
    }

    fn signature(
        &self,
        key: &BlobKey,
        content_type: &str,
        bytes: u64,
        expires: u64,
    ) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.signing_key.as_slice())
            .expect("HMAC takes any key length");
        mac.update(format!("PUT\n{key}\n{content_type}\n{bytes}\n{expires}").as_bytes());
        mac
    }

    /// Checks an upload against its grant and stores it. `content_type` and
    /// `body` are what the client sent.
    pub async fn accept_upload(
        &self,
        key: &str,
        grant: &UploadGrant,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(), UploadAcceptError> {
        let key = BlobKey::parse(key)
            .filter(|key| key.media_type().is_none())
            .ok_or(UploadRefusal::BadKey)?;
        let signature = hex::decode(&grant.signature).map_err(|_| UploadRefusal::BadSignature)?;
        self.signature(&key, &grant.content_type, grant.bytes, grant.expires)
            .verify_slice(&signature)
            .map_err(|_| UploadRefusal::BadSignature)?;
        if self.clock.now_ms() > grant.expires {
            return Err(UploadRefusal::Expired.into());
        }
        if content_type != Some(grant.content_type.as_str()) {
            return Err(UploadRefusal::WrongType {
                expected: grant.content_type.clone(),
            }
            .into());
        }
        if body.len() as u64 != grant.bytes {
            return Err(UploadRefusal::WrongLength {
                expected: grant.bytes,
                actual: body.len() as u64,
            }
            .into());
        }
        self.put(&key, body, &grant.content_type).await?;
        Ok(())
    }
}

/// An upload that was refused, or that the store failed to keep.
#[derive(Debug, thiserror::Error)]
pub enum UploadAcceptError {
    #[error(transparent)]
    Refused(#[from] UploadRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn signing_key(data_dir: &Path) -> std::io::Result<[u8; 32]> {
    let path = data_dir.join(SIGNING_KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() == 32 => Ok(bytes.try_into().expect("32 bytes")),
        Ok(_) => Err(std::io::Error::other(format!(
            "{} is not a 32-byte key; delete it to make a new one",
            path.display()
        ))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(std::io::Error::other)?;
            write_atomically(&path, &key)?;
            Ok(key)
        }
        Err(error) => Err(error),
    }
}

/// Writes `bytes` to `path` whole: temporary file, flush, rename, then the
/// folder is flushed so the rename itself survives a power cut.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path.parent().expect("blob paths have a folder");
    std::fs::create_dir_all(folder)?;
    let mut file = tempfile::NamedTempFile::new_in(folder)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    std::fs::File::open(folder)?.sync_all()
}

fn blocking_failure(error: tokio::task::JoinError) -> StoreError {
    StoreError::unavailable(error)
}

#[async_trait]
impl Blobs for LocalBlobs {
    async fn upload_slot(
        &self,
        key: &BlobKey,
        media: MediaType,
        bytes: u64,
        valid_for: Duration,
    ) -> Result<UploadSlot, StoreError> {
        let expires = self.clock.now_ms() + valid_for.as_millis() as u64;
        let content_type = media.content_type();
        let signature = hex::encode(
            self.signature(key, content_type, bytes, expires)
                .finalize()
                .into_bytes(),
        );
        let url = format!(
            "{}{UPLOAD_PATH}{key}?type={}&bytes={bytes}&expires={expires}&signature={signature}",
            self.base_url,
            content_type.replace('/', "%2F"),
        );
        Ok(UploadSlot {
            url,
            method: "PUT".into(),
            headers: vec![("content-type".into(), content_type.into())],
            expires_at_ms: expires,
        })
    }

    async fn put(
        &self,
        key: &BlobKey,
        bytes: Vec<u8>,
        _content_type: &str,
    ) -> Result<(), StoreError> {
        let path = self.path(key);
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
            .await
            .map_err(blocking_failure)?
            .map_err(StoreError::unavailable)
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, StoreError> {
        let path = self.path(key);
        let content_type = key
            .media_type()
            .map_or("application/octet-stream", MediaType::content_type)
            .to_owned();
        let read = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(blocking_failure)?;
        match read {
            Ok(bytes) => Ok(Some(Blob {
                bytes,
                content_type,
            })),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(StoreError::unavailable(error)),
        }
    }

    async fn head_bytes(&self, key: &BlobKey, max: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(key);
        let read = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            let mut head = Vec::new();
            std::fs::File::open(path)?
                .take(max)
                .read_to_end(&mut head)?;
            Ok(head)
        })
        .await
        .map_err(blocking_failure)?;
        match read {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(StoreError::unavailable(error)),
        }
    }
}
