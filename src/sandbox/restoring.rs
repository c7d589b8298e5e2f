//! The last steps of `restore`, shared with `prune`'s roll-forward: apply the trash state's
//! snapshot (byte for byte), record that it is applied, then move the trash directory's kept
//! files and submodule git dirs back. Every step can run again after a crash.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::fault;
use crate::git;
use crate::registry::{Registry, Restoring};
use crate::removal::trash::{self, TrashDir};

/// Puts a saved state back into the fresh worktree `path` of instance `id`.
pub fn put_back(reg: &Registry, id: &str, path: &Path, r: &Restoring) -> Result<()> {
    if !r.applied {
        git::apply_snapshot(path, &r.state)?;
        fault::point("restore:applied")?;
        reg.update(|d| {
            if let Some(x) = d.find_mut(id).and_then(|e| e.restoring.as_mut()) {
                x.applied = true;
            }
            Ok(())
        })?;
    }
    fault::point("restore:recorded")?;
    if let Some(dir) = &r.trash_dir {
        let t = TrashDir::at(dir);
        trash::overlay(&t.kept(), path)
            .with_context(|| format!("cannot put back the files kept in {}", dir.display()))?;
        fault::point("restore:kept")?;
        let modules = t.admin_modules();
        if fs::symlink_metadata(&modules).is_ok()
            && let Some(admin) = git::gitfile_target(path)
            && fs::symlink_metadata(admin.join("modules")).is_err()
        {
            fs::rename(&modules, admin.join("modules"))
                .with_context(|| format!("cannot put back {}", modules.display()))?;
        }
        trash::drop_if_empty(&t);
    }
    Ok(())
}
