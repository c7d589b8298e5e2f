//! The arguments of the git hooks and the coding-agent hooks (hooks, hook, agent-hook,
//! agent-setup).

use clap::{Args, Subcommand};

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

#[derive(Subcommand, Debug, Clone)]
pub enum AgentHookCommand {
    /// WorktreeCreate: make the sandbox the JSON names, print only its path.
    WorktreeCreate {
        /// Name the branch PREFIX<name> (Claude Code's own naming is `worktree-`); the sandbox
        /// keeps the name as given.
        #[arg(long, value_name = "PREFIX")]
        branch_prefix: Option<String>,
    },
    /// WorktreeRemove: remove the sandbox at `worktree_path` through rm's checks, never
    /// forced; whatever rm would refuse is kept, and the hook exits non-zero (3) with one line.
    WorktreeRemove,
}

#[derive(Subcommand, Debug)]
pub enum AgentSetupCommand {
    /// Add the WorktreeCreate/WorktreeRemove hooks to Claude Code's settings.json, and the
    /// MCP server (`git-sandbox mcp`) to the project's .mcp.json.
    Claude(AgentSetupArgs),
    /// Add `git sandbox adopt` to the setup script and `git sandbox rm --yes` to the cleanup
    /// script of Codex's local environments (.codex/environments/*.toml), the Linux and macOS
    /// scripts (`[setup.linux]`, `[setup.darwin]`…) included, Windows' left as they are; and
    /// the MCP server to .codex/config.toml.
    Codex(AgentFileArgs),
    /// Add `git sandbox adopt .` to Cursor's worktree setup (.cursor/worktrees.json) and the
    /// MCP server to .cursor/mcp.json; Cursor has no removal hook (`git sandbox prune` drops
    /// what its deletions leave).
    Cursor(AgentFileArgs),
}

#[derive(Args, Debug)]
pub struct AgentFileArgs {
    /// Remove our lines instead, leaving the file as it was before (deleted if we made it).
    #[arg(long)]
    pub remove: bool,
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
    /// Name each hook-made branch PREFIX<name> (`worktree-`: Claude Code's own naming);
    /// default: the name as given. Written into the hook's command line.
    #[arg(long, value_name = "PREFIX", conflicts_with = "remove")]
    pub branch_prefix: Option<String>,
}
