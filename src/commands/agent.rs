//! `agent-hook worktree-create|worktree-remove` and `agent-setup claude`: Claude Code's
//! `WorktreeCreate` / `WorktreeRemove` hooks, and installing them.
//!
//! The hooks speak Claude Code's protocol: one JSON object on stdin (read without waiting for
//! the end of the stream), and for `worktree-create` the sandbox's absolute path, alone, on
//! stdout. From their first step stdout is reserved (`ui::reserve_stdout`): every message and
//! every child process (git, compose) writes to stderr. A failure is one line on stderr.
//! - worktree-create: the sandbox `new NAME [--from BASE]` makes, in the repository of the
//!   payload's `cwd` (else the current directory). A healthy registered sandbox of that name
//!   is reused: its path is the answer. A branch of that name that exists is used as it is (a
//!   base is then ignored, as `new NAME` does without `--from`). Failure exits non-zero.
//! - worktree-remove: only a registered sandbox of that repository whose path is
//!   `worktree_path`; anything else (the main worktree, local-prod, a directory git-sandbox
//!   did not make) is left alone. The removal is `rm --yes`, never forced: when rm refuses
//!   or fails, everything is kept, the sandbox stays listed, and the hook exits 0 so the
//!   agent carries on.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use crate::agent::payload::{self, CreateRequest, RemoveRequest};
use crate::agent::settings::{self, SettingsFile};
use crate::cli::{AgentHookCommand, AgentSetupArgs, RmFlags};
use crate::commands::{Ctx, new, rm};
use crate::config::Config;
use crate::error::{EXIT_ERROR, UserError};
use crate::git::{self, Repo};
use crate::names;
use crate::registry::{Kind, State};
use crate::target;
use crate::ui;

/// `agent-hook …`: never returns an error for `main` to print; it prints one line itself.
pub fn hook(ctx: &Ctx, cmd: AgentHookCommand) -> Result<i32> {
    let stdout = ui::reserve_stdout();
    let input = payload::read_one(std::io::stdin().lock());
    match cmd {
        AgentHookCommand::WorktreeCreate => match input.and_then(|v| worktree_create(ctx, &v)) {
            Ok(path) => {
                answer(stdout, &path.display().to_string());
                Ok(0)
            }
            Err(e) => {
                eprintln!("git-sandbox: cannot create the worktree: {}", one_line(&e));
                Ok(exit_code(&e))
            }
        },
        AgentHookCommand::WorktreeRemove => {
            if let Err(e) = input.and_then(|v| worktree_remove(ctx, &v)) {
                eprintln!("git-sandbox: nothing removed: {}", one_line(&e));
            }
            Ok(0)
        }
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
fn one_line(err: &anyhow::Error) -> String {
    let text = format!("{err:#}");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("; ")
}

fn exit_code(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| e.downcast_ref::<UserError>())
        .map_or(EXIT_ERROR, |u| u.code)
        .max(EXIT_ERROR)
}

/// The directory the hook works in: the payload's `cwd`, else the current directory.
fn work_dir(ctx: &Ctx, dir: Option<&Path>) -> Result<PathBuf> {
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

fn worktree_create(ctx: &Ctx, v: &Value) -> Result<PathBuf> {
    let req = CreateRequest::from_json(v)?;
    let repo = Repo::discover(&work_dir(ctx, req.dir.as_deref())?)?;
    let cfg = Config::load(&repo.root)?;
    let slug = names::slugify(&req.name)?;
    if let Some(path) = existing(ctx, &repo, &slug)? {
        ui::info(&format!("sandbox {slug} exists; using it"));
        return Ok(path);
    }
    let base = match req.base {
        Some(b) if git::branch_name_valid(&slug) && repo.branch_tip(&slug)?.is_some() => {
            ui::info(&format!(
                "branch {slug} exists, so it is used as it is (not started at {b})"
            ));
            None
        }
        b => b,
    };
    let here = work_dir(ctx, req.dir.as_deref())?;
    let created = new::create_named(&repo, &cfg, &ctx.reg, &req.name, &here, base.as_deref())?;
    new::report_created(&created);
    // The project's setup, if trusted: a hook never asks. Untrusted or failing, the sandbox is
    // still the agent's to work in; stderr says how to finish it.
    let consent = crate::lifecycle::Consent {
        yes: false,
        never_ask: true,
    };
    super::setup::after_create(&repo, &cfg, &ctx.reg, &created.instance, consent, false);
    Ok(created.instance.path)
}

/// The path of the registered sandbox `slug` of `repo`, if there is one and it is healthy; an
/// error if there is one that is not.
fn existing(ctx: &Ctx, repo: &Repo, slug: &str) -> Result<Option<PathBuf>> {
    let data = ctx.reg.load()?;
    let Some(inst) = data.of_repo(&repo.root).find(|i| i.name == slug) else {
        return Ok(None);
    };
    if inst.kind != Kind::Sandbox || inst.state != State::Ready {
        return Err(UserError::new(format!(
            "{} is registered but is {} (run `git sandbox prune`, or pick another name)",
            inst.id,
            if inst.kind == Kind::Sandbox {
                "not ready"
            } else {
                "local-prod"
            }
        ))
        .into());
    }
    Ok(Some(target::verify(repo, inst)?))
}

fn worktree_remove(ctx: &Ctx, v: &Value) -> Result<()> {
    let req = RemoveRequest::from_json(v)?;
    let dir = work_dir(ctx, req.dir.as_deref())?;
    let wt = dir.join(&req.path);
    let wt = fs::canonicalize(&wt).unwrap_or(wt);
    let repo = Repo::discover(&dir).or_else(|_| Repo::discover(&wt))?;
    let keep = |why: String| {
        ui::info(&format!("git-sandbox: keeping {}: {why}", wt.display()));
        Ok(())
    };
    if wt == repo.root {
        return keep("it is the repository's main worktree".into());
    }
    let data = ctx.reg.load()?;
    let Some(inst) = data.of_repo(&repo.root).find(|i| i.path == wt).cloned() else {
        return keep(format!(
            "it is not a sandbox of {}; git-sandbox removes only sandboxes it made",
            repo.root.display()
        ));
    };
    if inst.kind == Kind::LocalProd {
        return keep("it is this repository's local-prod".into());
    }
    let here = Ctx {
        cwd: dir,
        reg: ctx.reg.clone(),
    };
    let flags = RmFlags {
        yes: true,
        ..Default::default()
    };
    let result = Config::load(&repo.root)
        .and_then(|cfg| rm::remove(&here, &repo, &cfg, &inst, flags))
        .and_then(|code| match code {
            0 => Ok(()),
            code => Err(anyhow::anyhow!("rm stopped with exit {code}")),
        });
    if let Err(e) = result {
        let why = e
            .chain()
            .find_map(|c| c.downcast_ref::<UserError>())
            .map_or_else(|| one_line(&e), |u| u.message.clone());
        eprintln!(
            "git-sandbox: kept sandbox {} at {} (still listed): {why}; remove it by hand with `git sandbox rm {}`",
            inst.name,
            wt.display(),
            inst.name
        );
    }
    Ok(())
}

/// `agent-setup claude [--user|--project] [--remove]`.
pub fn setup(ctx: &Ctx, args: AgentSetupArgs) -> Result<i32> {
    let path = settings_path(ctx, &args)?;
    let mut file = SettingsFile::load(&path)?;
    let changed = if args.remove {
        settings::uninstall(&mut file.value)
    } else {
        let (added, warnings) = settings::install(&mut file.value, &file.path)?;
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
        return Ok(0);
    }
    file.save()?;
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
    Ok(0)
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
