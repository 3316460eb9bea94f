//! Nothing here: the benchmark is `benches/matching.rs` (a package needs a library or binary).
