//! Reader for the recording format of shared/data: gzip, one `<ns> <json>` line per frame.

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
}
