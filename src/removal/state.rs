//! The trash state `rm` records before anything is deleted: one commit (see
//! [`crate::git::snapshot`]) whose message names the sandbox, its kind, its own branch and
//! whether the tool made it, where HEAD was (`head: refs/heads/<b>` or `detached`), the
//! branch's `branch.<name>.*` config, when and where the kept files are. `restore` reads it.

use std::path::Path;

use anyhow::Result;

use crate::git;
use crate::registry::{self, Kind};
use crate::safety::Report;

use super::steps::Job;
use super::trash::TrashDir;

/// The trash state: one commit holding the branch tip, the staged state, the reflog-only
/// commits and (when there is any) the uncommitted work byte for byte.
pub(super) fn record_state(
    job: &Job,
    dir: &Path,
    report: &Report,
    trash: &TrashDir,
    refname: &str,
) -> Result<()> {
    let inst = job.inst;
    let message = format!(
        "git-sandbox: saved {id} before removal\n\n\
         sandbox: {name}\nid: {id}\nkind: {kind}\nbranch: {branch}\ncreated-branch: {created}\n\
         sandbox-branch: {own}\nhead: {head}\n{config}\
         saved-at: {when}\ntrash-dir: {dir}\nuncommitted: {dirty}\n\n\
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
        config = branch_config_lines(job),
        when = registry::now(),
        dir = trash.dir.display(),
        dirty = if report.has_uncommitted() {
            "yes"
        } else {
            "no"
        },
    );
    let snap = git::snapshot(dir, &report.changed_paths(), &report.reflog_only, &message)
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
