//! `agent-hook worktree-create`: the sandbox `new NAME [--from BASE]` makes, in the repository
//! of the payload's `cwd` (else the current directory), recorded as made by the agent hook
//! with the payload's `session_id`; with `--branch-prefix P` its branch is `P<name>`.
//!
//! The name the agent asked for is a wish, never a reason to fail: a name that is taken gets
//! the first free suffixed one (`NAME-2`, `NAME-3`…). Taken means: a sandbox of that name
//! (anyone's; this session's own while it is still being made), a branch of that name (any
//! local branch: `main`, the user's own), or something at the sandbox's path or in
//! git's worktree entries. A ready sandbox this session made (a non-empty `session_id`:
//! `claude -w NAME --resume` asks again) is handed out again, but only once it is made: its
//! setup done or absent. From the moment it is ready until its hook is through, a sandbox a
//! hook makes is marked `setup: running` (this pid), so a concurrent call of the same session
//! never gets it (it gets `NAME-2`); one whose setup failed, was not trusted or was
//! interrupted is not handed out either, nor one that became ready after this call began. The choice is settled by the registry lock: a concurrent hook that took the same name first
//! makes this one's creation fail at the reservation, and the name is chosen again (up to
//! [`ATTEMPTS`] times), so N hooks asking for one name at once all get sandboxes.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use crate::agent::payload::{self, CreateRequest};
use crate::commands::{Ctx, new};
use crate::config::Config;
use crate::error::UserError;
use crate::git::{self, Repo};
use crate::names;
use crate::registry::{Data, Kind, MadeBy, State};
use crate::sandbox;
use crate::target;
use crate::trust::Consent;
use crate::ui;

/// How many times a name is chosen again after another hook took it first.
const ATTEMPTS: usize = 64;
/// How many suffixes are tried for one request.
const SUFFIXES: u32 = 1000;

/// Makes (or hands out again) the sandbox; its path.
pub(super) fn run(ctx: &Ctx, v: &Value, prefix: Option<&str>) -> Result<PathBuf> {
    payload::expect_event(v, "WorktreeCreate")?;
    let req = CreateRequest::from_json(v)?;
    // The name must be one `new` takes before any suffix is tried.
    naming(&req.name, prefix)?;
    let here = super::agent::work_dir(ctx, req.dir.as_deref())?;
    let repo = Repo::discover(&here)?;
    let mut cfg = Config::load(&repo.root)?;
    // A hook never asks: only what the user approved applies.
    crate::trust::settle(&mut cfg, &repo, &ctx.reg, Consent::stored_only());
    let made_by = MadeBy::Agent {
        session: req.session.clone(),
    };
    // Only a sandbox made before this call began is handed out again: one that becomes
    // ready while this call runs is a concurrent call's.
    let at_start = ctx.reg.load()?;
    let mut attempt = 0;
    let created = loop {
        let seen = Seen {
            at_start: &at_start,
            now: &ctx.reg.load()?,
        };
        let name = match claim(&repo, &cfg, &seen, &req, prefix)? {
            Claim::Ours(path) => return Ok(path),
            Claim::Free(name) => name,
        };
        let base = req.base.as_deref();
        match new::create_as(&repo, &cfg, &ctx.reg, &name, &here, base, made_by.clone()) {
            Ok(created) => break created,
            Err(e) if attempt < ATTEMPTS && lost_race(&repo, &cfg, &ctx.reg, &name)? => {
                attempt += 1;
                ui::info(&format!(
                    "{} was taken by another creation meanwhile; choosing again",
                    name.slug
                ));
                drop(e);
            }
            Err(e) => return Err(e),
        }
    };
    new::report_created(&created);
    // The project's setup, if trusted: a hook never asks. Untrusted or failing, the sandbox is
    // still the agent's to work in; stderr says how to finish it.
    super::setup::after_create(
        &repo,
        &cfg,
        &ctx.reg,
        &created.instance,
        Consent::stored_only(),
        false,
    );
    made(&ctx.reg, &created.instance.id)?;
    Ok(created.instance.path)
}

/// The end of the mark `sandbox::create` puts on a sandbox an agent hook makes (`setup`
/// `running` with this process's pid, from the moment it is ready): a project without setup
/// records nothing else, so the mark comes off here, and the sandbox may be handed out again.
fn made(reg: &crate::registry::Registry, id: &str) -> Result<()> {
    let me = std::process::id();
    reg.update(|d| {
        if let Some(e) = d.find_mut(id)
            && e.setup.as_deref() == Some(crate::registry::SETUP_RUNNING)
            && e.setup_pid == Some(me)
        {
            e.setup = None;
            e.setup_pid = None;
        }
        Ok(())
    })
}

/// The slug and branch of a sandbox the hook makes: `new NAME`'s, or with `--branch-prefix`
/// the branch `PREFIX<name>` (Claude Code's own naming is `worktree-<name>`).
fn naming(name: &str, prefix: Option<&str>) -> Result<names::NewName> {
    let plain = names::for_new(name)?;
    let Some(p) = prefix.filter(|p| !p.is_empty()) else {
        return Ok(plain);
    };
    crate::agent::prefix::check_prefix(p)?;
    let branch = format!("{p}{}", plain.branch);
    if !git::branch_name_valid(&branch) {
        return Err(UserError::usage(format!(
            "the branch {} (--branch-prefix {p:?} and the name) is not a valid branch name",
            names::shown(&branch)
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
    /// A ready sandbox this session made: its path is the answer.
    Ours(PathBuf),
    /// The name (as written, maybe suffixed `-2`, `-3`…) of a new sandbox to make.
    Free(names::NewName),
}

/// The registry as this call found it when it began, and as it is now.
struct Seen<'a> {
    at_start: &'a Data,
    now: &'a Data,
}

/// The requested name, else the first free `NAME-2`, `NAME-3`…
fn claim(
    repo: &Repo,
    cfg: &Config,
    seen: &Seen,
    req: &CreateRequest,
    prefix: Option<&str>,
) -> Result<Claim> {
    for n in 1..=SUFFIXES {
        let name = match n {
            1 => req.name.clone(),
            n => suffixed(&req.name, n),
        };
        let Ok(naming) = naming(&name, prefix) else {
            continue;
        };
        if let Some(path) = ours(repo, seen.at_start, &naming, req.session.as_deref()) {
            ui::info(&format!(
                "sandbox {} exists (this session made it); using it",
                naming.slug
            ));
            return Ok(Claim::Ours(path));
        }
        if !taken(repo, cfg, seen.now, &naming)? {
            return Ok(Claim::Free(naming));
        }
    }
    Err(UserError::new(format!(
        "every name from {0} to {0}-{SUFFIXES} is taken (by sandboxes, branches or directories)",
        names::shown(&req.name)
    ))
    .into())
}

/// `NAME-n`, the name cut (at a character) until its slug fits the length a name may have.
fn suffixed(name: &str, n: u32) -> String {
    let mut base: String = name.to_string();
    loop {
        let candidate = format!("{base}-{n}");
        // The name itself was valid: only the length can stop its suffixed form.
        if names::slugify(&candidate).is_ok() || base.chars().count() <= 1 {
            return candidate;
        }
        base.pop();
        let trimmed = base.trim_end_matches(['-', '/', '.', '_', ' ']).len();
        base.truncate(trimmed);
    }
}

/// The path of the sandbox `naming` if this session (a non-empty id) made it and it is ready
/// and verified.
fn ours(
    repo: &Repo,
    data: &Data,
    naming: &names::NewName,
    session: Option<&str>,
) -> Option<PathBuf> {
    let session = session.filter(|s| !s.is_empty())?;
    let inst = data.of_repo(&repo.root).find(|i| i.name == naming.slug)?;
    let mine = matches!(inst.maker(), MadeBy::Agent { session: Some(s) } if s == session);
    // One still being made (its hook or setup running, or interrupted) is not ready: a
    // concurrent call of the same session gets a sandbox of its own.
    let made = matches!(inst.setup_state().as_deref(), None | Some("done"));
    (mine && made && inst.kind == Kind::Sandbox && inst.state == State::Ready)
        .then(|| target::verify(repo, inst).ok())
        .flatten()
}

/// Whether `naming` is held: its slug by a sandbox of this repo or a command's word, its
/// branch, its path or its worktree entry.
fn taken(repo: &Repo, cfg: &Config, data: &Data, naming: &names::NewName) -> Result<bool> {
    if data.of_repo(&repo.root).any(|i| i.name == naming.slug) {
        return Ok(true);
    }
    // A command's word (`status`, `list`) or local-prod: `new` refuses it, the hook suffixes.
    if naming.slug == "local-prod" || crate::cli::command_words().contains(&naming.slug) {
        return Ok(true);
    }
    if !git::branch_name_valid(&naming.branch) || repo.branch_tip(&naming.branch)?.is_some() {
        return Ok(true);
    }
    let id = sandbox::free_id(repo, data, &naming.slug);
    let path = crate::config::expand_template(
        &cfg.path_template,
        &repo.root,
        &repo.name,
        &naming.slug,
        &id,
    );
    let in_the_way = |p: &Path| fs::symlink_metadata(p).is_ok();
    if in_the_way(&path) || in_the_way(&repo.admin_dir(&id)) {
        return Ok(true);
    }
    // Anything else wrong with the place is not the name's fault: said as it is.
    sandbox::confine(repo, &path)?;
    Ok(false)
}

/// Whether a failed creation lost its name to someone else: the name is held now (by another
/// hook's reservation, its branch or its directory; this one's own undo took back its own).
fn lost_race(
    repo: &Repo,
    cfg: &Config,
    reg: &crate::registry::Registry,
    naming: &names::NewName,
) -> Result<bool> {
    taken(repo, cfg, &reg.load()?, naming)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suffix_never_makes_a_name_too_long() {
        let long = "a".repeat(64);
        assert_eq!(suffixed(&long, 2), format!("{}-2", "a".repeat(62)));
        assert_eq!(suffixed("feat", 12), "feat-12");
        let dashed = format!("{}-b", "a".repeat(61));
        assert_eq!(suffixed(&dashed, 2), format!("{}-2", "a".repeat(61)));
    }
}
