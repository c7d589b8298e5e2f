//! Fault injection for crash tests.
//!
//! `GIT_SANDBOX_FAULT=<point>` makes a debug build abort at the named point, the way a crash or
//! a power cut would stop it. Release builds compile the check away, so the variable is
//! harmless there. Points are named `<command>:<step>`; the tests list them all.

/// Aborts the process when `GIT_SANDBOX_FAULT` names this point (debug builds only).
#[inline]
pub fn point(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var_os("GIT_SANDBOX_FAULT").is_some_and(|v| v == name) {
        eprintln!("git-sandbox: fault injected at {name}");
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
