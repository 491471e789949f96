//! The `Blobs` port on an S3 bucket. Uploads go straight from the client to
//! S3 through a presigned `PUT` whose signature covers `Content-Type` and
//! `Content-Length`, so S3 itself refuses a different type or size.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use millions_core::photos::{Blob, BlobKey, Blobs, MediaType, UploadSlot};
use millions_core::StoreError;

#[derive(Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

fn missing(error: &aws_sdk_s3::operation::get_object::GetObjectError) -> bool {
    matches!(
        error,
        aws_sdk_s3::operation::get_object::GetObjectError::NoSuchKey(_)
    )
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn upload_slot(
        &self,
        key: &BlobKey,
        media: MediaType,
        bytes: u64,
        valid_for: Duration,
    ) -> Result<UploadSlot, StoreError> {
        let config = PresigningConfig::expires_in(valid_for).map_err(StoreError::unavailable)?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(media.content_type())
            .content_length(bytes as i64)
            .presigned(config)
            .await
            .map_err(|error| StoreError::unavailable(error.into_service_error()))?;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        Ok(UploadSlot {
            url: presigned.uri().to_owned(),
            method: presigned.method().to_owned(),
            headers: presigned
                .headers()
                .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
                .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
                .collect(),
            expires_at_ms: now_ms + valid_for.as_millis() as u64,
        })
    }

    async fn put(
        &self,
        key: &BlobKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(ByteStream::from(bytes));
        if key.media_type().is_some() {
            // Outputs are named by their hash: they never change.
            request = request.cache_control("public, max-age=31536000, immutable");
        }
        request
            .send()
            .await
            .map(drop)
            .map_err(|error| StoreError::unavailable(error.into_service_error()))
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, StoreError> {
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(error) => {
                let error = error.into_service_error();
                return if missing(&error) {
                    Ok(None)
                } else {
                    Err(StoreError::unavailable(error))
                };
            }
        };
        let content_type = output
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = output
            .body
            .collect()
            .await
            .map_err(StoreError::unavailable)?
            .into_bytes()
            .to_vec();
        Ok(Some(Blob {
            bytes,
            content_type,
        }))
    }

    async fn head_bytes(&self, key: &BlobKey, max: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .range(format!("bytes=0-{}", max.saturating_sub(1)))
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(
                output
                    .body
                    .collect()
                    .await
                    .map_err(StoreError::unavailable)?
                    .into_bytes()
                    .to_vec(),
            )),
            Err(error) => {
                let error = error.into_service_error();
                if missing(&error) {
                    Ok(None)
                } else {
                    Err(StoreError::unavailable(error))
                }
            }
        }
    }
}
