//! Signals: volatility, lead-lag, flow toxicity, kappa, gating, CUSUM, and their integrator
//! (SPEC 4, issue 4).
