//! Fault injection for crash and rollback tests.
//!
//! `GIT_SANDBOX_FAULT=<point>` makes a debug build abort at the named point, the way a crash or
//! a power cut would stop it; `GIT_SANDBOX_FAULT=error:<point>` makes it fail there with an
//! ordinary error instead, to exercise rollback. Release builds compile the check away, so the
//! variable is harmless there. Points are named `<command>:<step>`; the tests list them all.

use anyhow::Result;

/// Aborts (or fails) when `GIT_SANDBOX_FAULT` names this point (debug builds only), and fails
/// in every build when a Ctrl-C was caught ([`crate::interrupt`]).
/// `GIT_SANDBOX_PAUSE=<point>:<ms>` sleeps there instead, to open a race window for tests
/// (and, with a file `GIT_SANDBOX_PAUSED` names, says it got there by creating that file).
#[inline]
pub fn point(name: &str) -> Result<()> {
    #[cfg(debug_assertions)]
    if let Some(v) = std::env::var_os("GIT_SANDBOX_PAUSE")
        && let Some((p, ms)) = v.to_str().and_then(|v| v.rsplit_once(':'))
        && p == name
    {
        if let Some(f) = std::env::var_os("GIT_SANDBOX_PAUSED") {
            let _ = std::fs::write(f, name);
        }
        std::thread::sleep(std::time::Duration::from_millis(ms.parse().unwrap_or(0)));
    }
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
    // Every point is a step boundary: where a caught Ctrl-C stops the command.
    crate::interrupt::check()
}
