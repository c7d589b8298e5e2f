//! `restore NAME [--list] [--from STATE]` and `trash list|purge`: the saved states a forced
//! `rm` (or `--delete-branch`) left under `refs/sandbox/trash/<instance id>/<timestamp>`.
//!
//! A saved state is one commit: its tree the working files, parent 1 the branch tip, parent 2
//! the staged state, and its message the sandbox's name, branch and kind. Restoring makes the
//! sandbox anew (branch, worktree, slot, ports, env file) at the tip, then puts the index and
//! the working files back, so staged, unstaged and untracked files return as they were. The
//! state also names the sandbox's uuid, compose project and kept volumes: the restored
//! sandbox gets the same uuid and project, so `up` runs it on the same volumes. Saved states
//! (`commands/trash.rs`) stay until `trash purge` deletes them.

use anyhow::Result;

use crate::cli::RestoreArgs;
use crate::commands::Ctx;
use crate::compose::owner;
use crate::config;
use crate::error::UserError;
use crate::git::Repo;
use crate::json::sandbox as json;
use crate::names;
use crate::registry::{Kind, Restoring};
use crate::removal::trash;
use crate::sandbox::{self, CreateSpec};
use crate::ui;

const TRASH: &str = "refs/sandbox/trash/";

/// One saved state.
pub(super) struct Saved {
    pub(super) refname: String,
    pub(super) commit: String,
    pub(super) name: String,
    pub(super) branch: String,
    kind: Kind,
    created_branch: bool,
    pub(super) saved_at: String,
    /// The removal's trash directory (kept files), if it is still there.
    pub(super) trash_dir: Option<std::path::PathBuf>,
    /// The removed sandbox's uuid and compose project (absent from older states).
    pub(super) uuid: Option<String>,
    project: Option<String>,
    /// Its own compose volumes, kept with this state.
    pub(super) volumes: Vec<String>,
}

pub(super) fn saved_states(repo: &Repo, id: Option<&str>) -> Result<Vec<Saved>> {
    let prefix = match id {
        Some(id) => format!("{TRASH}{id}/"),
        None => TRASH.to_string(),
    };
    let mut out = Vec::new();
    for (refname, commit) in repo.refs_under(&prefix)? {
        let msg = repo.commit_message(&commit)?;
        let field = |k: &str| {
            msg.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}: ")))
                .unwrap_or_default()
                .to_string()
        };
        out.push(Saved {
            name: field("sandbox"),
            branch: field("branch"),
            kind: if field("kind") == "local-prod" {
                Kind::LocalProd
            } else {
                Kind::Sandbox
            },
            created_branch: field("created-branch") == "true",
            saved_at: field("saved-at"),
            trash_dir: trash_dir_of(&refname, &field("trash-dir")),
            // A state's message is not trusted: only well-formed values are read.
            uuid: Some(field("instance-uuid")).filter(|u| owner::is_uuid(u)),
            project: Some(field("compose-project")).filter(|p| owner::is_project(p)),
            volumes: field("volumes")
                .split_whitespace()
                .filter(|v| owner::is_volume_name(v))
                .map(String::from)
                .collect(),
            refname,
            commit,
        });
    }
    Ok(out)
}

/// The saved states of the sandbox named `slug`, oldest first: those saved under that name
/// (under whatever id: a renamed sandbox keeps its first one), and unnamed ones under `id`.
fn states_of(repo: &Repo, slug: &str, id: &str) -> Result<Vec<Saved>> {
    let under_id = format!("{TRASH}{id}/");
    let mut states: Vec<Saved> = saved_states(repo, None)?
        .into_iter()
        .filter(|s| s.name == slug || (s.name.is_empty() && s.refname.starts_with(&under_id)))
        .collect();
    states.sort_by(|a, b| {
        a.refname
            .rsplit('/')
            .next()
            .cmp(&b.refname.rsplit('/').next())
    });
    Ok(states)
}

pub fn restore(ctx: &Ctx, args: RestoreArgs) -> Result<i32> {
    let (repo, cfg) = ctx.repo_config()?;
    let slug = names::slugify(&args.name)?;
    let id = sandbox::free_id(&repo, &ctx.reg.load()?, &slug);
    let states = states_of(&repo, &slug, &repo.instance_id(&slug))?;
    if states.is_empty() {
        return Err(UserError::new(format!(
            "nothing of {slug:?} is saved in {}",
            repo.root.display()
        ))
        .hint("`git sandbox trash list` shows every saved state")
        .into());
    }
    if args.list {
        for s in &states {
            ui::out(&format!(
                "{}  {}  branch {}",
                s.refname, s.saved_at, s.branch
            ));
        }
        return Ok(0);
    }
    let s = choose(&states, args.from.as_deref(), &slug)?;
    // A sandbox removed on a detached HEAD comes back on a branch named after it.
    let branch = if s.branch.is_empty() {
        slug.clone()
    } else {
        s.branch.clone()
    };
    let start = start_point(&repo, s, &branch)?;
    let template = if s.kind == Kind::LocalProd {
        &cfg.local_prod_path
    } else {
        &cfg.path_template
    };
    let name = if s.name.is_empty() {
        slug.clone()
    } else {
        s.name.clone()
    };
    let path = config::expand_template(template, &repo.root, &repo.name, &name, &id);
    let spec = CreateSpec {
        kind: s.kind,
        name,
        id,
        path,
        branch,
        // The tool made the branch if the removed sandbox said so, whether or not rm kept it.
        created_branch: s.created_branch || s.branch.is_empty(),
        start,
        restoring: Some(Restoring {
            state: s.commit.clone(),
            trash_dir: s.trash_dir.clone(),
            applied: false,
            uuid: s.uuid.clone(),
            project: s.project.clone(),
        }),
        progress: ui::progress(),
    };
    let kept = s
        .trash_dir
        .as_deref()
        .map(|d| trash::TrashDir::at(d).kept_size())
        .unwrap_or((0, 0));
    let created = sandbox::create(&repo, &cfg, &ctx.reg, &spec)?;
    super::new::report_created(&created);
    ui::info(&format!(
        "restored from {} (kept; `git sandbox trash purge` deletes it)",
        s.refname
    ));
    volumes_note(s, &created.instance);
    let consent = crate::lifecycle::Consent {
        yes: args.setup.yes,
        never_ask: false,
    };
    let inst = &created.instance;
    let set_up =
        super::setup::after_create(&repo, &cfg, &ctx.reg, inst, consent, args.setup.no_setup);
    let code = if set_up { 0 } else { 1 };
    if !args.json {
        ui::out(&inst.path.display().to_string());
        return Ok(code);
    }
    let from = json::Saved {
        state_ref: s.refname.clone(),
        commit: s.commit.clone(),
        saved_at: s.saved_at.clone(),
        trash_dir: s.trash_dir.as_ref().map(|d| d.display().to_string()),
        kept_files: kept.0,
        kept_bytes: kept.1,
        branch_recreated: spec.start.is_some(),
        volumes: s.volumes.clone(),
    };
    crate::json::print(&json::Restore::of(&cfg, &created, from)?)?;
    Ok(code)
}

/// Says whether the state's volumes are the restored sandbox's again: the same uuid and
/// compose project (another may have taken the project since).
fn volumes_note(s: &Saved, inst: &crate::registry::Instance) {
    if s.volumes.is_empty() {
        return;
    }
    let list = s.volumes.join(", ");
    if inst.uuid == s.uuid && inst.project == s.project {
        ui::info(&format!(
            "its volumes are its again ({list}): `git sandbox up` starts it on them"
        ));
    } else {
        ui::warn(&format!(
            "its volumes ({list}) could not be given back (its compose project or identity is taken now); they stay with {}",
            s.refname
        ));
    }
}

/// The trash directory a saved state's message names, if it verifies as that state's own
/// (see [`trash::TrashDir::of_state`]).
fn trash_dir_of(refname: &str, named: &str) -> Option<std::path::PathBuf> {
    let rest = refname.strip_prefix(TRASH)?;
    let (id, stamp) = rest.split_once('/')?;
    trash::TrashDir::of_state(std::path::Path::new(named), id, stamp).map(|t| t.dir)
}

/// The newest saved state, or the one `--from` names.
fn choose<'a>(states: &'a [Saved], from: Option<&str>, slug: &str) -> Result<&'a Saved> {
    let chosen = match from {
        None => states.last(),
        Some(f) => states
            .iter()
            .find(|s| s.refname == f || s.refname.ends_with(&format!("/{f}"))),
    };
    chosen.ok_or_else(|| {
        UserError::new(format!(
            "no saved state {:?} for {slug}",
            from.unwrap_or("")
        ))
        .hint(format!("`git sandbox restore {slug} --list` shows them"))
        .into()
    })
}

/// `None` when `branch` already points at the saved tip; the tip to create it at when it is
/// gone; an error when it has moved on (restoring would hide that work).
fn start_point(repo: &Repo, s: &Saved, branch: &str) -> Result<Option<String>> {
    let parents = repo.commit_parents(&s.commit)?;
    let Some(tip) = parents.first().cloned() else {
        anyhow::bail!("{} is not a saved state git-sandbox made", s.refname);
    };
    match repo.branch_tip(branch)? {
        Some(cur) if cur == tip => Ok(None),
        Some(cur) => Err(UserError::new(format!(
            "branch {branch} now points at {}, not at the saved tip {}",
            &cur[..cur.len().min(12)],
            &tip[..tip.len().min(12)]
        ))
        .hint(format!(
            "rename or delete that branch first, or check the state out by hand: git worktree add ../x {}",
            s.refname
        ))
        .into()),
        None => Ok(Some(tip)),
    }
}
