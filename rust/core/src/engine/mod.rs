//! The quote engine: one cycle of SPEC section 8 over the state it owns (SPEC 9).

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    State(String),
}
