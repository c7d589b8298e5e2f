//! Racily clean indexes. `git worktree add` (and restore) write the files and then the index
//! in the same second, so git cannot trust the index's stat data for those files ("racily
//! clean") and every `git status` re-reads and re-hashes them. A status that may write the
//! index heals it for good once a second has passed; `list` runs with `--no-optional-locks`
//! and `rm` holds the index lock, so neither ever would, and a fresh sandbox stayed slow.
//!
//! The sign, for two `stat` calls: the index was last written within a few seconds of the
//! worktree's `.git` file (so nothing has rewritten it since the checkout), and that was at
//! least a second ago (so a rewrite now makes the entries trustworthy). Healing is a read-only
//! status that checks every racy entry, then the index's time moved past the files' (`heal.rs`,
//! no lock taken); `list`'s and `rm`'s first status heal it the same way.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::gitfile_target;

/// The healing helper's mark that it healed the index, in the worktree's admin dir.
pub(super) const HEALED: &str = "git-sandbox-healed";
/// The index has not been rewritten since the checkout more than this after it.
const SINCE_CHECKOUT: Duration = Duration::from_secs(3);
/// A rewrite heals only once the files' second is over.
const SETTLED: Duration = Duration::from_secs(1);

/// Whether the worktree's index is likely racily clean from its checkout and healable now.
pub fn needs_heal(worktree: &Path) -> bool {
    let Some(admin) = gitfile_target(worktree) else {
        return false;
    };
    let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let (Some(index), Some(dotgit)) = (mtime(&admin.join("index")), mtime(&worktree.join(".git")))
    else {
        return false;
    };
    // The helper healed it already (its mark is newer than the index).
    if mtime(&admin.join(HEALED)).is_some_and(|m| m >= index) {
        return false;
    }
    let unchanged = index
        .duration_since(dotgit)
        .is_ok_and(|d| d <= SINCE_CHECKOUT);
    let settled = SystemTime::now()
        .duration_since(index)
        .is_ok_and(|d| d >= SETTLED);
    unchanged && settled
}

/// Turns on git's untracked cache in a worktree's index (`update-index --untracked-cache`; `new`'s
/// checkout has it from the start (`worktree.rs`), and `mv` turns it on for a moved one):
/// once a status may write it (the user's own), later statuses skip
/// the directories that did not change, about a third less work on a big tree. Only `list`
/// reads it; `rm`'s looks never trust it (`status.rs`). A failure leaves the index as it was.
/// `index`: another index file than the worktree's (`GIT_INDEX_FILE`, the helper's copy).
pub fn enable_untracked_cache(worktree: &Path, index: Option<&Path>) {
    let mut cmd = super::git_cmd(worktree);
    if let Some(index) = index {
        cmd.env("GIT_INDEX_FILE", index);
    }
    let _ = cmd.args(["update-index", "--untracked-cache"]).output();
}
