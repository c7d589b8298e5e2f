//! `agent-hook worktree-create|worktree-remove` and `agent-setup claude`: Claude Code's
//! `WorktreeCreate` / `WorktreeRemove` hooks, and installing them.
//!
//! The hooks speak Claude Code's protocol: one JSON object on stdin (read without waiting for
//! the end of the stream), and for `worktree-create` the sandbox's absolute path, alone, on
//! stdout. From their first step stdout is reserved (`ui::reserve_stdout`): every message and
//! every child process (git, compose) writes to stderr. A failure is one line on stderr.
//! - worktree-create: `agent_create` (a taken name gets a suffixed sandbox). What it says
//!   while working is held back (`ui::hold_stderr`): on success it follows; on failure the
//!   one line that starts stderr is the reason (Claude Code quotes the start of stderr), and
//!   nothing else. The answer is the path canonicalized (no `.`/`..`, no symlink: Claude
//!   Code refuses those). Failure exits non-zero.
//! - worktree-remove: `agent_remove`.
//!
//! `agent-setup claude` also writes the MCP server entry into the project's `.mcp.json`
//! (`agent::mcp_entry`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::agent::payload;
use crate::agent::receipt;
use crate::agent::settings::{self, Commands, SettingsFile};
use crate::cli::{AgentHookCommand, AgentSetupArgs};
use crate::commands::Ctx;
use crate::error::{EXIT_ERROR, UserError};
use crate::ui;

/// `agent-hook …`: never returns an error for `main` to print; it prints one line itself.
pub fn hook(ctx: &Ctx, cmd: AgentHookCommand) -> Result<i32> {
    let stdout = ui::reserve_stdout();
    let input = payload::read_one(std::io::stdin().lock());
    match cmd {
        AgentHookCommand::WorktreeCreate { branch_prefix } => {
            // Everything said while working is held back: a failure's reason comes first.
            let held = ui::hold_stderr();
            let made =
                input.and_then(|v| super::agent_create::run(ctx, &v, branch_prefix.as_deref()));
            let said = held.release();
            match made {
                Ok(path) => {
                    eprint!("{said}");
                    // Claude Code refuses `.`/`..` segments and symlinks below the repo root.
                    let path = fs::canonicalize(&path).unwrap_or(path);
                    answer(stdout, &path.display().to_string());
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("git-sandbox: {}", reason_line(&e));
                    Ok(exit_code(&e))
                }
            }
        }
        AgentHookCommand::WorktreeRemove => Ok(super::agent_remove::run(ctx, input)),
    }
}

/// Writes the hook's answer to the real stdout.
fn answer(stdout: Option<fs::File>, line: &str) {
    match stdout {
        Some(mut f) => {
            let _ = writeln!(f, "{line}").and_then(|_| f.flush());
        }
        None => ui::out(line),
    }
}

/// An error as one line: its chain joined, any newline inside folded.
pub(super) fn one_line(err: &anyhow::Error) -> String {
    let text = format!("{err:#}");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("; ")
}

/// A failed creation as the one line the agent quotes: the error's own one-line form if it
/// has one, else its chain and first hint; long words (a 10 000 character name) cut.
fn reason_line(err: &anyhow::Error) -> String {
    let user = err.chain().find_map(|e| e.downcast_ref::<UserError>());
    let line = match user {
        Some(UserError { short: Some(s), .. }) => s.clone(),
        Some(UserError { hints, .. }) if !hints.is_empty() => {
            format!("{}; {}", one_line(err), hints[0])
        }
        _ => one_line(err),
    };
    cut_words(&line, 200)
}

/// Every run of more than `max` characters without a space cut to `max` with `…`.
fn cut_words(line: &str, max: usize) -> String {
    let words: Vec<String> = line
        .split(' ')
        .map(|w| match w.chars().count() > max {
            true => format!("{}…", w.chars().take(max).collect::<String>()),
            false => w.to_string(),
        })
        .collect();
    words.join(" ")
}

pub(super) fn exit_code(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| e.downcast_ref::<UserError>())
        .map_or(EXIT_ERROR, |u| u.code)
        .max(EXIT_ERROR)
}

/// The directory the hook works in: the payload's `cwd`, else the current directory.
pub(super) fn work_dir(ctx: &Ctx, dir: Option<&Path>) -> Result<PathBuf> {
    let Some(d) = dir else {
        return Ok(ctx.cwd.clone());
    };
    let d = ctx.cwd.join(d);
    if !d.is_dir() {
        return Err(
            UserError::new(format!("the hook's cwd {} is not a directory", d.display())).into(),
        );
    }
    Ok(fs::canonicalize(&d).unwrap_or(d))
}

/// `agent-setup claude [--user|--project] [--remove]`.
pub fn setup(ctx: &Ctx, args: AgentSetupArgs) -> Result<i32> {
    if let Some(p) = args.branch_prefix.as_deref().filter(|p| !p.is_empty()) {
        crate::agent::prefix::check_prefix(p)?;
    }
    let path = settings_path(ctx, &args)?;
    // The project's `.mcp.json` (computed first: a refusal writes nothing). The user scope's
    // MCP servers live in ~/.claude.json, which is Claude Code's own state: not edited.
    let mcp = match args.user {
        true => None,
        false => Some(super::agent_setup::mcp_edit(
            &ctx.repo()?.root.join(crate::agent::mcp_entry::CLAUDE_FILE),
            args.remove,
        )?),
    };
    let mut file = SettingsFile::load(&path)?;
    let original = file.text().map(String::from);
    let record = receipt::matching(&ctx.reg, &file.path, original.as_deref());
    match record.filter(|_| args.remove) {
        Some(r) => put_back(ctx, &file, &r)?,
        None => {
            let made_dirs = receipt::missing_dirs(&file.path);
            if !args.remove {
                file = with_commands(file, Commands::new(args.branch_prefix.as_deref()))?;
            }
            if edit_settings(&args, &mut file)? {
                let after = fs::read_to_string(&file.path).unwrap_or_default();
                match args.remove {
                    true => receipt::forget(&ctx.reg, &file.path, &[])?,
                    false => {
                        let before = original.as_deref();
                        receipt::wrote(&ctx.reg, &file.path, before, &after, made_dirs)?
                    }
                }
            }
        }
    }
    match mcp {
        Some(edit) => super::agent_setup::apply(&ctx.reg, &[edit], args.remove)?,
        None if !args.remove => ui::info(
            "  for the MCP server in every project: claude mcp add --scope user git-sandbox -- git-sandbox mcp",
        ),
        None => {}
    }
    Ok(0)
}

/// Adds (or with `--remove` cuts) our hooks; whether the file was written.
fn edit_settings(args: &AgentSetupArgs, file: &mut SettingsFile) -> Result<bool> {
    let changed = if args.remove {
        settings::uninstall(&mut file.value)
    } else {
        let (added, warnings) = settings::install(&mut file.value, &file.path, &file.commands)?;
        for w in &warnings {
            ui::warn(w);
        }
        added
    };
    if changed.is_empty() {
        let state = if args.remove {
            "has no git-sandbox hooks"
        } else {
            "already runs git-sandbox's hooks"
        };
        ui::info(&format!("{} {state}; nothing changed", file.path.display()));
        return Ok(false);
    }
    file.save()?;
    said(args, &changed, file);
    Ok(true)
}

/// `--remove` on a settings file still exactly as `agent-setup` wrote it: the bytes it had
/// back (a file it made deleted, with the directories it made, if empty).
fn put_back(ctx: &Ctx, file: &SettingsFile, r: &receipt::Entry) -> Result<()> {
    let path = &file.path;
    // A file git tracks is never deleted: with nothing to put back it stays, our hooks cut.
    let before = match &r.before {
        None if crate::git::is_tracked(path) => Some("{}\n".to_string()),
        b => b.clone(),
    };
    match &before {
        Some(bytes) => {
            crate::atomic::write(path, bytes.as_bytes(), 0o644)?;
            ui::info(&format!(
                "removed the WorktreeCreate and WorktreeRemove hook(s) from {} (its bytes before agent-setup are back)",
                path.display()
            ));
        }
        None => {
            fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
            ui::info(&format!(
                "removed {} (git-sandbox had made it)",
                path.display()
            ));
        }
    }
    receipt::forget(&ctx.reg, path, &r.made_dirs)
}

/// Says what changed in the settings file.
fn said(args: &AgentSetupArgs, changed: &[&str], file: &SettingsFile) {
    let verb = if args.remove { "removed" } else { "added" };
    ui::info(&format!(
        "{verb} the {} hook(s) {} {}",
        changed.join(" and "),
        if args.remove { "from" } else { "to" },
        file.path.display()
    ));
    if !args.remove && !file.existed() {
        ui::detail("(the file is new)");
    }
}

/// The file set to add `wanted`: entries of ours with other options (another
/// `--branch-prefix`) are cut out first, in their own bytes, and the file read again.
fn with_commands(mut file: SettingsFile, wanted: Commands) -> Result<SettingsFile> {
    if file.commands != wanted && !settings::uninstall(&mut file.value).is_empty() {
        file.save()?;
        ui::info(&format!(
            "took out git-sandbox's hooks with other options from {}",
            file.path.display()
        ));
        file = SettingsFile::load(&file.path)?;
    }
    file.commands = wanted;
    Ok(file)
}

/// `~/.claude/settings.json` with `--user`, else the repo's `.claude/settings.json` (at the
/// main worktree's root, wherever in the repo or its sandboxes this runs).
fn settings_path(ctx: &Ctx, args: &AgentSetupArgs) -> Result<PathBuf> {
    if args.user {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                UserError::new("HOME is not set, so there is no ~/.claude/settings.json")
                    .hint("set HOME, or use --project for this repository's settings")
            })?;
        return Ok(PathBuf::from(home).join(".claude/settings.json"));
    }
    Ok(ctx.repo()?.root.join(".claude/settings.json"))
}
