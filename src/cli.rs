//! The command line, as clap types only. Commands turn these into plain values before calling
//! the domain modules, which never see clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

mod hooks;
mod lazy;
mod sandbox;
mod seed;
mod services;

pub use hooks::*;
pub use lazy::Lazy;
pub use sandbox::*;
pub use seed::*;
pub use services::*;

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
    New(Lazy<NewArgs>),
    /// List sandboxes with their state.
    #[command(visible_alias = "ls")]
    List(Lazy<ListArgs>),
    /// Show one sandbox in detail.
    Status(Lazy<StatusArgs>),
    /// Print a sandbox's path (for `cd "$(git sandbox path NAME)"`).
    Path(Lazy<NameArg>),
    /// Run the project's [commands] setup in a sandbox again.
    Setup(Lazy<SetupArgs>),
    /// Copy `copy = [...]` and `.worktreeinclude` files into a sandbox again: only what is
    /// missing there (a file the sandbox has is never overwritten).
    Copy(Lazy<CopyArgs>),
    /// Approve what this repo's .sandbox.toml asks for (commands, path, disposable, copy) so it
    /// applies; --show, --revoke.
    Trust(Lazy<TrustArgs>),
    /// Remove a sandbox without losing work.
    Rm(Lazy<RmArgs>),
    /// Rename a sandbox: its directory moves to the path for NEW (branch and id stay).
    Mv(Lazy<MvArgs>),
    /// Bring back a removed sandbox as it was (any rm records what restore needs).
    Restore(Lazy<RestoreArgs>),
    /// Saved states of removed sandboxes.
    #[command(subcommand)]
    Trash(Lazy<TrashCommand>),
    /// Repair: finish interrupted operations, drop entries whose directory vanished, sweep trash.
    Prune(Lazy<PruneArgs>),
    /// Print a sandbox's environment.
    Env(Lazy<EnvArgs>),
    /// Run a command inside a sandbox with its environment.
    Exec(Lazy<ExecArgs>),
    /// Start the sandbox's compose stack.
    Up(Lazy<UpArgs>),
    /// Stop the sandbox's compose stack.
    Down(Lazy<DownArgs>),
    /// Show the sandbox's service logs.
    Logs(Lazy<LogsArgs>),
    /// List the sandbox's containers.
    Ps(Lazy<OptNameArg>),
    /// Run any docker compose command for the sandbox (its project, env file and compose file).
    #[command(override_usage = "git sandbox compose [NAME] [--] COMPOSE_ARGS...")]
    Compose(Lazy<ComposeArgs>),
    /// Copy the main checkout's (or local-prod's) volumes named by `[compose] seed` into the
    /// sandbox's own; --reset replaces them (the old data kept), --undo puts it back.
    Seed(Lazy<SeedArgs>),
    /// List a sandbox's volumes: size, seeded from where and when, saved copies.
    Volumes(Lazy<VolumesArgs>),
    /// Print the compose file rendered for the sandbox (its ports, its own names), or with
    /// --explain what the rendering rewrote.
    #[command(name = "compose-file")]
    ComposeFile(Lazy<ComposeFileArgs>),
    /// Register a worktree made by hand as a sandbox (a slot and an env file).
    Adopt(Lazy<AdoptArgs>),
    /// Show the port plan and which ports are busy now.
    Ports(Lazy<PortsArgs>),
    /// The Docker engines the sandboxes' stacks run on: each one's sandboxes and busy ports.
    Engines(Lazy<EnginesArgs>),
    /// The slot-0 singleton that runs the real stack.
    #[command(subcommand, name = "local-prod")]
    LocalProd(Lazy<LocalProdCommand>),
    /// Install, remove or inspect the optional git hooks.
    #[command(subcommand)]
    Hooks(Lazy<HooksCommand>),
    /// Run a hook handler (called by the installed hook shims).
    #[command(subcommand, hide = true)]
    Hook(Lazy<HookCommand>),
    /// Coding agents' worktree hooks (Claude Code): JSON on stdin, the path on stdout.
    #[command(subcommand)]
    AgentHook(Lazy<AgentHookCommand>),
    /// Install the worktree hooks into a coding agent's settings.
    #[command(subcommand)]
    AgentSetup(Lazy<AgentSetupCommand>),
    /// Serve the Model Context Protocol over stdio: tools create, list, status, remove (a dry
    /// run first, never forced), up, down, logs and urls, for any agent that speaks MCP.
    Mcp,
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
    /// Write a starter .sandbox.toml from the project's compose files.
    Init {
        /// A compose file the project's users pass to compose (`-f a.yml -f b.yml`), in
        /// order; written as `compose_files`. Default: COMPOSE_FILE (environment, then .env),
        /// else the standard name and its override file.
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        files: Vec<PathBuf>,
    },
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
    /// Unpause these containers when stdin closes without `done` (used internally by seed).
    #[command(hide = true, name = "__unpause")]
    Unpause { ids: Vec<String> },
    /// Delete a queued trash directory (used internally by rm).
    #[command(hide = true, name = "__sweep")]
    Sweep { dir: PathBuf },
}

/// The whole command tree, every command's arguments defined ([`Lazy`] defers them): for what
/// reads the tree rather than parses one command line (completions, the man page).
pub fn full_command() -> clap::Command {
    use clap::CommandFactory;
    lazy::whole(Cli::command)
}

/// Every word `git sandbox WORD` takes as a command: subcommands and their aliases, and `help`.
/// A sandbox with such a name could not be reached by the shell function's `sb NAME`.
pub fn command_words() -> Vec<String> {
    let mut words = vec!["help".to_string()];
    for sub in full_command().get_subcommands() {
        words.push(sub.get_name().to_string());
        words.extend(sub.get_all_aliases().map(String::from));
    }
    words
}
