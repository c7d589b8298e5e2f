//! User-facing errors and the exit codes promised in DESIGN.md.
//!
//! Anything the user can fix is a [`UserError`]: a message naming the problem, optional `hint:`
//! lines naming the fix, and an exit code. `main` finds it anywhere in an `anyhow` chain, prints
//! `error: …` and the hints, and exits with its code; any other error exits 1.

use std::fmt;

/// Done.
pub const EXIT_OK: i32 = 0;
/// An error; the message names the problem.
pub const EXIT_ERROR: i32 = 1;
/// The command line was wrong.
pub const EXIT_USAGE: i32 = 2;
/// Refused because work would be lost.
pub const EXIT_REFUSED: i32 = 3;

/// An error the user can act on.
#[derive(Debug)]
pub struct UserError {
    pub code: i32,
    pub message: String,
    pub hints: Vec<String>,
    /// The error as one line, problem and fix, where the message and hints do not read well
    /// joined (an agent hook's one stderr line).
    pub short: Option<String>,
}

impl UserError {
    /// A plain error (exit 1).
    pub fn new(message: impl Into<String>) -> Self {
        UserError {
            code: EXIT_ERROR,
            message: message.into(),
            hints: Vec::new(),
            short: None,
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        UserError {
            code: EXIT_USAGE,
            ..UserError::new(message)
        }
    }

    /// Refused because work would be lost (exit 3).
    pub fn refused(message: impl Into<String>) -> Self {
        UserError {
            code: EXIT_REFUSED,
            ..UserError::new(message)
        }
    }

    /// Sets the one-line form (see `short`).
    pub fn short(mut self, line: impl Into<String>) -> Self {
        self.short = Some(line.into());
        self
    }

    /// Adds a `hint:` line.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}
