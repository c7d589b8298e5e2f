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
/// The flag of the first group of excludes; group `k`'s is this shifted left by `k`.
const EXCLUDED: u8 = 2;
/// At most this many groups (the walk's flags keep two bits for itself).
const MAX_GROUPS: usize = 5;

/// `git rev-list --count tip --not excludes...`: commits reachable from `tip` and from none
/// of `excludes`.
pub fn count_excluding(
    graph: &Graph,
    repo: &git2::Repository,
    tip: Oid,
    excludes: &[Oid],
) -> Option<u32> {
    counts_excluding(graph, repo, tip, &[excludes])?
        .first()
        .copied()
}

/// The counts of [`count_excluding`] against ever wider excludes, on one walk: count `k` is
/// of the commits reachable from `tip` and from none of `groups[0..=k]`. The walk is the
/// first count's: every later one counts a subset of its commits.
pub fn counts_excluding(
    graph: &Graph,
    repo: &git2::Repository,
    tip: Oid,
    groups: &[&[Oid]],
) -> Option<Vec<u32>> {
    if groups.is_empty() || groups.len() > MAX_GROUPS {
        return None;
    }
    let mut w = Walk::new(graph, repo);
    let tip = w.node(tip)?;
    w.mark(tip, INTERESTING)?;
    for (k, group) in groups.iter().enumerate() {
        for e in group.iter() {
            let n = w.node(*e)?;
            w.mark(n, EXCLUDED << k)?;
        }
    }
    // Counted at all: interesting and not excluded by the first group. Group bits above it
    // only take from that count, so they never keep the walk going.
    let only = |f: u8| f & (INTERESTING | EXCLUDED) == INTERESTING;
    let groups_bits = |k: usize| (EXCLUDED << (k + 1)) - EXCLUDED;
    let mut pending = usize::from(only(w.flags(tip)?));
    let mut counts = vec![0; groups.len()];
    while pending > 0 {
        let (_, f) = w.pop()?;
        if only(f) {
            pending -= 1;
            for (k, count) in counts.iter_mut().enumerate() {
                *count += u32::from(f & groups_bits(k) == 0);
            }
        }
        // Every bit passes on: a commit only a later group excludes (a local branch ahead of
        // its remote) excludes nothing from the first count.
        let add = f & (INTERESTING | groups_bits(groups.len() - 1));
        let parents = w.take_parents();
        for &p in &parents {
            let old = w.mark(p, add)?;
            // A commit queued by a later group alone can become counted, as well as stop.
            let was = old & QUEUED != 0 && only(old);
            match (was, only(old | add)) {
                (false, true) => pending += 1,
                (true, false) => pending -= 1,
                _ => {}
            }
        }
        w.reuse(parents);
    }
    Some(counts)
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
