//! The matching engine shared by the local venue and the backtester (SPEC 11).

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Rejected(String),
}
