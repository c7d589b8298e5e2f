//! Where a branch is on the remotes: an upstream, or a remote-tracking ref of its name on any
//! remote (`backup/feature`), which counts as pushed there though it is not the upstream
//! (libgit2: no spawn; the post-checkout hook asks on every checkout).

use std::path::Path;

/// Whether `branch` has an upstream or a same-named branch on some remote.
pub fn branch_on_remote(worktree: &Path, branch: &str) -> bool {
    !remote_refs_of(worktree, branch).is_empty() || upstream_set(worktree, branch)
}

fn upstream_set(worktree: &Path, branch: &str) -> bool {
    git2::Repository::open(worktree).is_ok_and(|repo| {
        repo.find_branch(branch, git2::BranchType::Local)
            .is_ok_and(|b| b.upstream().is_ok())
    })
}

/// The remote-tracking refs named after `branch` on any remote (`backup/feature`), upstream
/// or not: where the branch was pushed under its own name.
pub fn remote_refs_of(worktree: &Path, branch: &str) -> Vec<String> {
    let Ok(repo) = git2::Repository::open(worktree) else {
        return Vec::new();
    };
    let Ok(refs) = repo.references_glob(&format!("refs/remotes/*/{branch}")) else {
        return Vec::new();
    };
    let suffix = format!("/{branch}");
    let mut out: Vec<String> = refs
        .flatten()
        .filter_map(|r| r.name().ok().map(String::from))
        .filter_map(|n| n.strip_prefix("refs/remotes/").map(String::from))
        // `*` crosses `/`: `origin/team/feature` is not remote `origin/team`'s `feature`.
        .filter(|n| {
            n.strip_suffix(&suffix)
                .is_some_and(|remote| repo.find_remote(remote).is_ok())
        })
        .collect();
    out.sort();
    out
}
