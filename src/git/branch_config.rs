//! A branch's own config section, `branch.<name>.*` (its upstream, push remote, rebase mode).
//!
//! git drops the section with the branch (`git branch -d`), so a later branch of that name
//! does not start "behind" an upstream it never had. Deleting a branch here does the same
//! ([`Repo::delete_branch_at`]), and a trash state records the section so that `restore`
//! can put it back on the branch it recreates ([`Repo::restore_branch_config`]).

use anyhow::{Context, Result};

use super::{Repo, run};

impl Repo {
    /// Deletes local branch `name` only if its tip is still `expected` (compare-and-delete),
    /// then its `branch.<name>.*` config. Returns whether it was deleted.
    pub fn delete_branch_at(&self, name: &str, expected: &str) -> Result<bool> {
        let repo = self.open()?;
        let refname = format!("refs/heads/{name}");
        let Ok(r) = repo.find_reference(&refname) else {
            return Ok(false);
        };
        if r.target().map(|o| o.to_string()).as_deref() != Some(expected) {
            return Ok(false);
        }
        let mut r = r;
        r.delete()
            .with_context(|| format!("cannot delete branch {name}"))?;
        self.remove_branch_config(name)?;
        Ok(true)
    }

    /// The repo's own (`--local`) `branch.<name>.*` entries as (key, value), in file order.
    /// Values holding a newline are left out (they could not be recorded line by line).
    pub fn branch_config(&self, name: &str) -> Result<Vec<(String, String)>> {
        let repo = self.open()?;
        let cfg = repo.config()?.open_level(git2::ConfigLevel::Local)?;
        let prefix = format!("branch.{name}.");
        let mut out = Vec::new();
        let mut entries = cfg.entries(None)?;
        while let Some(e) = entries.next() {
            let e = e?;
            let (Ok(key), Ok(value)) = (e.name(), e.value()) else {
                continue;
            };
            // libgit2 lower-cases the section and the key, never the branch's name.
            if let Some(k) = key.strip_prefix(&prefix)
                && !k.contains('.')
                && !value.contains('\n')
            {
                out.push((k.to_string(), value.to_string()));
            }
        }
        Ok(out)
    }

    /// Drops the `branch.<name>` section (nothing to drop is fine). The CLI: libgit2 does not
    /// expose removing a section.
    fn remove_branch_config(&self, name: &str) -> Result<()> {
        if self.branch_config(name)?.is_empty() {
            return Ok(());
        }
        run(
            &self.root,
            &[
                "config",
                "--local",
                "--remove-section",
                &format!("branch.{name}"),
            ],
        )
        .map(drop)
        .with_context(|| format!("deleted branch {name}, but not its config section"))
    }

    /// Puts `entries` back as `branch.<name>.*` when that section is empty now (a branch made
    /// since keeps its own). Returns whether it wrote anything.
    pub fn restore_branch_config(&self, name: &str, entries: &[(String, String)]) -> Result<bool> {
        if entries.is_empty() || !self.branch_config(name)?.is_empty() {
            return Ok(false);
        }
        for (key, value) in entries {
            run(
                &self.root,
                &[
                    "config",
                    "--local",
                    "--add",
                    &format!("branch.{name}.{key}"),
                    value,
                ],
            )?;
        }
        Ok(true)
    }
}
