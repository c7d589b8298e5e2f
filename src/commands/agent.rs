//! `agent-hook worktree-create|worktree-remove` and `agent-setup claude`: Claude Code's
//! `WorktreeCreate` / `WorktreeRemove` hooks, and installing them.
//!
//! The hooks speak Claude Code's protocol: one JSON object on stdin (read without waiting for
//! the end of the stream), and for `worktree-create` the sandbox's absolute path, alone, on
//! stdout. From their first step stdout is reserved (`ui::reserve_stdout`): every message and
//! every child process (git, compose) writes to stderr. A failure is one line on stderr.
//! - worktree-create: the sandbox `new NAME [--from BASE]` makes, in the repository of the
//!   payload's `cwd` (else the current directory), recorded as made by the agent hook with the
//!   payload's `session_id`; with `--branch-prefix P` (chosen at `agent-setup` time and
//!   written into the hook's command line) its branch is `P<name>`. A payload of another
//!   `hook_event_name` is refused. Agents own only what they made: a registered sandbox of
//!   that name is handed out again only if this session made it; any other (the user's,
//!   another session's, an adopted one) is left alone and a new sandbox gets the first free
//!   suffixed name (`NAME-2`, `NAME-3`…, never one whose branch exists). A branch of the
//!   requested name that exists is used as it is (a base is then ignored, as `new NAME` does
//!   without `--from`). The answer is the path canonicalized (no `.`/`..`, no symlink: Claude
//!   Code refuses those). Failure exits non-zero.
//! - worktree-remove: `agent_remove`.
//!
//! `agent-setup claude` also writes the MCP server entry into the project's `.mcp.json`
//! (`agent::mcp_entry`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use crate::agent::payload::{self, CreateRequest};
use crate::agent::settings::{self, Commands, SettingsFile};
use crate::cli::{AgentHookCommand, AgentSetupArgs};
use crate::commands::{Ctx, new};
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
        AgentHookCommand::WorktreeCreate { branch_prefix } => {
            match input.and_then(|v| worktree_create(ctx, &v, branch_prefix.as_deref())) {
                Ok(path) => {
                    // Claude Code refuses `.`/`..` segments and symlinks below the repo root.
                    let path = fs::canonicalize(&path).unwrap_or(path);
                    answer(stdout, &path.display().to_string());
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("git-sandbox: cannot create the worktree: {}", one_line(&e));
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

fn worktree_create(ctx: &Ctx, v: &Value, prefix: Option<&str>) -> Result<PathBuf> {
    payload::expect_event(v, "WorktreeCreate")?;
    let req = CreateRequest::from_json(v)?;
    let here = work_dir(ctx, req.dir.as_deref())?;
    let repo = Repo::discover(&here)?;
    let mut cfg = Config::load(&repo.root)?;
    // A hook never asks: only what the user approved applies.
    crate::trust::settle(&mut cfg, &repo, &ctx.reg, Consent::stored_only());
    let name = match claim(ctx, &repo, &req, prefix)? {
        Claim::Ours(path) => return Ok(path),
        Claim::Free(name) => name,
    };
    let base = match req.base {
        Some(b)
            if git::branch_name_valid(&name.branch) && repo.branch_tip(&name.branch)?.is_some() =>
        {
            ui::info(&format!(
                "branch {} exists, so it is used as it is (not started at {b})",
                name.branch
            ));
            None
        }
        b => b,
    };
    let made_by = MadeBy::Agent {
        session: req.session.clone(),
    };
    let created = new::create_as(
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

/// The slug and branch of a sandbox the hook makes: `new NAME`'s, or with `--branch-prefix`
/// the branch `PREFIX<name>` (Claude Code's own naming is `worktree-<name>`).
fn naming(name: &str, prefix: Option<&str>) -> Result<names::NewName> {
    let plain = names::for_new(name)?;
    let Some(p) = prefix.filter(|p| !p.is_empty()) else {
        return Ok(plain);
    };
    let branch = format!("{p}{}", plain.branch);
    if !git::branch_name_valid(&branch) {
        return Err(UserError::usage(format!(
            "the branch {branch:?} (--branch-prefix {p:?} and the name) is not a valid branch name"
        ))
        .into());
    }
    Ok(names::NewName {
        slug: plain.slug,
        branch,
    })
}

/// What the hook may do with the name it was asked for.
enum Claim {
    /// A sandbox this session made (healthy): its path is the answer.
    Ours(PathBuf),
    /// The name (as written, maybe suffixed `-2`, `-3`…) of a new sandbox to make.
    Free(names::NewName),
}

/// The requested name, unless a sandbox of that name exists that this session did not make:
/// then the first `NAME-2`, `NAME-3`… that no sandbox holds and no branch has (a suffixed
/// name never lands on a branch of the user's).
fn claim(ctx: &Ctx, repo: &Repo, req: &CreateRequest, prefix: Option<&str>) -> Result<Claim> {
    let data = ctx.reg.load()?;
    for n in 1..=100u32 {
        let name = match n {
            1 => req.name.clone(),
            n => format!("{}-{n}", req.name),
        };
        let slug = names::slugify(&name)?;
        let Some(inst) = data.of_repo(&repo.root).find(|i| i.name == slug) else {
            let naming = naming(&name, prefix)?;
            let branch = &naming.branch;
            if n > 1 && git::branch_name_valid(branch) && repo.branch_tip(branch)?.is_some() {
                continue;
            }
            if n > 1 {
                ui::info(&format!(
                    "sandbox {} is not this agent's; making {slug} instead",
                    names::slugify(&req.name)?
                ));
            }
            return Ok(Claim::Free(naming));
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

/// `agent-setup claude [--user|--project] [--remove]`.
pub fn setup(ctx: &Ctx, args: AgentSetupArgs) -> Result<i32> {
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
    if !args.remove {
        file = with_commands(file, Commands::new(args.branch_prefix.as_deref()))?;
    }
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
    } else {
        file.save()?;
        said(&args, &changed, &file);
    }
    match mcp {
        Some(edit) => super::agent_setup::apply(&[edit], args.remove)?,
        None if !args.remove => ui::info(
            "  for the MCP server in every project: claude mcp add --scope user git-sandbox -- git-sandbox mcp",
        ),
        None => {}
    }
    Ok(0)
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
