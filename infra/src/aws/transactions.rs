//! What a cancelled `TransactWriteItems` says, for every adapter that writes
//! more than one item at once.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::CancellationReason;
use millions_core::StoreError;

/// A transaction DynamoDB cancelled for reasons other than our conditions.
#[derive(Debug, thiserror::Error)]
#[error("the transaction was cancelled: {0:?}")]
pub(super) struct TransactionCanceled(pub(super) Vec<CancellationReason>);

/// The per-item reasons of a cancelled transaction; any other failure is the
/// store being unavailable.
pub(super) fn cancellation_reasons(
    error: aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>,
) -> Result<Vec<CancellationReason>, StoreError> {
    match error.into_service_error() {
        TransactWriteItemsError::TransactionCanceledException(cancelled) => {
            Ok(cancelled.cancellation_reasons().to_vec())
        }
        other => Err(StoreError::unavailable(other)),
    }
}

/// Whether the transaction's item at `index` failed its condition.
pub(super) fn failed(reasons: &[CancellationReason], index: usize) -> bool {
    reasons
        .get(index)
        .and_then(CancellationReason::code)
        .is_some_and(|code| code == "ConditionalCheckFailed")
}

/// Whether the transaction lost to another one writing the same item at the
/// same moment (worth retrying: nothing was written).
pub(super) fn conflicted(reasons: &[CancellationReason]) -> bool {
    reasons
        .iter()
        .filter_map(CancellationReason::code)
        .any(|code| code == "TransactionConflict")
}
