//! The arguments of the commands that make, show, move and remove sandboxes (new, list,
//! status, rm, mv, restore, trash, prune, adopt, setup, trust).

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct NewArgs {
    /// The sandbox's name, written as a branch: `feature/login` makes branch `feature/login`
    /// in `<repo>--feature-login`; a name with spaces is slugged (`My Feature` → `my-feature`).
    #[arg(required_unless_present = "pr")]
    pub name: Option<String>,
    /// Start the new branch at this revision (default: HEAD).
    #[arg(long, value_name = "REV", conflicts_with = "pr")]
    pub from: Option<String>,
    /// Use branch BRANCH: the existing one of that name, or a new one (from REV) when none
    /// has it; stderr says which.
    #[arg(long, value_name = "BRANCH", conflicts_with = "pr")]
    pub branch: Option<String>,
    /// Start its services once created.
    #[arg(long)]
    pub up: bool,
    /// With --up: start on empty volumes, not on copies of `[compose] seed`'s.
    #[arg(long)]
    pub no_seed: bool,
    #[command(flatten)]
    pub setup: SetupFlags,
    /// Print the new sandbox as JSON on stdout (schema/new.json), not its path.
    #[arg(long)]
    pub json: bool,
    /// Take pull/merge request N in: fetch it from the default remote into branch `pr-N`
    /// (the sandbox is `pr-N` unless named).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub pr: Option<u64>,
    /// Then run this command inside it, with its env (e.g. `-- claude`); exits with its code.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Every repo's sandboxes, not just this one's.
    #[arg(long)]
    pub all: bool,
    /// Machine-readable output (see the README for the shape).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Machine-readable output (see the README for the shape).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct NameArg {
    /// The sandbox's name.
    pub name: String,
}

#[derive(Args, Debug)]
pub struct OptNameArg {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Apply `.sandbox.toml`'s `copy` and `.worktreeinclude` this once though they are not
    /// trusted yet (nothing is stored; `git sandbox trust` approves them for good).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// When the current directory is not inside a sandbox, say so and exit 0 (a cleanup
    /// script's line: Codex's); any refusal of a real sandbox still fails.
    #[arg(long, conflicts_with = "name")]
    pub if_sandbox: bool,
    #[command(flatten)]
    pub flags: RmFlags,
}

/// The flags of `rm` and `local-prod rm`.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct RmFlags {
    /// Remove even with uncommitted work, a lock, submodules, nested repositories or processes
    /// inside (the work is saved first).
    #[arg(long)]
    pub force: bool,
    /// Stop the processes still running inside it (TERM, then KILL) before removing.
    #[arg(long)]
    pub kill: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show what would happen and change nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Accepted for compatibility: the sandbox's own volumes are kept with its saved state by
    /// default (`git sandbox restore` brings them back, `trash purge` deletes them).
    #[arg(long, conflicts_with = "delete_volumes")]
    pub keep_volumes: bool,
    /// Delete the sandbox's own compose volumes now (only those labelled as its) instead of
    /// keeping them with its saved state.
    #[arg(long)]
    pub delete_volumes: bool,
    /// Stop services and unregister, but leave the directory and branch alone.
    #[arg(long, conflicts_with = "delete_branch")]
    pub keep_worktree: bool,
    /// Delete the branch even if it holds unpushed commits (they are saved first).
    #[arg(long)]
    pub delete_branch: bool,
    /// Also print the report, the plan and what was done as JSON on stdout (schema/rm.json).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct MvArgs {
    /// The sandbox's name now.
    #[arg(value_name = "OLD")]
    pub name: String,
    /// Its new name (slugged like `new`'s; the branch is not renamed).
    pub new: String,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The removed sandbox's name.
    pub name: String,
    /// List its saved states instead.
    #[arg(long)]
    pub list: bool,
    /// Which saved state (a ref or its last part, from --list; default: the newest).
    #[arg(long, value_name = "STATE")]
    pub from: Option<String>,
    /// Print the restored sandbox and its saved state as JSON on stdout (schema/restore.json).
    #[arg(long, conflicts_with = "list")]
    pub json: bool,
    #[command(flatten)]
    pub setup: SetupFlags,
}

#[derive(Subcommand, Debug)]
pub enum TrashCommand {
    /// List saved states of this repo, with the size of the files each kept.
    List,
    /// Delete saved states and the files they kept.
    Purge(PurgeArgs),
}

#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// Only states older than this (e.g. `30d`, `12h`).
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Show what would be repaired and change nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Instead: remove every clean sandbox whose branch is merged into the default branch
    /// (fast-forward, merge, squash or rebase), each through rm's checks, never forced.
    #[arg(long, conflicts_with = "all")]
    pub merged: bool,
    /// With --merged: do not ask before each removal (each asks on a terminal, like rm).
    #[arg(long, short = 'y', requires = "merged")]
    pub yes: bool,
    /// Every repo's entries, not just this one's.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct AdoptArgs {
    /// The linked worktree's directory.
    pub path: PathBuf,
    /// The sandbox's name (default: from the directory's name, suffixed -2, -3… when a
    /// sandbox of this repo has it).
    #[arg(long)]
    pub name: Option<String>,
    /// Print the sandbox as JSON on stdout (schema/new.json), not its path.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub setup: SetupFlags,
}

#[derive(Args, Debug)]
pub struct SetupArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Run the commands this once even if they are not trusted, or the checked-out code is
    /// someone else's.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct TrustArgs {
    /// Show what the config asks for and whether it is trusted; change nothing.
    #[arg(long, conflicts_with = "revoke")]
    pub show: bool,
    /// Forget the approval.
    #[arg(long)]
    pub revoke: bool,
}

/// `--no-setup` and `--yes` of the commands that make a sandbox.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct SetupFlags {
    /// Do not run the project's [commands] setup.
    #[arg(long)]
    pub no_setup: bool,
    /// Apply the config's untrusted requests (commands, path, copy…) this once, and run
    /// setup even on someone else's code.
    #[arg(long, short = 'y')]
    pub yes: bool,
}
