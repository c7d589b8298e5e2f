//! Whether a sandbox's branch is integrated into the default branch: its work is there, so
//! the sandbox can go (`list` shows it, `prune --merged` acts on it). Exact, and when unsure
//! it says "not": unmerged work is never called merged.
//!
//! The steps, each a named function:
//! 1. The default branch itself (by name) is never "merged into itself"; nor, after step 3,
//!    a branch sitting at one of its refs' commits.
//! 2. `pr_head`: a pull-request sandbox (`pr-N`, see `pr.rs`) is measured by the request's
//!    head (`refs/remotes/<remote>/pr/N`, its upstream here) while the branch holds nothing
//!    beyond it, and from its fork point, not from where the tool made it.
//! 3. No commits since the tool made it: nothing to integrate.
//! 4. Reachability: where the tip forked from each default-branch ref (`git merge-base`, one
//!    spawn per distinct commit: git walks the commit-graph, so a sandbox far behind costs the
//!    distance, where libgit2's walk inflated every commit of it); forked at the tip itself
//!    means reached. Fast-forward versus merge by a first-parent walk of the default branch
//!    back to the tip's time. Then
//!    `undone_since`: a path the branch changed that the default branch holds as it was before
//!    (a revert after the merge) makes it "reverted", not merged.
//! 5. Squash and rebase merges by tree equality (`trees.rs`), first in-process: does the
//!    default branch hold the branch's version, mode included, of every path the branch
//!    changed since it forked? All: merged; none: not (no further spawn). Only a mix needs `git
//!    merge-tree --write-tree` (libgit2 has no merge-ort): if merging the branch changes
//!    nothing, the branch adds nothing. A branch whose net change is empty is never merged
//!    ("nothing to merge"), whatever its commits did.
//! 6. Rebase told from squash by patch ids (`git cherry`), only once the tree said "merged".
//!    Patch ids alone never decide: a later revert on the default branch keeps the patch id.

mod trees;

use anyhow::Result;
use git2::Oid;

use super::Repo;
use trees::Found;

/// How a branch's work reached the default branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integration {
    /// The default branch was fast-forwarded over the branch's tip.
    FastForward,
    /// A merge commit brought the tip in.
    Merged,
    /// Its changes were squashed into one commit there (same tree, other commits).
    Squashed,
    /// Its commits were rebased or cherry-picked there (same patches, other ids).
    Rebased,
}

impl Integration {
    pub fn as_str(self) -> &'static str {
        match self {
            Integration::FastForward => "fast-forward",
            Integration::Merged => "merged",
            Integration::Squashed => "squashed",
            Integration::Rebased => "rebased",
        }
    }
}

/// What a branch is, measured against the default branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No commits beyond where it started: nothing to integrate.
    NoCommits,
    /// It is the default branch `name` (`at_tip`: or sits at its tip): never merged into
    /// itself.
    Itself {
        name: String,
        at_tip: bool,
    },
    /// Its commits change nothing in all (added then removed, empty commits): nothing to
    /// merge. `only_here`: no other ref holds those commits.
    NothingToMerge {
        only_here: bool,
    },
    /// Its work is in `into` (a ref name), as `how`.
    Integrated {
        how: Integration,
        into: String,
    },
    /// Merged into `into` by ancestry, but `into` has since undone some of its changes (a
    /// revert): the default branch does not hold its work.
    Reverted {
        into: String,
    },
    NotIntegrated,
}

/// The default branch: its name and its refs, local and remote-tracking, as `(ref, commit)`.
#[derive(Clone, Debug, Default)]
pub struct DefaultBranch {
    pub name: String,
    pub refs: Vec<(String, String)>,
}

/// What is measured: the branch a sandbox has checked out.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The branch (short name); `None` for a detached HEAD.
    pub branch: Option<&'a str>,
    pub tip: &'a str,
    /// Where the tool made it (the registry's `base_commit`).
    pub base: Option<&'a str>,
}

impl Subject<'_> {
    /// Still at its start, and no request's head to follow: no commits of its own, known
    /// without opening the repository (`list` asks this of every fresh sandbox).
    pub fn at_its_start(&self) -> bool {
        let request = self.branch.and_then(|b| b.strip_prefix("pr-")).is_some();
        !request && self.base.is_some_and(|b| b.eq_ignore_ascii_case(self.tip))
    }
}

impl Repo {
    /// The default branch: the remote's HEAD (`refs/remotes/<remote>/HEAD`) if known, else
    /// `init.defaultBranch`, `main`, `master`; `None` when none of them exists.
    pub fn default_branch(&self) -> Result<Option<DefaultBranch>> {
        let remote = self.default_remote()?.unwrap_or_else(|| "origin".into());
        self.with_repo(|repo| default_branch_in(repo, remote))
    }
}

/// [`Repo::default_branch`] on an open repository, with the default remote known.
fn default_branch_in(repo: &git2::Repository, remote: String) -> Result<Option<DefaultBranch>> {
    let from_remote_head = repo
        .find_reference(&format!("refs/remotes/{remote}/HEAD"))
        .ok()
        .and_then(|r| r.symbolic_target().ok().flatten().map(String::from))
        .and_then(|t| {
            t.strip_prefix(&format!("refs/remotes/{remote}/"))
                .map(String::from)
        });
    let configured = repo
        .config()
        .ok()
        .and_then(|c| c.get_string("init.defaultBranch").ok());
    let names = from_remote_head
        .into_iter()
        .chain(configured)
        .chain(["main".to_string(), "master".to_string()]);
    for name in names {
        let refs: Vec<(String, String)> = [
            format!("refs/heads/{name}"),
            format!("refs/remotes/{remote}/{name}"),
        ]
        .into_iter()
        .filter_map(|r| {
            let oid = repo.refname_to_id(&r).ok()?;
            Some((r, oid.to_string()))
        })
        .collect();
        if !refs.is_empty() {
            return Ok(Some(DefaultBranch { name, refs }));
        }
    }
    Ok(None)
}

impl Repo {
    /// Whether `subject` is integrated into `default` (see the module doc for the steps).
    pub fn integration(&self, subject: &Subject, default: &DefaultBranch) -> Result<Verdict> {
        if subject.branch == Some(default.name.as_str()) {
            return Ok(itself(default, false));
        }
        if subject.at_its_start() {
            return Ok(Verdict::NoCommits);
        }
        self.with_repo(|repo| self.integration_in(repo, subject, default))
    }

    /// Steps 2-6 of [`Repo::integration`], on the repository open.
    fn integration_in(
        &self,
        repo: &git2::Repository,
        subject: &Subject,
        default: &DefaultBranch,
    ) -> Result<Verdict> {
        let (tip, base) = match self.pr_head(repo, subject)? {
            Some(head) => (head, None),
            None => (Oid::from_str(subject.tip)?, subject.base),
        };
        if let Some(base) = base.and_then(|b| Oid::from_str(b).ok())
            && (tip == base || repo.graph_descendant_of(base, tip).unwrap_or(false))
        {
            return Ok(Verdict::NoCommits);
        }
        // At the default branch's tip with no known start (an adopted worktree): it may be
        // that branch under another name, so it is never "merged into itself". With a known
        // start and commits since, it is a fast-forward merge, measured below.
        if base.is_none() && default.refs.iter().any(|(_, oid)| oid == subject.tip) {
            return Ok(itself(default, true));
        }
        let forks = self.forks(repo, tip, &default.refs)?;
        if let Some(v) = reached(repo, tip, &forks)? {
            return undone_since(repo, base, tip, &forks, v);
        }
        let own = subject.branch.map(|b| format!("refs/heads/{b}"));
        self.by_trees(repo, tip, own.as_deref(), &forks)
    }

    /// Step 2: the request's head a `pr-N` sandbox is measured by, when its remote-tracking
    /// ref exists and the branch holds nothing beyond it; else (local commits on top, or no
    /// such ref) its own tip, from its fork point (`Some(tip)`), or `None` for no request.
    fn pr_head(&self, repo: &git2::Repository, subject: &Subject) -> Result<Option<Oid>> {
        let Some(n) = subject
            .branch
            .and_then(|b| b.strip_prefix("pr-"))
            .filter(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
        else {
            return Ok(None);
        };
        let remote = self.default_remote()?.unwrap_or_else(|| "origin".into());
        let head = ["pr", "mr"].iter().find_map(|kind| {
            repo.refname_to_id(&format!("refs/remotes/{remote}/{kind}/{n}"))
                .ok()
        });
        let Some(head) = head else {
            return Ok(None);
        };
        let tip = Oid::from_str(subject.tip)?;
        if tip == head || repo.graph_descendant_of(head, tip).unwrap_or(false) {
            return Ok(Some(head));
        }
        Ok(Some(tip))
    }

    /// Each default-branch ref with where `tip` forked from it (`Repo::fork_point`, the
    /// commit-graph's walk: it costs the distance, not the history), asked once per distinct
    /// commit (the local and remote-tracking branch are often one).
    fn forks(
        &self,
        repo: &git2::Repository,
        tip: Oid,
        refs: &[(String, String)],
    ) -> Result<Vec<Fork>> {
        let tip_hex = tip.to_string();
        let mut forks: Vec<Fork> = Vec::new();
        for (name, target) in refs {
            let at = match forks.iter().find(|f| &f.target == target) {
                Some(f) => f.at,
                None if *target == tip_hex => Some(tip),
                None => match self.fork_point(repo, target, &tip_hex)? {
                    Some(hex) => Some(Oid::from_str(&hex)?),
                    None => None,
                },
            };
            forks.push(Fork {
                name: name.clone(),
                target: target.clone(),
                at,
            });
        }
        Ok(forks)
    }

    /// Step 5-6: the tree looks against each distinct target commit.
    fn by_trees(
        &self,
        repo: &git2::Repository,
        tip: Oid,
        own: Option<&str>,
        forks: &[Fork],
    ) -> Result<Verdict> {
        let tip_hex = tip.to_string();
        let mut seen = Vec::new();
        let mut into = None;
        for Fork { name, target, at } in forks {
            // The local and remote-tracking default branch are often one commit: look once.
            if seen.contains(target) {
                continue;
            }
            seen.push(target.clone());
            let target_commit = repo.find_commit(Oid::from_str(target)?)?;
            let own_tree = target_commit.tree_id().to_string();
            let at = at.ok_or_else(|| anyhow::anyhow!("{name} shares no history with {tip}"))?;
            let holds = match trees::changes_found(repo, &target_commit, tip, at)? {
                // Changing nothing, measured from any of them, is never "merged".
                Found::Empty => {
                    return Ok(Verdict::NothingToMerge {
                        only_here: trees::only_here(repo, own, tip)?,
                    });
                }
                Found::All => true,
                Found::None => false,
                Found::Some => trees::adds_nothing(self, target, &tip_hex, &own_tree),
            };
            if holds && into.is_none() {
                into = Some((name.clone(), target.clone()));
            }
        }
        let Some((name, target)) = into else {
            return Ok(Verdict::NotIntegrated);
        };
        let how = if trees::all_patches_in(self, &target, &tip_hex)? {
            Integration::Rebased
        } else {
            Integration::Squashed
        };
        Ok(Verdict::Integrated { how, into: name })
    }
}

/// Step 1: the default branch itself (by name), or a branch at one of its refs' commits:
/// never merged into itself.
fn itself(default: &DefaultBranch, at_tip: bool) -> Verdict {
    Verdict::Itself {
        name: default.name.clone(),
        at_tip,
    }
}

/// Step 4, second half: reachable is not enough when the default branch reverted some of the
/// branch's changes since (measured from where the tool made the branch; an adopted branch
/// of unknown start is taken as reached). Only the refs that reach the tip are measured: one
/// the branch never reached (an unpushed merge) holds none of it and reverted nothing.
fn undone_since(
    repo: &git2::Repository,
    base: Option<&str>,
    tip: Oid,
    forks: &[Fork],
    reached: Verdict,
) -> Result<Verdict> {
    let Some(base) = base.and_then(|b| Oid::from_str(b).ok()) else {
        return Ok(reached);
    };
    let mut reverted = None;
    for Fork { name, target, at } in forks {
        let target = Oid::from_str(target)?;
        if !(target == tip || *at == Some(tip)) {
            continue;
        }
        if !trees::undone(repo, base, tip, target)? {
            return Ok(reached);
        }
        reverted.get_or_insert_with(|| name.clone());
    }
    Ok(match reverted {
        Some(into) => Verdict::Reverted { into },
        None => reached,
    })
}

/// A default-branch ref, its commit, and where the measured tip forked from it.
struct Fork {
    name: String,
    target: String,
    at: Option<Oid>,
}

/// Step 4: the tip reachable from a target (it forked at the tip itself): fast-forwarded or
/// merged into it.
fn reached(repo: &git2::Repository, tip: Oid, forks: &[Fork]) -> Result<Option<Verdict>> {
    for Fork { name, target, at } in forks {
        let target_oid = Oid::from_str(target)?;
        if target_oid == tip || *at == Some(tip) {
            let how = if trees::on_first_parents(repo, target_oid, tip)? {
                Integration::FastForward
            } else {
                Integration::Merged
            };
            return Ok(Some(Verdict::Integrated {
                how,
                into: name.clone(),
            }));
        }
    }
    Ok(None)
}
