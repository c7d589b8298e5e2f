//! `agent-hook worktree-remove`: Claude Code's `WorktreeRemove`, to the letter of its hooks
//! reference. Exit 0 means "the worktree counts as removed", so it is returned only when the
//! directory is gone. Anything kept exits non-zero with exactly one line on stderr that starts
//! `git-sandbox: kept <path>: <reason>` and ends with the one command that would remove it
//! (Claude Code keeps the worktree and quotes the start of stderr).
//!
//! Exit codes: 3 when the sandbox is kept on purpose (removing it would lose work, or it is
//! not the hook's to remove: the main worktree, local-prod, the user's own or an adopted
//! sandbox, a directory git-sandbox did not make), as `rm` exits 3 when it refuses; 2 for a
//! payload that is not a `WorktreeRemove`; 1 when removing failed (teardown, an engine that
//! cannot be reached). Claude Code treats every non-zero code alike; the codes are for people
//! reading its logs. `rm`'s own report (and anything its steps' children print) is hushed:
//! nothing about shells or terminals means anything to a hook.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use super::agent::{exit_code, one_line, work_dir};
use crate::agent::payload::{self, RemoveRequest};
use crate::cli::RmFlags;
use crate::commands::{Ctx, rm};
use crate::config::Config;
use crate::error::{EXIT_ERROR, EXIT_REFUSED, UserError};
use crate::git::Repo;
use crate::registry::{Instance, Kind};
use crate::trust::Consent;
use crate::ui;

/// Why the hook kept a worktree, and the one command that removes it (if any).
struct Kept {
    why: String,
    fix: Option<String>,
    code: i32,
}

impl Kept {
    fn refused(why: impl Into<String>, fix: Option<String>) -> Kept {
        Kept {
            why: why.into(),
            fix,
            code: EXIT_REFUSED,
        }
    }
}

/// The hook: removes the sandbox at `worktree_path` if the hook made it and `rm` lets it go;
/// prints at most one line; returns the exit code.
pub fn run(ctx: &Ctx, input: Result<Value>) -> i32 {
    let req = match input.and_then(|v| {
        payload::expect_event(&v, "WorktreeRemove")?;
        RemoveRequest::from_json(&v)
    }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("git-sandbox: removed nothing: {}", one_line(&e));
            return exit_code(&e);
        }
    };
    let (wt, outcome) = match locate(ctx, &req) {
        Ok((wt, repo, dir)) => {
            let outcome = decide(ctx, &repo, &dir, &wt);
            (wt, outcome)
        }
        Err((wt, e)) => (
            wt,
            Err(Kept {
                why: one_line(&e),
                fix: None,
                code: exit_code(&e),
            }),
        ),
    };
    report(&wt, outcome)
}

/// The worktree's path (normalised), the repository and the hook's directory.
fn locate(
    ctx: &Ctx,
    req: &RemoveRequest,
) -> std::result::Result<(PathBuf, Repo, PathBuf), (PathBuf, anyhow::Error)> {
    let raw = ctx.cwd.join(&req.path);
    // Links resolved above the last part only: a link at the path itself is refused (`decide`),
    // never followed to whatever sandbox it points at.
    let wt = match (raw.parent(), raw.file_name()) {
        (Some(parent), Some(name)) => fs::canonicalize(parent)
            .map(|p| p.join(name))
            .unwrap_or_else(|_| raw.clone()),
        _ => fs::canonicalize(&raw).unwrap_or(raw),
    };
    let dir = work_dir(ctx, req.dir.as_deref()).map_err(|e| (wt.clone(), e))?;
    let repo = Repo::discover(&dir)
        .or_else(|_| Repo::discover(&wt))
        .map_err(|e| (wt.clone(), e))?;
    Ok((wt, repo, dir))
}

/// Exit 0 only when the directory is gone; else the one line, and a non-zero code.
fn report(wt: &Path, outcome: std::result::Result<(), Kept>) -> i32 {
    let gone = fs::symlink_metadata(wt).is_err();
    match outcome {
        Ok(()) if gone => 0,
        Ok(()) => {
            eprintln!(
                "git-sandbox: kept {}: it is still there after the removal",
                wt.display()
            );
            EXIT_ERROR
        }
        Err(_) if gone => 0,
        Err(k) => {
            let fix = k.fix.map(|f| format!("; {f}")).unwrap_or_default();
            eprintln!("git-sandbox: kept {}: {}{fix}", wt.display(), k.why);
            k.code.max(EXIT_ERROR)
        }
    }
}

/// Whether the hook may remove `wt`, and the removal through `rm`'s gate if so.
fn decide(ctx: &Ctx, repo: &Repo, dir: &Path, wt: &Path) -> std::result::Result<(), Kept> {
    if wt == repo.root {
        return Err(Kept::refused("it is the repository's main worktree", None));
    }
    if fs::symlink_metadata(wt).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Kept::refused(
            "it is a symbolic link, not a sandbox's directory (a hook never follows one)",
            None,
        ));
    }
    let data = ctx.reg.load().map_err(|e| Kept {
        why: one_line(&e),
        fix: None,
        code: exit_code(&e),
    })?;
    let Some(inst) = data.of_repo(&repo.root).find(|i| i.path == wt).cloned() else {
        // Made before the hook was set up, or by hand: git's own command removes it.
        let path = crate::agent::prefix::shell_quoted(&wt.display().to_string());
        return Err(Kept::refused(
            format!(
                "it is not a sandbox of {} (an agent hook removes only sandboxes it made)",
                repo.root.display()
            ),
            Some(format!("remove it with git worktree remove {path}")),
        ));
    };
    if inst.kind == Kind::LocalProd {
        return Err(Kept::refused("it is this repository's local-prod", None));
    }
    if !inst.maker().is_agent() {
        return Err(Kept::refused(
            format!(
                "sandbox {} was made by {}, not by an agent hook",
                inst.name,
                inst.maker().describe()
            ),
            Some(format!("remove it with git sandbox rm {}", inst.name)),
        ));
    }
    remove(ctx, repo, dir, &inst).map_err(|e| kept_by_rm(&inst, &e))
}

/// `rm --yes`, never forced, with stderr hushed.
fn remove(ctx: &Ctx, repo: &Repo, dir: &Path, inst: &Instance) -> Result<()> {
    let here = Ctx {
        cwd: dir.to_path_buf(),
        reg: ctx.reg.clone(),
    };
    let flags = RmFlags {
        yes: true,
        ..Default::default()
    };
    let _hushed = ui::hush_stderr();
    let mut cfg = Config::load_or_safe(&repo.root);
    crate::trust::settle(&mut cfg, repo, &ctx.reg, Consent::stored_only());
    match rm::remove(&here, repo, &cfg, inst, flags)? {
        0 => Ok(()),
        code => Err(anyhow::anyhow!("rm stopped with exit {code}")),
    }
}

/// What `rm`'s error says, as the reason and the one command that removes the sandbox anyway.
fn kept_by_rm(inst: &Instance, e: &anyhow::Error) -> Kept {
    let name = &inst.name;
    let Some(u) = e.chain().find_map(|c| c.downcast_ref::<UserError>()) else {
        return Kept {
            why: one_line(e),
            fix: Some(failed_fix(name)),
            code: EXIT_ERROR,
        };
    };
    let prefix = format!("refusing to remove {name}: ");
    let mut why = fold(u.message.strip_prefix(&prefix).unwrap_or(&u.message));
    // What a second look found that the first did not: the agent (and its user) see what.
    let news: Vec<&str> = u
        .hints
        .iter()
        .filter_map(|h| h.strip_prefix("new: "))
        .take(3)
        .collect();
    if !news.is_empty() {
        why = format!("{why} ({})", fold(&news.join("; ")));
    }
    // Unapproved commands (its teardown): approving them is the fix (a hook passes no --yes).
    if u.hints.iter().any(|h| h.contains("`git sandbox trust`")) {
        let fix = format!(
            "approve them with git sandbox trust in {} (read them first: git sandbox trust --show), then remove it again",
            inst.parent_repo.display()
        );
        return Kept {
            why,
            fix: Some(fix),
            code: u.code.max(EXIT_ERROR),
        };
    }
    if u.code != EXIT_REFUSED {
        return Kept {
            why,
            fix: Some(failed_fix(name)),
            code: u.code,
        };
    }
    let unlock = u.hints.iter().find(|h| h.contains("git worktree unlock"));
    let hard = u
        .hints
        .iter()
        .any(|h| h.contains("--force does not override"));
    let fix = match (hard, unlock) {
        (true, _) => "move that out of the sandbox first (--force does not override this)".into(),
        (false, Some(h)) => format!("{h}, or remove with git sandbox rm {name} --force"),
        (false, None) => format!("remove with git sandbox rm {name} --force"),
    };
    Kept::refused(why, Some(fix))
}

/// The fix after a removal that failed (not a refusal): `rm` again once the cause is gone, or
/// forced (its work saved first), as `rm` itself says.
fn failed_fix(name: &str) -> String {
    format!("remove it with git sandbox rm {name} once that is fixed (--force removes it anyway)")
}

/// A message as one line.
fn fold(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
