//! Reachability on the commit-graph, in-process: the unpushed count (`git rev-list --count TIP
//! --not EXCLUDES`) and the fork point (`git merge-base A B`) without a `git` spawn.
//!
//! git writes `objects/info/commit-graph` (`git commit-graph write --reachable`, `gc`): every
//! commit's parents as positions in the file and its topological level. A walk in descending
//! level visits a commit only after every commit above it that can reach it, so its flags are
//! final when it is visited, and the walk stops as soon as no queued commit can change the
//! answer: the cost follows the distance between the tips, not the history's size. A spawn of
//! `git rev-list` costs ~7 ms of CPU on this machine; this walk, for 5,000 commits, ~0.3 ms.
//!
//! Commits newer than the file (made or fetched since it was written) are read through
//! libgit2; their level is one above their parents'. A graph entry is a fact about a commit
//! (its parents never change), so a stale file is never wrong, only shorter.
//!
//! `None` from any query means "ask git": there is no single-file graph (a split chain, or none),
//! the repository is shallow, has grafts or replace refs (git answers by the replaced history),
//! `core.commitGraph` is off, the file is damaged or has no levels (written before git 2.19), too
//! many commits are outside it, or `merge-base` has more than one best answer.
//!
//! The steps: `graph/file.rs` reads the file (and says whether git would trust it),
//! `graph/walk.rs` holds one walk's commits, flags and queue, and the two questions are here.

mod file;
mod walk;

use git2::Oid;

pub use file::{Graph, objects_redirected};
use walk::{QUEUED, Walk};

const INTERESTING: u8 = 1;
const UNINTERESTING: u8 = 2;

/// `git rev-list --count tip --not excludes...`: commits reachable from `tip` and from none
/// of `excludes`.
pub fn count_excluding(
    graph: &Graph,
    repo: &git2::Repository,
    tip: Oid,
    excludes: &[Oid],
) -> Option<u32> {
    let mut w = Walk::new(graph, repo);
    let tip = w.node(tip)?;
    w.mark(tip, INTERESTING)?;
    for e in excludes {
        let n = w.node(*e)?;
        w.mark(n, UNINTERESTING)?;
    }
    let only = |f: u8| f & (INTERESTING | UNINTERESTING) == INTERESTING;
    let mut pending = usize::from(only(w.flags(tip)?));
    let mut count = 0;
    while pending > 0 {
        let (_, f) = w.pop()?;
        let add = if only(f) {
            pending -= 1;
            count += 1;
            INTERESTING
        } else {
            UNINTERESTING
        };
        let parents = w.take_parents();
        for &p in &parents {
            let old = w.mark(p, add)?;
            let queued_before = old & QUEUED != 0;
            match (queued_before, only(old), only(old | add)) {
                (false, _, true) => pending += 1,
                (true, true, false) => pending -= 1,
                _ => {}
            }
        }
        w.reuse(parents);
    }
    Some(count)
}

const ONE: u8 = 1;
const TWO: u8 = 2;
const STALE: u8 = 4;

/// `git merge-base a b`: `Some(None)` without common history, `None` when git must answer
/// (more than one best common ancestor: git picks one by its own order).
pub fn merge_base(graph: &Graph, repo: &git2::Repository, a: Oid, b: Oid) -> Option<Option<Oid>> {
    if a == b {
        return Some(Some(a));
    }
    let mut w = Walk::new(graph, repo);
    let (na, nb) = (w.node(a)?, w.node(b)?);
    w.mark(na, ONE)?;
    w.mark(nb, TWO)?;
    let live = |f: u8| f & STALE == 0;
    let mut pending = 2usize;
    let mut found = Vec::new();
    while pending > 0 {
        let (n, f) = w.pop()?;
        if live(f) {
            pending -= 1;
        }
        let mut add = f & (ONE | TWO | STALE);
        if live(f) && f & (ONE | TWO) == ONE | TWO {
            found.push(n);
            add |= STALE;
        }
        let parents = w.take_parents();
        for &p in &parents {
            let old = w.mark(p, add)?;
            match (old & QUEUED != 0, live(old), live(old | add)) {
                (false, _, true) => pending += 1,
                (true, true, false) => pending -= 1,
                _ => {}
            }
        }
        w.reuse(parents);
    }
    match found[..] {
        [] => Some(None),
        [one] => Some(Some(w.oid(one)?)),
        _ => None,
    }
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
