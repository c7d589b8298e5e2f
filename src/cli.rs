//! The command line, as clap types only. Commands turn these into plain values before calling
//! the domain modules, which never see clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// One worktree, slot, port set, env file and compose stack per branch.
#[derive(Parser, Debug)]
#[command(
    name = "git-sandbox",
    bin_name = "git sandbox",
    version,
    about = "One git worktree, slot, port set, env file and compose stack per branch",
    long_about = "git-sandbox gives each branch a sandbox: a linked git worktree beside the repo, a slot \
number, its own TCP ports, an env file carrying them, and its own docker compose stack. \
Removing a sandbox never loses work.",
    after_help = "Exit codes: 0 done, 1 error, 2 usage, 3 refused because work would be lost."
)]
pub struct Cli {
    /// Run as if started in PATH (like git -C).
    #[arg(short = 'C', global = true, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Print less.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make a sandbox: branch, worktree, slot, ports, env file.
    New(NewArgs),
    /// List sandboxes with their state.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show one sandbox in detail.
    Status(StatusArgs),
    /// Print a sandbox's path (for `cd "$(git sandbox path NAME)"`).
    Path(NameArg),
    /// Run the project's [commands] setup in a sandbox again.
    Setup(SetupArgs),
    /// Copy `copy = [...]` and `.worktreeinclude` files into a sandbox again: only what is
    /// missing there (a file the sandbox has is never overwritten).
    Copy(OptNameArg),
    /// Approve this repo's [commands] (setup, teardown) so they may run; --show, --revoke.
    Trust(TrustArgs),
    /// Remove a sandbox without losing work.
    Rm(RmArgs),
    /// Rename a sandbox: its directory moves to the path for NEW (branch and id stay).
    Mv(MvArgs),
    /// Bring back a removed sandbox as it was (any rm records what restore needs).
    Restore(RestoreArgs),
    /// Saved states of removed sandboxes.
    #[command(subcommand)]
    Trash(TrashCommand),
    /// Repair: finish interrupted operations, drop entries whose directory vanished, sweep trash.
    Prune(PruneArgs),
    /// Print a sandbox's environment.
    Env(EnvArgs),
    /// Run a command inside a sandbox with its environment.
    Exec(ExecArgs),
    /// Start the sandbox's compose stack.
    Up(UpArgs),
    /// Stop the sandbox's compose stack.
    Down(DownArgs),
    /// Show the sandbox's service logs.
    Logs(LogsArgs),
    /// List the sandbox's containers.
    Ps(OptNameArg),
    /// Run any docker compose command for the sandbox (its project, env file and compose file).
    Compose(ComposeArgs),
    /// Print the compose file rendered for the sandbox (its ports, its own names).
    #[command(name = "compose-file")]
    ComposeFile(OptNameArg),
    /// Register a worktree made by hand as a sandbox (a slot and an env file).
    Adopt(AdoptArgs),
    /// Show the port plan and which ports are busy now.
    Ports(PortsArgs),
    /// The slot-0 singleton that runs the real stack.
    #[command(subcommand, name = "local-prod")]
    LocalProd(LocalProdCommand),
    /// Install, remove or inspect the optional git hooks.
    #[command(subcommand)]
    Hooks(HooksCommand),
    /// Run a hook handler (called by the installed hook shims).
    #[command(subcommand, hide = true)]
    Hook(HookCommand),
    /// Coding agents' worktree hooks (Claude Code): JSON on stdin, the path on stdout.
    #[command(subcommand)]
    AgentHook(AgentHookCommand),
    /// Install the worktree hooks into a coding agent's settings.
    #[command(subcommand)]
    AgentSetup(AgentSetupCommand),
    /// Print a completion script (bash, zsh or fish); sandbox names complete too.
    Completions {
        /// The shell.
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// Complete the words after `git-sandbox` (used by the completion scripts).
    #[command(hide = true, name = "__complete")]
    Complete {
        #[arg(last = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// Write a starter .sandbox.toml from the project's compose file.
    Init,
    /// Print a shell function that cds into sandboxes: eval "$(git sandbox shell-init bash)".
    ShellInit {
        /// The shell.
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
        /// The function's name.
        #[arg(long, default_value = "sb")]
        name: String,
    },
    /// Print the man page (roff).
    #[command(hide = true, name = "__man")]
    Man,
    /// Print the JSON Schemas of every `--json` output, or write them into DIR.
    #[command(hide = true, name = "__schema")]
    Schema {
        /// Write one file per output into this directory (the repo keeps them in schema/).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Delete a queued trash directory (used internally by rm).
    #[command(hide = true, name = "__sweep")]
    Sweep { dir: PathBuf },
}

#[derive(Args, Debug)]
pub struct NewArgs {
    /// The sandbox's name, written as a branch: `feature/login` makes branch `feature/login`
    /// in `<repo>--feature-login`; a name with spaces is slugged (`My Feature` → `my-feature`).
    #[arg(required_unless_present = "pr")]
    pub name: Option<String>,
    /// Start the new branch at this revision (default: HEAD).
    #[arg(long, value_name = "REV", conflicts_with = "pr")]
    pub from: Option<String>,
    /// Use this branch (an existing one if it exists, else a new one).
    #[arg(long, value_name = "BRANCH", conflicts_with = "pr")]
    pub branch: Option<String>,
    /// Start its services once created.
    #[arg(long)]
    pub up: bool,
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
pub struct RmArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
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
    /// Keep the compose volumes.
    #[arg(long)]
    pub keep_volumes: bool,
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
    /// Every repo's entries, not just this one's.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct EnvArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Machine-readable output (see the README for the shape).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Run in the foreground instead of detached.
    #[arg(long)]
    pub attach: bool,
    /// Detached (the default; accepted for compose users).
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Build images before starting (compose's `up --build`).
    #[arg(long)]
    pub build: bool,
    /// Start even when the compose file has what collides between sandboxes (a fixed
    /// container_name, a literal host port, a fixed subnet, host networking).
    #[arg(long)]
    pub force: bool,
    /// More arguments for `docker compose up`: services, `--force-recreate`, … (after `--`).
    #[arg(last = true, value_name = "COMPOSE_ARGS")]
    pub compose_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DownArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Remove its volumes too.
    #[arg(long)]
    pub volumes: bool,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Follow the logs.
    #[arg(short, long)]
    pub follow: bool,
    /// Only the last N lines of each service.
    #[arg(long, value_name = "N")]
    pub tail: Option<String>,
    /// More arguments for `docker compose logs`: services, `--since 10m`, … (after `--`).
    #[arg(last = true, value_name = "COMPOSE_ARGS")]
    pub compose_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ComposeArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// The compose command and its arguments (after `--`), e.g. `-- exec web sh`.
    #[arg(last = true, required = true, value_name = "COMPOSE_ARGS")]
    pub compose_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PortsArgs {
    /// Machine-readable output (see the README for the shape).
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum LocalProdCommand {
    /// Make this repo's local-prod (slot 0, `../<repo>-prod` by default).
    New(LocalProdNewArgs),
    /// Start local-prod's stack.
    Up,
    /// Stop local-prod's stack.
    Down(LocalProdDownArgs),
    /// Show local-prod in detail.
    Status(LocalProdStatusArgs),
    /// Show local-prod's logs.
    Logs(LocalProdLogsArgs),
    /// Remove local-prod without losing work.
    Rm(RmFlags),
}

#[derive(Args, Debug)]
pub struct LocalProdNewArgs {
    /// Start at this revision on a new branch `local-prod` (default: check out the default branch's commit).
    #[arg(long, value_name = "REV")]
    pub from: Option<String>,
    /// Use this branch.
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
}

#[derive(Args, Debug)]
pub struct LocalProdDownArgs {
    /// Remove its volumes too.
    #[arg(long)]
    pub volumes: bool,
}

#[derive(Args, Debug)]
pub struct LocalProdStatusArgs {
    /// Machine-readable output (see the README for the shape).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct LocalProdLogsArgs {
    /// Follow the logs.
    #[arg(short, long)]
    pub follow: bool,
}

#[derive(Subcommand, Debug)]
pub enum HooksCommand {
    /// Install post-checkout and pre-push where git runs hooks (keeps and chains existing ones).
    Install(HooksInstallArgs),
    /// Remove them and put back what was there.
    Uninstall,
    /// Show what is installed.
    Status,
}

#[derive(Args, Debug)]
pub struct HooksInstallArgs {
    /// Install even into a directory a hook manager owns.
    #[arg(long)]
    pub force: bool,
}

#[derive(Subcommand, Debug)]
pub enum HookCommand {
    /// post-checkout: prev-HEAD new-HEAD flag.
    PostCheckout {
        prev: String,
        new: String,
        flag: String,
    },
    /// pre-push: remote url, refs on stdin.
    PrePush { remote: String, url: String },
}

#[derive(Args, Debug)]
pub struct AdoptArgs {
    /// The linked worktree's directory.
    pub path: PathBuf,
    /// The sandbox's name (default: from the directory's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Print the sandbox as JSON on stdout (schema/new.json), not its path.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub setup: SetupFlags,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum AgentHookCommand {
    /// WorktreeCreate: make the sandbox the JSON names, print only its path.
    WorktreeCreate,
    /// WorktreeRemove: remove the sandbox at `worktree_path` through rm's checks, never
    /// forced; whatever rm would refuse is kept, and the hook still exits 0.
    WorktreeRemove,
}

#[derive(Subcommand, Debug)]
pub enum AgentSetupCommand {
    /// Add the WorktreeCreate/WorktreeRemove hooks to Claude Code's settings.json.
    Claude(AgentSetupArgs),
}

#[derive(Args, Debug)]
pub struct AgentSetupArgs {
    /// In ~/.claude/settings.json (every project).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    /// In the repo's .claude/settings.json (the default).
    #[arg(long)]
    pub project: bool,
    /// Remove our hooks instead, leaving everything else as it was.
    #[arg(long)]
    pub remove: bool,
}

#[derive(Args, Debug)]
pub struct SetupArgs {
    /// The sandbox (default: the one containing the current directory).
    pub name: Option<String>,
    /// Run the commands this once even if they are not trusted.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct TrustArgs {
    /// Show the commands and whether they are trusted; change nothing.
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
    /// Run the setup commands this once even if they are not trusted.
    #[arg(long, short = 'y')]
    pub yes: bool,
}
