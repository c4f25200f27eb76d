//! The GLFT ladder, depth generation, fill model, sizing and exchange rounding (SPEC 7, issue 5).
