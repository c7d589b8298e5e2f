//! Coding agents: what their hooks receive ([`payload`]) and the hook entries git-sandbox
//! installs in their settings ([`settings`]). Claude Code's `WorktreeCreate` and
//! `WorktreeRemove` hooks run `git sandbox agent-hook worktree-create|worktree-remove`
//! (`commands/agent.rs`): creation is `new`'s, removal is `rm`'s gate, never forced.

pub mod payload;
pub mod settings;
