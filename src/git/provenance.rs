//! Whose code a commit is, for the second gate on setup: trust approves a command set, but the
//! code those commands run (`./scripts/setup.sh`, a Makefile, `package.json`'s scripts) comes
//! from the checked-out commit. It is the user's own when every commit it brings that no
//! local branch already held was made here: recorded by `git commit` in a local reflog (a
//! branch's or HEAD's `commit:`, `commit (amend):`, `commit (merge):` entries). An author or
//! committer email proves nothing: anyone can write the user's address into a commit they
//! push as a pull request.
//!
//! libgit2 (in-process, read-only): one revision walk from the commit, hiding every local
//! branch the caller counts as the user's (not, say, a `pr-N` branch made from a pull
//! request, which holds the stranger's commits it was made from). The walk stops after
//! [`LIMIT`] commits, the last of them then counted as someone else's.

use anyhow::Result;

use super::Repo;

/// Commits looked at before the walk gives up and asks.
const LIMIT: usize = 5000;

/// A commit that is not the user's: what the question names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stranger {
    /// The short hash.
    pub short: String,
    pub subject: String,
    /// `Name <email>` of its author.
    pub author: String,
}

impl std::fmt::Display for Stranger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} \"{}\" by {}", self.short, self.subject, self.author)
    }
}

impl Repo {
    /// The newest commit reachable from `tip` that no local branch `counts` holds and that the
    /// user did not make; `None`: the code at `tip` is the user's own.
    pub fn stranger_at(
        &self,
        tip: &str,
        counts: impl Fn(&str) -> bool,
    ) -> Result<Option<Stranger>> {
        let repo = self.open()?;
        let made_here = made_here(&repo);
        let mut walk = repo.revwalk()?;
        walk.push(git2::Oid::from_str(tip)?)?;
        for b in repo.branches(Some(git2::BranchType::Local))? {
            let (b, _) = b?;
            if !b.name().ok().flatten().is_some_and(&counts) {
                continue;
            }
            if let Some(oid) = b.get().target() {
                walk.hide(oid)?;
            }
        }
        for (n, oid) in walk.enumerate() {
            let oid = oid?;
            if n + 1 >= LIMIT || !made_here.contains(&oid) {
                let c = repo.find_commit(oid)?;
                return Ok(Some(Stranger {
                    short: c
                        .as_object()
                        .short_id()?
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    subject: c.summary().ok().flatten().unwrap_or_default().to_string(),
                    author: format!(
                        "{} <{}>",
                        c.author().name().ok().unwrap_or("?"),
                        c.author().email().ok().unwrap_or("?")
                    ),
                }));
            }
        }
        Ok(None)
    }
}

/// The commits `git commit` made in this repository: the new ids of the `commit…` entries of
/// HEAD's reflog and every local branch's.
fn made_here(repo: &git2::Repository) -> std::collections::HashSet<git2::Oid> {
    let mut names = vec!["HEAD".to_string()];
    if let Ok(branches) = repo.branches(Some(git2::BranchType::Local)) {
        for (b, _) in branches.flatten() {
            if let Ok(name) = b.get().name() {
                names.push(name.to_string());
            }
        }
    }
    let mut out = std::collections::HashSet::new();
    for name in names {
        let Ok(log) = repo.reflog(&name) else {
            continue;
        };
        for e in log.iter() {
            if e.message()
                .ok()
                .flatten()
                .is_some_and(|m| m.starts_with("commit"))
            {
                out.insert(e.id_new());
            }
        }
    }
    out
}
