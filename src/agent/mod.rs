//! Coding agents: what their hooks receive ([`payload`]) and the hook entries git-sandbox
//! installs in their settings ([`settings`]); Codex's and Cursor's worktree setup files
//! ([`codex`], [`cursor`]), edited as byte splices ([`files`]), and what `agent-setup` wrote ([`receipt`]), so
//! `--remove` gives back the bytes before. Claude Code's `WorktreeCreate` and
//! `WorktreeRemove` hooks run `git sandbox agent-hook worktree-create|worktree-remove`
//! (`commands/agent.rs`): creation is `new`'s, removal is `rm`'s gate, never forced.

pub mod codex;
pub mod cursor;
pub mod files;
pub mod jsonsplice;
pub mod mcp_entry;
pub mod payload;
pub mod prefix;
pub mod receipt;
pub mod settings;
pub mod settings_bytes;
pub mod tomlscript;
