//! Where a branch is on the remotes: an upstream, or a remote-tracking ref of its name on any
//! remote (`backup/feature`), which counts as pushed there though it is not the upstream
//! (libgit2: no spawn; the post-checkout hook asks on every checkout). A pull request's
//! branch is on the remote as the request's head.

use std::path::Path;

/// Whether `branch` has an upstream or a same-named branch on some remote.
pub fn branch_on_remote(worktree: &Path, branch: &str) -> bool {
    git2::Repository::open(worktree).is_ok_and(|repo| on_remote_in(&repo, branch))
}

fn on_remote_in(repo: &git2::Repository, branch: &str) -> bool {
    !remote_refs_in(repo, branch).is_empty() || upstream_set(repo, branch)
}

impl super::Repo {
    /// [`branch_on_remote`] for `branch`, on the repository this value holds open (`list`
    /// asks one per sandbox: a libgit2 open is ~0.3 ms of stat calls); `None` if it could not
    /// be opened. Branches, their config and remote-tracking refs are the repository's,
    /// whichever worktree asks.
    pub fn branch_on_remote(&self, branch: &str) -> Option<bool> {
        self.read(|r| Some(on_remote_in(r, branch)))
    }
}

fn upstream_set(repo: &git2::Repository, branch: &str) -> bool {
    repo.find_branch(branch, git2::BranchType::Local)
        .is_ok_and(|b| b.upstream().is_ok_and(|u| tracks_a_remote(u.get())))
}

/// Whether ref `r` holds what a remote has: a remote-tracking ref, or a symbolic one whose
/// chain ends at one (`origin/HEAD`). A symbolic ref under `refs/remotes/` that leads to a
/// local branch (`git symbolic-ref refs/remotes/origin/x refs/heads/x`) names that branch:
/// nothing of it was pushed, and git's `--remotes` taking its commits must not make them so.
pub(super) fn tracks_a_remote(r: &git2::Reference) -> bool {
    remote_target(r).is_some()
}

/// The commit remote-tracking ref `r` holds, resolved once; `None` for one that leads out
/// of `refs/remotes/` ([`tracks_a_remote`]).
pub(super) fn remote_target(r: &git2::Reference) -> Option<git2::Oid> {
    let end = r.resolve().ok()?;
    end.name_bytes()
        .starts_with(b"refs/remotes/")
        .then(|| end.target())
        .flatten()
}

impl super::Repo {
    /// Whether the status's upstream is a push: there is one, and it is not a branch of this
    /// repository (`branch.<name>.remote` is `.`: tracking it pushes nothing anywhere).
    pub fn upstream_pushes(&self, st: &super::Status) -> bool {
        let Some(branch) = st.upstream.as_ref().and(st.branch.as_deref()) else {
            return st.upstream.is_some();
        };
        let local = self.read(|r| {
            let remote = r
                .branch_upstream_remote(&format!("refs/heads/{branch}"))
                .ok()?;
            Some(remote.as_str().ok() == Some("."))
        });
        local != Some(true)
    }

    /// The remote-tracking refs named after `branch` on any remote (`backup/feature`),
    /// upstream or not: where the branch was pushed under its own name. Asked of the
    /// repository already open (an open of its own re-read every config file).
    pub fn remote_refs_of(&self, branch: &str) -> Vec<String> {
        self.read(|repo| Some(remote_refs_in(repo, branch)))
            .unwrap_or_default()
    }
}

fn remote_refs_in(repo: &git2::Repository, branch: &str) -> Vec<String> {
    let Ok(refs) = repo.references_glob(&format!("refs/remotes/*/{branch}")) else {
        return Vec::new();
    };
    let suffix = format!("/{branch}");
    let mut out: Vec<String> = refs
        .flatten()
        .filter(tracks_a_remote)
        .filter_map(|r| r.name().ok().map(String::from))
        .filter_map(|n| n.strip_prefix("refs/remotes/").map(String::from))
        // `*` crosses `/`: `origin/team/feature` is not remote `origin/team`'s `feature`.
        .filter(|n| {
            n.strip_suffix(&suffix)
                .is_some_and(|remote| repo.find_remote(remote).is_ok())
        })
        .collect();
    out.extend(request_refs(repo, branch));
    out.sort();
    out
}

/// A pull/merge request's branch (`pr-N`, see `pr.rs`) is on the remote as the request's
/// head: `refs/remotes/<remote>/pr/N` or `…/mr/N`, which `new --pr` fetched. Its commits are
/// pushed there: the request is its upstream for this purpose.
fn request_refs(repo: &git2::Repository, branch: &str) -> Vec<String> {
    let Some(n) = branch
        .strip_prefix("pr-")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    else {
        return Vec::new();
    };
    let Ok(remotes) = repo.remotes() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for remote in remotes.iter().flatten().flatten() {
        for kind in ["pr", "mr"] {
            let name = format!("{remote}/{kind}/{n}");
            if repo
                .find_reference(&format!("refs/remotes/{name}"))
                .is_ok_and(|r| tracks_a_remote(&r))
            {
                out.push(name);
            }
        }
    }
    out
}
