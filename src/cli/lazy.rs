//! [`Lazy`]: a command's arguments defined only when that command runs.
//!
//! clap builds the whole command tree before it parses a word: every argument of all 30
//! commands, with the global flags copied into each. That was 0.4-0.7 ms and ~100 page
//! faults of every run, the hook's on each checkout included, for one command's arguments.
//! Wrapped in `Lazy`, a command's arguments are a deferred definition ([`Command::defer`]):
//! clap runs it for the command being parsed, and for all of them when the whole tree is asked
//! for (help, completions, the man page).

use std::sync::atomic::{AtomicBool, Ordering};

use clap::{ArgMatches, Args, Command, FromArgMatches, Subcommand};

/// Set for a tree defined whole, as if nothing were deferred ([`whole`]).
static WHOLE: AtomicBool = AtomicBool::new(false);

/// `build` run with every definition made at once: the tree exactly as it is without
/// deferral, for what reads it rather than parses one command line (completions, the man
/// page, the list of command words), none of which clap's own build would give as is (it
/// adds `--help` and the global flags to each command).
pub fn whole<R>(build: impl FnOnce() -> R) -> R {
    WHOLE.store(true, Ordering::Relaxed);
    let r = build();
    WHOLE.store(false, Ordering::Relaxed);
    r
}

/// `cmd` with `add`'s definitions, deferred unless the whole tree is being defined.
fn later(cmd: Command, add: fn(Command) -> Command) -> Command {
    if WHOLE.load(Ordering::Relaxed) {
        add(cmd)
    } else {
        cmd.defer(add)
    }
}

/// The arguments (or subcommands) `T` of one command, defined when clap reaches it.
#[derive(Debug)]
pub struct Lazy<T>(pub T);

impl<T: FromArgMatches> FromArgMatches for Lazy<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Lazy)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Lazy)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

/// `T`'s arguments added to `cmd`, its one-line and long descriptions kept: the command's own
/// (its variant's doc comment) win over those of the struct that holds its flags, as they do
/// when the definition is not deferred (the variant's are applied after the struct's).
fn keep_about(cmd: Command, add: fn(Command) -> Command) -> Command {
    let (about, long) = (cmd.get_about().cloned(), cmd.get_long_about().cloned());
    let cmd = add(cmd);
    let Some(about) = about else {
        return cmd;
    };
    let cmd = cmd.about(about);
    match long {
        Some(long) => cmd.long_about(long),
        None => cmd.long_about(None::<&str>),
    }
}

fn augment<T: Args>(cmd: Command) -> Command {
    keep_about(cmd, T::augment_args)
}

fn augment_for_update<T: Args>(cmd: Command) -> Command {
    keep_about(cmd, T::augment_args_for_update)
}

impl<T: Args> Args for Lazy<T> {
    fn augment_args(cmd: Command) -> Command {
        later(cmd, augment::<T>)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        later(cmd, augment_for_update::<T>)
    }

    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

impl<T: Subcommand> Subcommand for Lazy<T> {
    fn augment_subcommands(cmd: Command) -> Command {
        later(cmd, T::augment_subcommands)
    }

    fn augment_subcommands_for_update(cmd: Command) -> Command {
        later(cmd, T::augment_subcommands_for_update)
    }

    fn has_subcommand(name: &str) -> bool {
        T::has_subcommand(name)
    }
}
