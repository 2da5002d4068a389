//! The Tessera service: typed settings, the wiring of adapters to use cases, and the
//! server's start. `main.rs` adds the command line; the test harness uses this library.

pub mod settings;
pub mod startup;
pub mod telemetry;
