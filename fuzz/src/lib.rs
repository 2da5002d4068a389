//! Shared parts of the fuzz targets in `fuzz_targets/`: the token fixture (a verifier with
//! a current and a previous secret, and a signer that signs any header and payload with
//! either, or with a key the verifier does not know), the checks every accepted token must
//! pass, the reading of a request body the way the HTTP layer reads it, and the invariants
//! of the domain's text values.
//!
//! Every check is an `assert!`: a broken invariant aborts the run, and libFuzzer keeps the
//! input that broke it under `fuzz/artifacts/<target>/`.

pub mod body;
pub mod text;
pub mod token;
