//! DynamoDB's errors in the store's terms: a failed condition (and which
//! operation of a transaction failed it), contention, a busy or failing service
//! (`Unavailable`: the API answers 503), or a backend error (ours: 500).

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

use crate::table::StoreError;

/// A single write's error: a failed condition, or the backend's.
pub(super) fn write_error<E>(err: SdkError<E>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if is_condition_failure(&err) {
        StoreError::ConditionFailed { index: 0 }
    } else {
        sdk_error(err)
    }
}

/// Error codes DynamoDB answers when it is busy or failing, not when the request
/// is wrong: the SDK has retried them already, and trying later may work.
const UNAVAILABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
];

/// A call's error after the SDK's retries: `Unavailable` when DynamoDB was
/// throttling, failing or not answering in time (the API answers 503 and the
/// client may retry), else a backend error (ours: 500).
pub(super) fn sdk_error<E>(err: SdkError<E>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let unavailable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            service
                .err()
                .code()
                .is_some_and(|code| UNAVAILABLE_CODES.contains(&code))
                || service.raw().status().is_server_error()
        }
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(Box::new(err))
    } else {
        StoreError::backend(err)
    }
}

/// Whether an SDK error is DynamoDB saying a condition did not hold.
fn is_condition_failure<E>(err: &SdkError<E>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

pub(super) fn map_transaction_error(err: SdkError<TransactWriteItemsError>) -> StoreError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        err.as_service_error()
    {
        let reasons = cancelled.cancellation_reasons();
        if let Some(index) = reasons
            .iter()
            .position(|r| r.code() == Some("ConditionalCheckFailed"))
        {
            return StoreError::ConditionFailed { index };
        }
        if reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
        {
            return StoreError::Conflict;
        }
        if reasons.iter().any(|r| {
            matches!(
                r.code(),
                Some("ThrottlingError" | "ProvisionedThroughputExceeded")
            )
        }) {
            return StoreError::Unavailable(Box::new(err));
        }
    }
    // The same token's first attempt is still running: its outcome is unknown, so
    // not a conflict to retry with a new token (which could apply it twice).
    if let Some(TransactWriteItemsError::TransactionInProgressException(_)) = err.as_service_error()
    {
        return StoreError::Unavailable(Box::new(err));
    }
    sdk_error(err)
}
