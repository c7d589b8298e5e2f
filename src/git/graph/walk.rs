//! One walk over the graph: each commit a node (a position in the file, or above the file's
//! size one read through libgit2), its flags, and the queue by descending level.

use std::collections::{BinaryHeap, HashMap};

use git2::Oid;

use super::Graph;

/// A commit in a walk: a graph position, or (above the graph's size) one read through libgit2.
pub(super) type Node = u32;

/// Commits outside the graph read through libgit2 before giving the question to git.
const MAX_OUTSIDE: usize = 1_000;

/// One walk's commits: their level, parents and flags.
pub(super) struct Walk<'a> {
    graph: &'a Graph,
    repo: &'a git2::Repository,
    /// Commits outside the graph: oid, level, parents.
    outside: Vec<(Oid, u32, Vec<Node>)>,
    outside_at: HashMap<Oid, Node>,
    /// Each node's flags, by node.
    flags: Vec<u8>,
    queue: BinaryHeap<(u32, Node)>,
    /// The parents of the node being visited.
    buf: Vec<Node>,
    /// Commits read through libgit2 so far.
    reads: usize,
}

pub(super) const QUEUED: u8 = 0x80;
const DONE: u8 = 0x40;

impl<'a> Walk<'a> {
    pub(super) fn new(graph: &'a Graph, repo: &'a git2::Repository) -> Walk<'a> {
        Walk {
            graph,
            repo,
            outside: Vec::new(),
            outside_at: HashMap::new(),
            flags: vec![0; graph.len() as usize],
            queue: BinaryHeap::new(),
            buf: Vec::new(),
            reads: 0,
        }
    }

    /// The node of `oid`, if already known: in the graph, or read before.
    fn known(&self, oid: Oid) -> Option<Node> {
        self.graph
            .find(oid)
            .or_else(|| self.outside_at.get(&oid).copied())
    }

    /// The node of `oid`, reading it and its ancestors down to the graph through libgit2 when
    /// it is outside (without recursion: a chain of new commits can be long), at most
    /// `MAX_OUTSIDE` commits in a walk.
    pub(super) fn node(&mut self, oid: Oid) -> Option<Node> {
        if let Some(n) = self.known(oid) {
            return Some(n);
        }
        let mut stack: Vec<(Oid, Vec<Oid>)> = vec![(oid, self.read(oid)?)];
        while let Some((top, parents)) = stack.last() {
            if let Some(p) = parents.iter().find(|p| self.known(**p).is_none()) {
                let p = *p;
                stack.push((p, self.read(p)?));
                continue;
            }
            let (top, parents) = (*top, parents.clone());
            let nodes: Vec<Node> = parents.iter().filter_map(|p| self.known(*p)).collect();
            let mut level = 0;
            for n in &nodes {
                level = level.max(self.level(*n)?);
            }
            let n = self
                .graph
                .len()
                .checked_add(u32::try_from(self.outside.len()).ok()?)?;
            self.outside.push((top, level.checked_add(1)?, nodes));
            self.outside_at.insert(top, n);
            self.flags.push(0);
            stack.pop();
        }
        self.known(oid)
    }

    /// The parents of a commit outside the graph, counted against `MAX_OUTSIDE`.
    fn read(&mut self, oid: Oid) -> Option<Vec<Oid>> {
        self.reads += 1;
        if self.reads > MAX_OUTSIDE {
            return None;
        }
        Some(self.repo.find_commit(oid).ok()?.parent_ids().collect())
    }

    fn level(&self, n: Node) -> Option<u32> {
        match n.checked_sub(self.graph.len()) {
            None => self.graph.level(n),
            Some(i) => self.outside.get(i as usize).map(|o| o.1),
        }
    }

    /// The parents of `n`, in `self.buf`.
    fn load_parents(&mut self, n: Node) -> Option<()> {
        match n.checked_sub(self.graph.len()) {
            None => self.graph.parents(n, &mut self.buf),
            Some(i) => {
                self.buf.clear();
                self.buf.extend_from_slice(&self.outside.get(i as usize)?.2);
                Some(())
            }
        }
    }

    pub(super) fn oid(&self, n: Node) -> Option<Oid> {
        match n.checked_sub(self.graph.len()) {
            None => self.graph.oid(n),
            Some(i) => self.outside.get(i as usize).map(|o| o.0),
        }
    }

    /// Adds `add` to `n`'s flags, queueing it the first time; returns its flags before.
    /// `None` if `n` was visited already: a parent whose level is not below its child's
    /// (a damaged file), where the walk's order no longer holds.
    pub(super) fn mark(&mut self, n: Node, add: u8) -> Option<u8> {
        let old = *self.flags.get(n as usize)?;
        if old & DONE != 0 {
            return None;
        }
        if old & QUEUED == 0 {
            let level = self.level(n)?;
            self.queue.push((level, n));
        }
        self.flags[n as usize] = old | add | QUEUED;
        Some(old)
    }

    /// `n`'s flags.
    pub(super) fn flags(&self, n: Node) -> Option<u8> {
        self.flags.get(n as usize).copied()
    }

    /// The parents [`Walk::pop`] loaded (hand the vector back with [`Walk::reuse`]).
    pub(super) fn take_parents(&mut self) -> Vec<Node> {
        std::mem::take(&mut self.buf)
    }

    pub(super) fn reuse(&mut self, parents: Vec<Node>) {
        self.buf = parents;
    }

    /// The next commit to visit (the highest level queued) and its final flags, its parents
    /// in `self.buf`. `None` if a parent's level is not below it (a damaged file: the walk's
    /// order would not hold).
    pub(super) fn pop(&mut self) -> Option<(Node, u8)> {
        let (level, n) = self.queue.pop()?;
        let f = self.flags.get_mut(n as usize)?;
        *f |= DONE;
        let f = *f;
        self.load_parents(n)?;
        for i in 0..self.buf.len() {
            if self.level(self.buf[i])? >= level {
                return None;
            }
        }
        Some((n, f))
    }
}
