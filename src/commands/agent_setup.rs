//! `agent-setup codex` and `agent-setup cursor`: git-sandbox's lines in the files those agents
//! read when they make a worktree (`agent::codex`, `agent::cursor`), added or, with `--remove`,
//! taken out again. Every file is edited in memory first and any refusal stops before a byte
//! is written; then each changed file is written atomically (or deleted, when it is still the
//! one git-sandbox made for this user, by its record, and git does not track it), and one that needs no change is not touched.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::agent::files::ConfigFile;
use crate::agent::receipt;
use crate::agent::{codex, cursor, mcp_entry};
use crate::cli::AgentFileArgs;
use crate::commands::Ctx;
use crate::git;
use crate::registry::Registry;
use crate::ui;

/// One file's edit, computed before anything is written.
pub(super) struct Edit {
    file: ConfigFile,
    new: Option<String>,
    what: String,
    /// The file with our lines cut out, for when `--remove` would delete it but must not.
    kept: String,
}

/// The MCP server entry (`agent::mcp_entry`) in the JSON or TOML file at `path`, added or,
/// with `remove`, taken out.
pub(super) fn mcp_edit(path: &Path, remove: bool) -> Result<Edit> {
    let file = ConfigFile::load(path)?;
    let text = file.text.as_deref();
    let toml = path.extension().is_some_and(|e| e == "toml");
    let new = match (toml, remove) {
        (false, false) => mcp_entry::json_install(text, &file.path)?.or_else(|| file.text.clone()),
        (false, true) => {
            mcp_entry::json_uninstall(text, &file.path)?.unwrap_or_else(|| file.text.clone())
        }
        (true, false) => mcp_entry::toml_install(text, &file.path)?.or_else(|| file.text.clone()),
        (true, true) => {
            mcp_entry::toml_uninstall(text, &file.path)?.unwrap_or_else(|| file.text.clone())
        }
    };
    let what = "the MCP servers (`git-sandbox mcp`)".to_string();
    let kept = if toml { String::new() } else { "{}\n".into() };
    Ok(Edit {
        file,
        new,
        what,
        kept,
    })
}

/// `agent-setup codex`: every environment in `.codex/environments/`, or a new
/// `environment.toml` when there is none.
pub fn codex(ctx: &Ctx, args: AgentFileArgs) -> Result<i32> {
    let root = ctx.repo()?.root;
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sandbox".into());
    let mut edits = Vec::new();
    let mut warnings = Vec::new();
    for path in codex_files(&root)? {
        let file = ConfigFile::load(&path)?;
        let text = file.text.as_deref();
        let change = if args.remove {
            codex::uninstall(text, &name, &file.path)?
        } else {
            codex::install(text, &name, &file.path)?
        };
        warnings.extend(change.warnings);
        let what = format!("the {} script(s)", change.changed.join(" and "));
        let new = if change.changed.is_empty() {
            file.text.clone()
        } else {
            change.text
        };
        let kept = codex::bare(&name);
        edits.push(Edit {
            file,
            new,
            what,
            kept,
        });
    }
    edits.push(mcp_edit(&root.join(mcp_entry::CODEX_FILE), args.remove)?);
    for w in &warnings {
        ui::warn(w);
    }
    apply(&ctx.reg, &edits, args.remove)?;
    if !args.remove {
        ui::info(
            "  Codex reads the project's .codex/config.toml (the MCP server) once you trust the project",
        );
        ui::info(
            "  Codex runs setup in each worktree it makes (`git sandbox adopt`: a slot, ports, the env file) and cleanup before it deletes one (`git sandbox rm --yes --if-sandbox`: never forced; a worktree that is not a sandbox is a no-op; a worktree with work it would lose is kept and the cleanup fails)",
        );
        ui::info(
            "  a worktree Codex deletes without running cleanup leaves an entry: `git sandbox prune` drops it",
        );
    }
    Ok(0)
}

/// `agent-setup cursor`: the repo's `.cursor/worktrees.json`.
pub fn cursor(ctx: &Ctx, args: AgentFileArgs) -> Result<i32> {
    let root = ctx.repo()?.root;
    let file = ConfigFile::load(&root.join(cursor::FILE))?;
    let text = file.text.as_deref();
    let new = if args.remove {
        cursor::uninstall(text, &file.path)?.unwrap_or_else(|| file.text.clone())
    } else {
        cursor::install(text, &file.path)?.or_else(|| file.text.clone())
    };
    let what = "the worktree setup".to_string();
    let mcp = mcp_edit(&root.join(mcp_entry::CURSOR_FILE), args.remove)?;
    let kept = "{}\n".to_string();
    let edit = Edit {
        file,
        new,
        what,
        kept,
    };
    apply(&ctx.reg, &[edit, mcp], args.remove)?;
    if !args.remove {
        ui::info(
            "  Cursor runs it in each worktree it makes; it has no hook for removing one and deletes its worktrees itself: `git sandbox prune` drops the entries they leave",
        );
    }
    Ok(0)
}

/// The Codex environment files to edit: each `*.toml` in `.codex/environments/`, sorted, or
/// the default one when there is none.
fn codex_files(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = root.join(codex::DIR);
    let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    if files.is_empty() {
        files.push(dir.join(codex::DEFAULT_FILE));
    }
    Ok(files)
}

/// Writes every changed file (all were computed first), and says what changed. `--remove` on
/// a file still exactly as `agent-setup` wrote it puts back the bytes it had (`receipt`).
pub(super) fn apply(reg: &Registry, edits: &[Edit], remove: bool) -> Result<()> {
    let mut emptied = Vec::new();
    for e in edits {
        let path = e.file.path.display();
        let existed = e.file.text.is_some();
        let before = e.file.text.as_deref();
        let record = receipt::matching(reg, &e.file.path, before).filter(|_| remove);
        let mut new = match &record {
            Some(r) => r.before.clone(),
            None => e.new.clone(),
        };
        // Deleted only when a record proves we made it for this user and git does not track
        // it (a team's committed file is the team's): else our lines are cut and it stays.
        if existed && new.is_none() && (record.is_none() || git::is_tracked(&e.file.path)) {
            new = Some(e.kept.clone());
        }
        let made_dirs = receipt::missing_dirs(&e.file.path);
        if !e.file.store(new.as_deref())? {
            let state = if remove {
                "has no git-sandbox lines"
            } else {
                "already runs git-sandbox"
            };
            ui::info(&format!("{path} {state}; nothing changed"));
            continue;
        }
        match (&record, &new) {
            (Some(r), _) => {
                receipt::forget(reg, &e.file.path, &r.made_dirs)?;
                emptied.extend(r.made_dirs.iter().cloned());
            }
            (None, Some(after)) if !remove => {
                receipt::wrote(reg, &e.file.path, before, after, made_dirs)?
            }
            (None, _) => receipt::forget(reg, &e.file.path, &[])?,
        }
        match (remove, existed, new.is_some()) {
            (true, _, false) => ui::info(&format!("removed {path} (git-sandbox had made it)")),
            (true, _, true) => ui::info(&format!(
                "removed git-sandbox's entry from {} in {path}",
                e.what
            )),
            (false, false, _) => ui::info(&format!("wrote {path} (the file is new)")),
            (false, true, _) => ui::info(&format!(
                "added git-sandbox's entry to {} in {path}",
                e.what
            )),
        }
    }
    // A directory one file's record made may have held another's until just now.
    receipt::remove_empty(&emptied);
    Ok(())
}
