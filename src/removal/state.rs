//! The trash state `rm` records before anything is deleted: one commit (see
//! [`crate::git::snapshot`]) whose message names the sandbox, its kind, its own branch and
//! whether the tool made it, where the tool made it (`base-commit:`), where HEAD was
//! (`head: refs/heads/<b>` or `detached`), the branch's `branch.<name>.*` config, when and
//! where the kept files are, and its identity on the engine (uuid, compose project, the
//! volumes kept with it). `restore` and `trash` read it back.

use std::path::Path;

use anyhow::Result;

use crate::git;
use crate::registry::{self, Instance, Kind};
use crate::safety::Report;

use super::steps::Job;
use super::trash::TrashDir;

/// The trash state: one commit holding the branch tip, the staged state, the reflog-only
/// commits and (when there is any) the uncommitted work byte for byte.
pub(super) fn record_state(
    job: &Job,
    dir: &Path,
    report: &Report,
    first_clean: bool,
    trash: &TrashDir,
    refname: &str,
) -> Result<()> {
    let inst = job.inst;
    let message = format!(
        "git-sandbox: saved {id} before removal\n\n\
         sandbox: {name}\nid: {id}\nkind: {kind}\nbranch: {branch}\ncreated-branch: {created}\n\
         sandbox-branch: {own}\nhead: {head}\nbase-commit: {base}\n{config}\
         saved-at: {when}\ntrash-dir: {dir}\nuncommitted: {dirty}\n{identity}\n\
         The tree is the working files (tracked and untracked, not ignored); parent 1 is the\n\
         HEAD commit, parent 2 the staged state, further parents commits only the reflog held.\n\
         Bring it back with: git sandbox restore {name}\n",
        id = inst.id,
        name = inst.name,
        kind = if inst.kind == Kind::LocalProd {
            "local-prod"
        } else {
            "sandbox"
        },
        branch = report.status.branch.as_deref().unwrap_or(""),
        created = inst.created_branch,
        own = inst.branch.as_deref().unwrap_or(""),
        head = match &report.status.branch {
            Some(b) => format!("refs/heads/{b}"),
            None => "detached".into(),
        },
        base = inst.base_commit.as_deref().unwrap_or(""),
        config = branch_config_lines(job),
        when = registry::now(),
        dir = trash.dir.display(),
        dirty = if report.has_uncommitted() {
            "yes"
        } else {
            "no"
        },
        identity = identity_lines(inst, job.volumes),
    );
    // Clean at both looks: HEAD's tree is the whole state (no index loaded, when provable).
    let clean = first_clean && !report.has_uncommitted() && report.operation.is_none();
    let quick = if clean {
        git::snapshot_of_clean(dir, &report.reflog_only, &message).transpose()
    } else {
        None
    };
    let snap = quick
        .unwrap_or_else(|| {
            git::snapshot(dir, &report.changed_paths(), &report.reflog_only, &message)
        })
        .map_err(|e| e.context("could not save the sandbox's work; nothing was removed"))?;
    job.repo
        .create_ref(refname, &snap.commit, "git-sandbox: saved before removal")
}

/// `branch-config: KEY=VALUE` lines: the sandbox branch's `branch.<name>.*` section, which
/// deleting the branch drops and `restore` puts back.
fn branch_config_lines(job: &Job) -> String {
    let Some(branch) = &job.inst.branch else {
        return String::new();
    };
    let entries = job.repo.branch_config(branch).unwrap_or_default();
    entries
        .iter()
        .map(|(k, v)| format!("branch-config: {k}={v}\n"))
        .collect()
}

/// The lines that give a restored sandbox its identity back (its uuid, compose project and
/// engine, so its kept volumes are its again), and name those volumes for `trash list` and
/// `purge`.
fn identity_lines(inst: &Instance, volumes: &[String]) -> String {
    let mut out = String::new();
    if let (Some(uuid), false) = (&inst.uuid, crate::compose::owner::legacy(inst)) {
        out.push_str(&format!(
            "instance-uuid: {uuid}\ncompose-project: {}\n",
            crate::compose::owner::project(inst)
        ));
    }
    if !volumes.is_empty() {
        out.push_str(&format!("volumes: {}\n", volumes.join(" ")));
    }
    // The engine its stack and kept volumes are on, so `restore` and `trash purge` use it.
    if let Some(e) = &inst.engine {
        out.push_str(&format!(
            "engine-name: {}\nengine-endpoint: {}\n",
            e.name, e.endpoint
        ));
    }
    out
}
