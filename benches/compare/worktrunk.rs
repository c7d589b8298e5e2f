//! worktrunk (`wt`), the peer the rows compare with when it is on PATH. It is never vendored:
//! BENCHMARKS.md says how to build it from its source beside this project.

use std::process::{Command, Stdio};

/// Why its rows are skipped.
pub const MISSING: &str = "worktrunk's `wt` is not on PATH (BENCHMARKS.md: how to build it)";

/// Whether `wt` runs.
pub fn available() -> bool {
    Command::new("wt")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
