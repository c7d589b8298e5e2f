//! Which commits of a tip no remote holds: the counts `list`, `status` and `rm` show, and where
//! a tip forked from the default branch. Walked in-process on the commit-graph (`graph.rs`:
//! the cost follows the distance, ~0.3 ms for 5,000 commits, and no spawn); where that walk
//! cannot answer for git, the git CLI (`rev-list --count … --not --remotes`, `merge-base`),
//! which also reads the commit-graph. Never a libgit2 revwalk: it inflates every commit it
//! passes (45 ms for a branch 5,000 commits behind, against 7 ms for the CLI).

use std::path::Path;

use anyhow::{Context, Result};
use git2::Oid;

use super::graph::{self, Graph};
use super::remotes::{remote_target, tracks_a_remote};
use super::{Repo, check};

/// What else, besides the remote-tracking refs, holds the commits not to count.
#[derive(Clone, Copy)]
enum Besides<'a> {
    Nothing,
    /// Every local branch but this one (none: every one), and the main worktree's HEAD.
    OtherBranches(Option<&'a str>),
}

/// Starts reading `repo`'s commit-graph for the counts and fork points a command is about to
/// ask ([`Graph::prefetch`]).
pub fn prefetch_graph(repo: &Repo) {
    Graph::prefetch(&repo.common_dir);
}

impl Repo {
    /// How many commits reachable from `tip` are on no remote-tracking ref.
    pub fn unpushed_count(&self, tip: &str) -> Result<u32> {
        self.count_besides(tip, Besides::Nothing)
    }

    fn count_besides(&self, tip: &str, besides: Besides) -> Result<u32> {
        if let Some([n]) = self.counts_in_process(tip, &[besides]) {
            return Ok(n);
        }
        self.count_by_cli(tip, besides)
    }

    fn count_by_cli(&self, tip: &str, besides: Besides) -> Result<u32> {
        // The excludes as `^id` lines on stdin: never `--remotes`, which follows a symbolic
        // ref there to a local branch, nor `--branches`, which takes a symbolic alias of the
        // sandbox's own (either would have counted its commits as held elsewhere).
        let excludes = self
            .read(|repo| excludes(repo, &remote_tracking(repo)?, &besides))
            .context("cannot list the remote-tracking refs and local branches")?;
        let merged_into: String = excludes.iter().map(|oid| format!("^{oid}\n")).collect();
        let mut cmd = self.git(&self.root);
        cmd.args(["rev-list", "--count", tip, "--stdin"]);
        let s = super::run_with_stdin(cmd, &merged_into).context("git rev-list failed")?;
        s.trim()
            .parse()
            .with_context(|| format!("unexpected git rev-list output {s:?}"))
    }

    /// Commits reachable from `head` on no remote-tracking ref, and how many of those are on
    /// no other local branch (nor the main worktree's HEAD) either: what removing `branch`
    /// would lose. Both on one read of the commit-graph; by git, the two counts run at once
    /// (two spawns side by side): on a deep history each walks as far as the other.
    pub fn unpushed_and_unmerged(&self, head: &str, branch: Option<&str>) -> Result<(u32, u32)> {
        if self.is_remote_tip(head) {
            return Ok((0, 0));
        }
        let others = Besides::OtherBranches(branch);
        if let Some([unpushed, unmerged]) =
            self.counts_in_process(head, &[Besides::Nothing, others])
        {
            return Ok((unpushed, if unpushed == 0 { 0 } else { unmerged }));
        }
        let (unpushed, unmerged) = std::thread::scope(|s| {
            let unmerged = s.spawn(|| self.count_by_cli(head, others));
            (self.count_by_cli(head, Besides::Nothing), unmerged.join())
        });
        let unpushed = unpushed?;
        if unpushed == 0 {
            return Ok((0, 0));
        }
        let unmerged = unmerged.map_err(|_| anyhow::anyhow!("counting unmerged commits failed"))?;
        Ok((unpushed, unmerged?))
    }

    /// Where `tip` forked from `target` (`git merge-base`), `None` without common history.
    /// On the commit-graph in-process (~0.3 ms for a sandbox 5,000 commits behind), else the
    /// CLI (7 ms a spawn here), never libgit2's merge-base (5 ms: a hash lookup and an
    /// allocation per commit it passes).
    pub(super) fn fork_point(
        &self,
        repo: &git2::Repository,
        target: &str,
        tip: &str,
    ) -> Result<Option<String>> {
        let at = fork_point_on(repo, &self.common_dir, target, tip);
        if let Some(at) = at {
            return Ok(at.map(|o| o.to_string()));
        }
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

    /// The counts on one read of the commit-graph, one per `besides`; `None` where git must
    /// answer (see `graph.rs`).
    fn counts_in_process<const N: usize>(
        &self,
        tip: &str,
        besides: &[Besides; N],
    ) -> Option<[u32; N]> {
        self.read(|repo| self.counts_on(repo, tip, besides))
    }

    fn counts_on<const N: usize>(
        &self,
        repo: &git2::Repository,
        tip: &str,
        besides: &[Besides; N],
    ) -> Option<[u32; N]> {
        let graph = Graph::shared(repo, &self.common_dir)?;
        let tip = Oid::from_str(tip).ok()?;
        let remotes = remote_tracking(repo)?;
        let excludes: Vec<Vec<Oid>> = besides
            .iter()
            .map(|b| excludes(repo, &remotes, b))
            .collect::<Option<_>>()?;
        let groups: Vec<&[Oid]> = excludes.iter().map(Vec::as_slice).collect();
        // Each count's excludes hold the one before's (`rm`'s unpushed, then unmerged): one
        // walk counts them all.
        let nested = groups.windows(2).all(|w| {
            let later: std::collections::HashSet<&Oid> = w[1].iter().collect();
            w[0].iter().all(|o| later.contains(o))
        });
        let counts = if nested {
            graph::counts_excluding(&graph, repo, tip, &groups)?
        } else {
            let one = |g: &&[Oid]| graph::count_excluding(&graph, repo, tip, g);
            groups.iter().map(one).collect::<Option<Vec<u32>>>()?
        };
        let mut out = [0; N];
        for (slot, c) in out.iter_mut().zip(counts) {
            *slot = c;
        }
        Some(out)
    }

    /// The commits the remote-tracking refs point at (for many [`Repo::is_remote_tip`]
    /// questions at once).
    pub fn remote_tips(&self) -> Vec<String> {
        self.read(|repo| {
            let refs = repo.references_glob("refs/remotes/*").ok()?;
            Some(
                refs.flatten()
                    .filter_map(|r| remote_target(&r).map(|o| o.to_string()))
                    .collect(),
            )
        })
        .unwrap_or_default()
    }

    /// Whether `oid` is the tip of some remote-tracking ref (an in-process check that saves a
    /// `rev-list` spawn for the common case of a sandbox sitting on a pushed commit).
    pub fn is_remote_tip(&self, oid: &str) -> bool {
        let Ok(want) = git2::Oid::from_str(oid) else {
            return false;
        };
        self.read(|repo| {
            let refs = repo.references_glob("refs/remotes/*").ok()?;
            Some(refs.flatten().any(|r| remote_target(&r) == Some(want)))
        })
        .unwrap_or(false)
    }
}

/// The fork point in-process (the commit-graph's walk): `None` where git must answer.
fn fork_point_on(
    repo: &git2::Repository,
    common_dir: &Path,
    target: &str,
    tip: &str,
) -> Option<Option<Oid>> {
    let graph = Graph::shared(repo, common_dir)?;
    let (a, b) = (Oid::from_str(target).ok()?, Oid::from_str(tip).ok()?);
    graph::merge_base(&graph, repo, a, b)
}

/// What a count of `besides` leaves out: the remote-tracking commits, and for
/// `OtherBranches` every other local branch's and the main worktree's HEAD (from the
/// repository already open).
fn excludes(repo: &git2::Repository, remotes: &[Oid], besides: &Besides) -> Option<Vec<Oid>> {
    let mut these = remotes.to_vec();
    if let Besides::OtherBranches(branch) = besides {
        these.extend(other_branches(repo, *branch)?);
        these.extend(repo.head().ok().and_then(|h| h.target()));
    }
    Some(these)
}

/// The commits of every local branch but `own`: direct refs only. A symbolic branch names
/// another ref, which holds nothing of its own: an alias of the sandbox's own branch
/// (`git symbolic-ref refs/heads/alias refs/heads/own`) is not somewhere else its commits live,
/// and an alias of another branch adds nothing that branch does not.
fn other_branches(repo: &git2::Repository, own: Option<&str>) -> Option<Vec<Oid>> {
    let own = own.map(|b| format!("refs/heads/{b}"));
    commits_under(repo, "refs/heads/*", |r| {
        r.kind() == Some(git2::ReferenceType::Direct)
            && own
                .as_deref()
                .is_none_or(|o| r.name_bytes() != o.as_bytes())
    })
}

/// The commits the remote-tracking refs hold ([`tracks_a_remote`]): never one a symbolic
/// ref under `refs/remotes/` borrows from a local branch.
fn remote_tracking(repo: &git2::Repository) -> Option<Vec<Oid>> {
    commits_under(repo, "refs/remotes/*", tracks_a_remote)
}

/// The commits the refs matching `glob` that `keep` keeps point at (symbolic ones resolved,
/// tags peeled); `None` if one is not a commit (git's `rev-list` then decides what that means).
fn commits_under(
    repo: &git2::Repository,
    glob: &str,
    keep: impl Fn(&git2::Reference) -> bool,
) -> Option<Vec<Oid>> {
    let mut out = Vec::new();
    for r in repo.references_glob(glob).ok()? {
        let r = r.ok()?;
        if !keep(&r) {
            continue;
        }
        out.push(r.peel_to_commit().ok()?.id());
    }
    Some(out)
}
