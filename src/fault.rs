//! Fault injection for crash and rollback tests.
//!
//! `GIT_SANDBOX_FAULT=<point>` makes a debug build abort at the named point, the way a crash or
//! a power cut would stop it; `GIT_SANDBOX_FAULT=error:<point>` makes it fail there with an
//! ordinary error instead, to exercise rollback. Release builds compile the check away, so the
//! variable is harmless there. Points are named `<command>:<step>`; the tests list them all.

use anyhow::Result;

/// Aborts (or fails) when `GIT_SANDBOX_FAULT` names this point (debug builds only).
#[inline]
pub fn point(name: &str) -> Result<()> {
    #[cfg(debug_assertions)]
    if let Some(v) = std::env::var_os("GIT_SANDBOX_FAULT") {
        if v == name {
            eprintln!("git-sandbox: fault injected at {name}");
            std::process::abort();
        }
        if v.to_str().and_then(|v| v.strip_prefix("error:")) == Some(name) {
            anyhow::bail!("injected failure at {name}");
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
    Ok(())
}
