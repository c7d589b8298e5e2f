//! What a hand-edited registry could turn against the user, refused when the file is read:
//! ids and admin names that are not plain names, uuids and compose projects not of the form
//! git-sandbox writes (they reach docker's filters), an engine that is not an endpoint, relative paths, two entries claiming one path
//! or one worktree entry, and trash or sweep paths that are not git-sandbox's trash
//! directories (so `prune` can never be pointed at the repo, its `.git` or a home directory).

use std::path::Path;

use super::{Data, Instance};

/// Whether `name` is a plain name: one path component, nothing a path could be built from.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.starts_with('-')
        && !name.contains(['/', '\\', '\0', '\n'])
}

impl Data {
    /// What a hand-edited registry could turn against the user: ids and admin names that are
    /// not plain names, relative paths, two entries claiming one path or one admin dir, trash
    /// and sweep paths that are not git-sandbox's trash directories.
    pub(super) fn check(&self) -> std::result::Result<(), String> {
        for (n, i) in self.instances.iter().enumerate() {
            check_entry(i)?;
            for o in &self.instances[n + 1..] {
                check_pair(i, o)?;
            }
        }
        self.check_sweep()
    }

    /// The sweep queue holds only trash directories.
    fn check_sweep(&self) -> std::result::Result<(), String> {
        for d in &self.sweep {
            let named = |p: &Path| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(TRASH_PREFIX))
            };
            let ok = d.is_absolute()
                && (named(d) || (d.ends_with("tree") && d.parent().is_some_and(named)));
            if !ok {
                return Err(format!(
                    "{} is queued for deletion but is not a trash directory",
                    d.display()
                ));
            }
        }
        Ok(())
    }
}

/// One entry's own fields: plain names, uuids and projects, engine, absolute paths, trash.
fn check_entry(i: &Instance) -> std::result::Result<(), String> {
    if !plain_name(&i.id) || !plain_name(i.admin()) {
        return Err(format!(
            "entry {:?} has an id or admin name that is not a plain name",
            i.id
        ));
    }
    let restoring = i.restoring.as_ref();
    let uuids = [i.uuid.as_deref(), restoring.and_then(|r| r.uuid.as_deref())];
    let projects = [
        i.project.as_deref(),
        restoring.and_then(|r| r.project.as_deref()),
    ];
    if !uuids
        .iter()
        .flatten()
        .all(|u| crate::compose::owner::is_uuid(u))
        || !projects
            .iter()
            .flatten()
            .all(|p| crate::compose::owner::is_project(p))
    {
        return Err(format!(
            "entry {:?} has a uuid or compose project that is not one git-sandbox makes",
            i.id
        ));
    }
    if let Some(e) = &i.engine
        && !crate::engine::well_formed(e)
    {
        return Err(format!(
            "entry {:?} has an engine that is not one git-sandbox records",
            i.id
        ));
    }
    let moved_from_relative = i.moving.as_ref().is_some_and(|m| !m.from.is_absolute());
    if !i.path.is_absolute() || !i.parent_repo.is_absolute() || moved_from_relative {
        return Err(format!("entry {:?} has a relative path", i.id));
    }
    if let Some(r) = &i.removal
        && !trash_dir_of(&r.trash_dir, &i.path)
    {
        return Err(format!(
            "entry {:?} names {} as its trash directory",
            i.id,
            r.trash_dir.display()
        ));
    }
    Ok(())
}

/// Two entries do not claim one id, one path or one worktree entry.
fn check_pair(i: &Instance, o: &Instance) -> std::result::Result<(), String> {
    if o.id == i.id && o.parent_repo == i.parent_repo {
        return Err(format!("two entries have the id {:?}", i.id));
    }
    if o.path == i.path {
        return Err(format!(
            "entries {:?} and {:?} claim the same path {}",
            i.id,
            o.id,
            i.path.display()
        ));
    }
    if o.parent_repo == i.parent_repo && o.admin() == i.admin() {
        return Err(format!(
            "entries {:?} and {:?} claim the same worktree entry",
            i.id, o.id
        ));
    }
    Ok(())
}

/// Prefix of trash directories (beside the sandbox they came from).
pub const TRASH_PREFIX: &str = ".git-sandbox-trash.";

/// Whether `dir` is a trash directory beside `sandbox`.
fn trash_dir_of(dir: &Path, sandbox: &Path) -> bool {
    dir.parent().is_some()
        && dir.parent() == sandbox.parent()
        && dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(TRASH_PREFIX))
}
