//! Which commits of a tip no remote holds: the counts `list`, `status` and `rm` show. The git
//! CLI (`rev-list --count … --not --remotes`), not libgit2: git reads the commit-graph
//! (generation numbers, no object inflation), so the walk costs the distance between the tip
//! and the remotes, not the history's size; a libgit2 revwalk inflates every commit it passes.

use anyhow::{Context, Result};

use super::{Repo, check};

impl Repo {
    /// How many commits reachable from `tip` are on no remote-tracking ref (and, with
    /// `merged_into`, not on those commits either). The CLI uses the commit-graph.
    pub fn unpushed_count(&self, tip: &str, merged_into: &[String]) -> Result<u32> {
        let out = self
            .git(&self.root)
            .args(["rev-list", "--count", tip, "--not", "--remotes"])
            .args(merged_into)
            .output()?;
        check(&out, "git rev-list")?;
        let s = String::from_utf8_lossy(&out.stdout);
        s.trim()
            .parse()
            .with_context(|| format!("unexpected git rev-list output {s:?}"))
    }

    /// Commits reachable from `head` on no remote-tracking ref, and how many of those are on
    /// no other local branch (nor the main worktree's HEAD) either: what removing `branch`
    /// would lose. The two counts run at once (two spawns side by side): on a deep history
    /// each walks as far as the other, so together they cost one.
    pub fn unpushed_and_unmerged(&self, head: &str, branch: Option<&str>) -> Result<(u32, u32)> {
        if self.is_remote_tip(head) {
            return Ok((0, 0));
        }
        let mut elsewhere = Vec::new();
        if let Some(b) = branch {
            // For --branches, --exclude patterns are matched without refs/heads/.
            elsewhere.push(format!("--exclude={b}"));
        }
        elsewhere.push("--branches".to_string());
        elsewhere.extend(self.main_head());
        let (unpushed, unmerged) = std::thread::scope(|s| {
            let unmerged = s.spawn(|| self.unpushed_count(head, &elsewhere));
            (self.unpushed_count(head, &[]), unmerged.join())
        });
        let unpushed = unpushed?;
        if unpushed == 0 {
            return Ok((0, 0));
        }
        let unmerged = unmerged.map_err(|_| anyhow::anyhow!("counting unmerged commits failed"))?;
        Ok((unpushed, unmerged?))
    }

    /// Where `tip` forked from `target` (`git merge-base`), `None` without common history.
    /// The CLI, not libgit2's merge-base: git walks the commit-graph (generation numbers, no
    /// object inflation); libgit2 inflates every commit it passes (~4 µs each here), so a
    /// sandbox 5,000 commits behind the default branch cost ~20 ms per question in-process
    /// against ~2 ms for the spawn.
    pub fn fork_point(&self, target: &str, tip: &str) -> Result<Option<String>> {
        let out = self
            .git(&self.root)
            .args(["merge-base", target, tip])
            .output()?;
        if out.status.code() == Some(1) && out.stderr.is_empty() {
            return Ok(None);
        }
        check(&out, "git merge-base")?;
        Ok(Some(
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        ))
    }

    /// The commits the remote-tracking refs point at (for many [`Repo::is_remote_tip`]
    /// questions at once).
    pub fn remote_tips(&self) -> Vec<String> {
        let Ok(repo) = self.open() else {
            return Vec::new();
        };
        let Ok(refs) = repo.references_glob("refs/remotes/*") else {
            return Vec::new();
        };
        refs.flatten()
            .filter_map(|r| r.resolve().ok()?.target().map(|o| o.to_string()))
            .collect()
    }

    /// Whether `oid` is the tip of some remote-tracking ref (an in-process check that saves a
    /// `rev-list` spawn for the common case of a sandbox sitting on a pushed commit).
    pub fn is_remote_tip(&self, oid: &str) -> bool {
        let Ok(repo) = self.open() else {
            return false;
        };
        let Ok(want) = git2::Oid::from_str(oid) else {
            return false;
        };
        let Ok(refs) = repo.references_glob("refs/remotes/*") else {
            return false;
        };
        refs.flatten()
            .any(|r| r.resolve().ok().and_then(|r| r.target()) == Some(want))
    }
}
