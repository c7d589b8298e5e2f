//! `agent-hook worktree-create|worktree-remove` and `agent-setup claude`: Claude Code's
//! `WorktreeCreate` / `WorktreeRemove` hooks, and installing them.
//!
//! The hooks speak Claude Code's protocol: one JSON object on stdin (read without waiting for
//! the end of the stream), and for `worktree-create` the sandbox's absolute path, alone, on
//! stdout. From their first step stdout is reserved (`ui::reserve_stdout`): every message and
//! every child process (git, compose) writes to stderr. A failure is one line on stderr.
//! - worktree-create: the sandbox `new NAME [--from BASE]` makes, in the repository of the
//!   payload's `cwd` (else the current directory), recorded as made by the agent hook with the
//!   payload's `session_id`. Agents own only what they made: a registered sandbox of that name
//!   is handed out again only if this session made it; any other (the user's, another
//!   session's, an adopted one) is left alone and a new sandbox gets the first free suffixed
//!   name (`NAME-2`, `NAME-3`…, never one whose branch exists). A branch of the requested name
//!   that exists is used as it is (a base is then ignored, as `new NAME` does without
//!   `--from`). Failure exits non-zero.
//! - worktree-remove: only a registered sandbox of that repository whose path is
//!   `worktree_path` and that the agent hook made; anything else (the main worktree,
//!   local-prod, the user's own or adopted sandboxes, a directory git-sandbox did not make) is
//!   refused. The removal is `rm --yes`, never forced: when rm refuses or fails, everything is
//!   kept and the sandbox stays listed. Exit 0 means the directory is gone; a refusal exits
//!   non-zero with one stderr line that starts with the reason (Claude Code keeps the
//!   worktree and quotes it).

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
use crate::registry::{Kind, MadeBy, State};
use crate::target;
use crate::trust::Consent;
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
        AgentHookCommand::WorktreeRemove => match input.and_then(|v| worktree_remove(ctx, &v)) {
            Ok(code) => Ok(code),
            Err(e) => {
                eprintln!("{}; git-sandbox removed nothing", one_line(&e));
                Ok(exit_code(&e))
            }
        },
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
    let mut cfg = Config::load(&repo.root)?;
    // A hook never asks: only what the user approved applies.
    crate::trust::settle(&mut cfg, &repo, &ctx.reg, Consent::stored_only());
    let name = match claim(ctx, &repo, &req)? {
        Claim::Ours(path) => return Ok(path),
        Claim::Free(name) => name,
    };
    let slug = names::slugify(&name)?;
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
    let made_by = MadeBy::Agent {
        session: req.session.clone(),
    };
    let created = new::create_named(
        &repo,
        &cfg,
        &ctx.reg,
        &name,
        &here,
        base.as_deref(),
        made_by,
    )?;
    new::report_created(&created);
    // The project's setup, if trusted: a hook never asks. Untrusted or failing, the sandbox is
    // still the agent's to work in; stderr says how to finish it.
    let consent = Consent::stored_only();
    super::setup::after_create(&repo, &cfg, &ctx.reg, &created.instance, consent, false);
    Ok(created.instance.path)
}

/// What the hook may do with the name it was asked for.
enum Claim {
    /// A sandbox this session made (healthy): its path is the answer.
    Ours(PathBuf),
    /// The name (as written, maybe suffixed `-2`, `-3`…) of a new sandbox to make.
    Free(String),
}

/// The requested name, unless a sandbox of that name exists that this session did not make:
/// then the first `NAME-2`, `NAME-3`… that no sandbox holds and no branch has (a suffixed
/// name never lands on a branch of the user's).
fn claim(ctx: &Ctx, repo: &Repo, req: &CreateRequest) -> Result<Claim> {
    let data = ctx.reg.load()?;
    for n in 1..=100u32 {
        let name = match n {
            1 => req.name.clone(),
            n => format!("{}-{n}", req.name),
        };
        let slug = names::slugify(&name)?;
        let Some(inst) = data.of_repo(&repo.root).find(|i| i.name == slug) else {
            let branch = names::for_new(&name)?.branch;
            if n > 1 && git::branch_name_valid(&branch) && repo.branch_tip(&branch)?.is_some() {
                continue;
            }
            if n > 1 {
                ui::info(&format!(
                    "sandbox {} is not this agent's; making {slug} instead",
                    names::slugify(&req.name)?
                ));
            }
            return Ok(Claim::Free(name));
        };
        if inst.maker().is_session(req.session.as_deref()) {
            ui::info(&format!(
                "sandbox {slug} exists (this session made it); using it"
            ));
            return Ok(Claim::Ours(healthy(repo, inst)?));
        }
    }
    Err(UserError::new(format!(
        "every name from {0} to {0}-100 is taken by sandboxes this agent did not make",
        req.name
    ))
    .into())
}

/// The path of a registered sandbox the hook made, if it is healthy; an error if it is not.
fn healthy(repo: &Repo, inst: &crate::registry::Instance) -> Result<PathBuf> {
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
    target::verify(repo, inst)
}

/// Removes the sandbox at the payload's `worktree_path` if the hook made it and `rm` lets it
/// go. Exit 0 only when it is gone; a refusal is one stderr line that starts with the reason.
fn worktree_remove(ctx: &Ctx, v: &Value) -> Result<i32> {
    let req = RemoveRequest::from_json(v)?;
    let dir = work_dir(ctx, req.dir.as_deref())?;
    let wt = dir.join(&req.path);
    let wt = fs::canonicalize(&wt).unwrap_or(wt);
    let repo = Repo::discover(&dir).or_else(|_| Repo::discover(&wt))?;
    let keep = |why: String| {
        eprintln!("{why}; git-sandbox kept {}", wt.display());
        // Claude Code reads exit 0 as "removed": only true when the directory is gone.
        Ok(if fs::symlink_metadata(&wt).is_ok() {
            EXIT_ERROR
        } else {
            0
        })
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
    if !inst.maker().is_agent() {
        return keep(format!(
            "sandbox {0} was made by {1}, not by an agent hook, so an agent does not remove it \
             (`git sandbox rm {0}` does)",
            inst.name,
            inst.maker().describe()
        ));
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
        .and_then(|mut cfg| {
            crate::trust::settle(&mut cfg, &repo, &ctx.reg, Consent::stored_only());
            rm::remove(&here, &repo, &cfg, &inst, flags)
        })
        .and_then(|code| match code {
            0 => Ok(()),
            code => Err(anyhow::anyhow!("rm stopped with exit {code}")),
        });
    match result {
        Ok(()) => Ok(0),
        Err(e) => {
            let why = e
                .chain()
                .find_map(|c| c.downcast_ref::<UserError>())
                .map_or_else(|| one_line(&e), |u| u.message.clone());
            keep(format!(
                "{why}: kept sandbox {0} (still listed); remove it by hand with `git sandbox rm {0}`",
                inst.name
            ))
        }
    }
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
