//! Ctrl-C (SIGINT) and SIGTERM during a creation. Instead of dying half-way, the command
//! notes the signal and stops at its next step boundary ([`crate::fault::point`]) with an
//! error, so the creation's own undo runs and the user is told what was left. A git child
//! doing the checkout gets the terminal's SIGINT itself and fails, which the undo also handles.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

use crate::error::UserError;

/// Exit code after an interrupt, as shells report SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;

static HIT: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// From now on, SIGINT and SIGTERM set a flag instead of ending the process.
pub fn catch() {
    let flag = HIT.get_or_init(|| Arc::new(AtomicBool::new(false)));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // If the handler cannot be set, the signal keeps its default (ends the process, and
        // `prune` cleans up), which is what happened before.
        let _ = signal_hook::flag::register(sig, Arc::clone(flag));
    }
}

/// An error if a caught signal arrived.
pub fn check() -> Result<()> {
    if HIT.get().is_some_and(|f| f.load(Ordering::SeqCst)) {
        let mut e = UserError::new("interrupted");
        e.code = EXIT_INTERRUPTED;
        return Err(e.into());
    }
    Ok(())
}
