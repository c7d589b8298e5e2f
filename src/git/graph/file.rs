//! The commit-graph file, read: its header and chunk table checked, the fanout and commit
//! data (parents as positions, topological levels) read whole, the sorted ids a fanout bucket
//! at a time when an id is looked up (a question looks up a few; they are a third of the
//! file), and whether git itself would answer from it ([`trusted`]).

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use git2::Oid;

/// Above this many commits the file is not read whole (its size follows the history): git.
const MAX_COMMITS: u32 = 400_000;
const HASH: usize = 20;
const DATA: usize = HASH + 16;
const NO_PARENT: u32 = 0x7000_0000;
const OCTOPUS: u32 = 0x8000_0000;

/// The commit-graph's fanout and commit data, read once per question, and the file itself
/// for its ids (the same inode whatever git writes in its place meanwhile: it renames).
pub struct Graph {
    fanout: Vec<u32>,
    file: File,
    /// Where the sorted ids (`OIDL`) start in the file.
    oids_at: u64,
    data: Vec<u8>,
    edges: Vec<u8>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Where chunk `id` starts in the file, and its length (at most `len_max`).
fn span(table: &[(u32, u64)], id: &[u8; 4], len_max: u64) -> Option<(u64, u64)> {
    let id = u32::from_be_bytes(*id);
    let i = table.iter().position(|(c, _)| *c == id)?;
    let (start, end) = (table[i].1, table.get(i + 1)?.1);
    Some((start, end.checked_sub(start).filter(|l| *l <= len_max)?))
}

fn chunk(f: &File, table: &[(u32, u64)], id: &[u8; 4], len_max: u64) -> Option<Vec<u8>> {
    let (start, len) = span(table, id, len_max)?;
    let mut buf = vec![0u8; usize::try_from(len).ok()?];
    f.read_exact_at(&mut buf, start).ok()?;
    Some(buf)
}

/// The file a [`Graph`] was read from: its repository and its identity on disk.
type Source = (PathBuf, (u64, u64, u64, i64, i64));

/// The last graph read, for the next question about the same file (`list` asks one per
/// sandbox; `status` two): reading 20,000 commits' file costs ~1 ms.
static LAST: Mutex<Option<(Source, Arc<Graph>)>> = Mutex::new(None);

impl Graph {
    /// The graph, when git would answer from it (see the module doc), read again only when the file changed (another inode, size or
    /// time) since the last question in this process.
    pub fn shared(repo: &git2::Repository, common_dir: &Path) -> Option<Arc<Graph>> {
        if !trusted(repo, common_dir) {
            return None;
        }
        cached(common_dir)
    }

    /// Reads the graph of `common_dir` into the process's cache on a thread of its own, for
    /// [`Graph::shared`] to find (`status` starts it before it reads the registry: 1.2 MB
    /// for 20,000 commits, ~1 ms off its path). Whether git would answer from the file is
    /// still checked at each question.
    pub fn prefetch(common_dir: &Path) {
        let dir = common_dir.to_path_buf();
        std::thread::spawn(move || cached(&dir));
    }

    /// The graph of the repository whose objects are in `common_dir/objects`, when the
    /// in-process walk may answer for git (see the module doc).
    #[cfg(test)]
    pub fn open(repo: &git2::Repository, common_dir: &Path) -> Option<Graph> {
        if !trusted(repo, common_dir) {
            return None;
        }
        Graph::read(common_dir)
    }

    /// The file's lookup and commit data, read whole.
    fn read(common_dir: &Path) -> Option<Graph> {
        let f = File::open(common_dir.join("objects/info/commit-graph")).ok()?;
        let mut head = [0u8; 8];
        f.read_exact_at(&mut head, 0).ok()?;
        // "CGPH", version 1, SHA-1, chunk count, no base graphs (not a split layer).
        if &head[..4] != b"CGPH" || head[4] != 1 || head[5] != 1 || head[7] != 0 {
            return None;
        }
        let chunks = usize::from(head[6]);
        let mut raw = vec![0u8; (chunks + 1) * 12];
        f.read_exact_at(&mut raw, 8).ok()?;
        let table: Vec<(u32, u64)> = (0..=chunks)
            .map(|i| Some((be32(&raw, i * 12)?, be64(&raw, i * 12 + 4)?)))
            .collect::<Option<_>>()?;
        let fanout_raw = chunk(&f, &table, b"OIDF", 1024)?;
        let fanout: Vec<u32> = (0..256)
            .map(|i| be32(&fanout_raw, i * 4))
            .collect::<Option<_>>()?;
        let n = *fanout.last()?;
        if n > MAX_COMMITS || fanout.windows(2).any(|w| w[0] > w[1]) {
            return None;
        }
        let (oids_at, oids_len) = span(&table, b"OIDL", u64::from(n) * HASH as u64)?;
        let data = chunk(&f, &table, b"CDAT", u64::from(n) * DATA as u64)?;
        if oids_len != u64::from(n) * HASH as u64 || data.len() != n as usize * DATA {
            return None;
        }
        let edges = chunk(&f, &table, b"EDGE", u64::from(n) * 4 * 64).unwrap_or_default();
        Some(Graph {
            fanout,
            file: f,
            oids_at,
            data,
            edges,
        })
    }

    pub(super) fn len(&self) -> u32 {
        self.fanout[255]
    }

    pub(super) fn oid(&self, pos: u32) -> Option<Oid> {
        let mut id = [0u8; HASH];
        (pos < self.len()).then_some(())?;
        let at = self.oids_at + u64::from(pos) * HASH as u64;
        self.file.read_exact_at(&mut id, at).ok()?;
        Oid::from_bytes(&id).ok()
    }

    /// The position of `oid` in the file, if it is there.
    pub(super) fn find(&self, oid: Oid) -> Option<u32> {
        let key = oid.as_bytes();
        let first = usize::from(key[0]);
        let lo = if first == 0 {
            0
        } else {
            self.fanout[first - 1]
        };
        let hi = self.fanout[first];
        // The bucket of ids starting with the same byte, read in one call.
        let mut bucket = vec![0u8; hi.checked_sub(lo)? as usize * HASH];
        let at = self.oids_at + u64::from(lo) * HASH as u64;
        self.file.read_exact_at(&mut bucket, at).ok()?;
        let i = bucket
            .chunks_exact(HASH)
            .collect::<Vec<_>>()
            .binary_search(&key)
            .ok()?;
        lo.checked_add(u32::try_from(i).ok()?)
    }

    /// The topological level of the commit at `pos`; `None` for a damaged entry or a file
    /// without levels (written before git 2.19).
    pub(super) fn level(&self, pos: u32) -> Option<u32> {
        let level = be32(&self.data, pos as usize * DATA + HASH + 8)? >> 2;
        (level != 0).then_some(level)
    }

    /// The parents (positions) of the commit at `pos`, into `out`; `None` for a damaged entry.
    pub(super) fn parents(&self, pos: u32, out: &mut Vec<u32>) -> Option<()> {
        let at = pos as usize * DATA + HASH;
        let (p1, p2) = (be32(&self.data, at)?, be32(&self.data, at + 4)?);
        out.clear();
        if p1 != NO_PARENT {
            out.push(p1);
        }
        if p2 & OCTOPUS != 0 {
            let mut i = (p2 & !OCTOPUS) as usize;
            loop {
                let e = be32(&self.edges, i * 4)?;
                out.push(e & !OCTOPUS);
                if e & OCTOPUS != 0 {
                    break;
                }
                i += 1;
            }
        } else if p2 != NO_PARENT {
            out.push(p2);
        }
        out.iter().all(|p| *p < self.len()).then_some(())
    }
}

/// Whether git itself would answer from the plain commit history (no grafts, no shallow
/// boundary, no replaced objects) with the commit-graph allowed.
/// The graph of `common_dir` from the process's cache, read (and kept) if the file changed
/// since; the lock is held while reading, so a question waits for a prefetch under way.
fn cached(common_dir: &Path) -> Option<Arc<Graph>> {
    let m = std::fs::metadata(common_dir.join("objects/info/commit-graph")).ok()?;
    let id = (m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec());
    let source = (common_dir.to_path_buf(), id);
    let mut last = LAST.lock().ok()?;
    if let Some((s, g)) = last.as_ref()
        && *s == source
    {
        return Some(g.clone());
    }
    let graph = Arc::new(Graph::read(common_dir)?);
    *last = Some((source, graph.clone()));
    Some(graph)
}

fn trusted(repo: &git2::Repository, common_dir: &Path) -> bool {
    let graph_off = repo
        .config()
        .ok()
        .and_then(|c| c.get_bool("core.commitGraph").ok())
        == Some(false);
    !objects_redirected(repo)
        && !graph_off
        && !common_dir.join("shallow").exists()
        && !common_dir.join("info/grafts").exists()
}

/// Whether git could read another object than the one an id names, which libgit2 never does:
/// a replace ref (`git replace`: another commit, tree or blob in its place), or the
/// environment moving the objects, the grafts or the replace refs elsewhere.
pub fn objects_redirected(repo: &git2::Repository) -> bool {
    let env_redirects = [
        "GIT_OBJECT_DIRECTORY",
        "GIT_GRAFT_FILE",
        "GIT_REPLACE_REF_BASE",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some());
    env_redirects
        || repo
            .references_glob("refs/replace/*")
            .is_ok_and(|mut r| r.next().is_some())
}
