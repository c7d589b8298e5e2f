//! The commit-graph file, mapped: its header and chunk table checked, then the fanout, the
//! sorted ids and the commit data (parents as positions, topological levels) read in place,
//! only the pages a question touches; and whether git itself would answer from it
//! ([`trusted`]).
//!
//! Mapped, as git maps it, not read: a walk of 5,000 commits touches most of the commit data
//! (sorted by id, so in no order), and reading 20,000 commits' 720 KB into fresh memory cost
//! ~110 page faults and a copy on every `status` and `rm --dry-run` (7% of the dry run's
//! CPU). A mapping of the page cache faults once per 16 pages.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use git2::Oid;
use memmap2::Mmap;

/// Above this many commits the file is not read whole (its size follows the history): git.
const MAX_COMMITS: u32 = 400_000;
const HASH: usize = 20;
const DATA: usize = HASH + 16;
const NO_PARENT: u32 = 0x7000_0000;
const OCTOPUS: u32 = 0x8000_0000;

/// The commit-graph file, mapped (the same inode whatever git writes in its place meanwhile:
/// it renames), its fanout read, and where its chunks are.
pub struct Graph {
    map: Mmap,
    fanout: Vec<u32>,
    /// The sorted ids (`OIDL`), the commit data (`CDAT`), the extra parents (`EDGE`).
    oids: Range<usize>,
    data: Range<usize>,
    edges: Range<usize>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Where chunk `id` is in a file of `size` bytes, if it is at most `len_max` long.
fn span(table: &[(u32, u64)], id: &[u8; 4], len_max: u64, size: usize) -> Option<Range<usize>> {
    let id = u32::from_be_bytes(*id);
    let i = table.iter().position(|(c, _)| *c == id)?;
    let (start, end) = (table[i].1, table.get(i + 1)?.1);
    end.checked_sub(start).filter(|l| *l <= len_max)?;
    let range = usize::try_from(start).ok()?..usize::try_from(end).ok()?;
    (range.end <= size).then_some(range)
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

    /// The file, mapped, its header, chunk table and fanout checked.
    fn read(common_dir: &Path) -> Option<Graph> {
        let f = File::open(common_dir.join("objects/info/commit-graph")).ok()?;
        // SAFETY: git never writes a commit-graph in place: it writes a new file and renames
        // it over the old one (`commit-graph write`, `gc`), so the mapped inode never changes
        // under us. Only a file truncated in place by hand could make a read fault (SIGBUS),
        // as it would in git itself, which maps the same file.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&f) }.ok()?;
        let head = map.get(..8)?;
        // "CGPH", version 1, SHA-1, chunk count, no base graphs (not a split layer).
        if &head[..4] != b"CGPH" || head[4] != 1 || head[5] != 1 || head[7] != 0 {
            return None;
        }
        let chunks = usize::from(head[6]);
        let raw = map.get(8..8 + (chunks + 1) * 12)?;
        let table: Vec<(u32, u64)> = (0..=chunks)
            .map(|i| Some((be32(raw, i * 12)?, be64(raw, i * 12 + 4)?)))
            .collect::<Option<_>>()?;
        let size = map.len();
        let fanout_raw = map.get(span(&table, b"OIDF", 1024, size)?)?;
        let fanout: Vec<u32> = (0..256)
            .map(|i| be32(fanout_raw, i * 4))
            .collect::<Option<_>>()?;
        let n = *fanout.last()?;
        if n > MAX_COMMITS || fanout.windows(2).any(|w| w[0] > w[1]) {
            return None;
        }
        let oids = span(&table, b"OIDL", u64::from(n) * HASH as u64, size)?;
        let data = span(&table, b"CDAT", u64::from(n) * DATA as u64, size)?;
        if oids.len() != n as usize * HASH || data.len() != n as usize * DATA {
            return None;
        }
        let edges = span(&table, b"EDGE", u64::from(n) * 4 * 64, size).unwrap_or(0..0);
        Some(Graph {
            map,
            fanout,
            oids,
            data,
            edges,
        })
    }

    /// The bytes of one chunk.
    fn chunk(&self, range: &Range<usize>) -> &[u8] {
        self.map.get(range.clone()).unwrap_or_default()
    }

    pub(super) fn len(&self) -> u32 {
        self.fanout[255]
    }

    pub(super) fn oid(&self, pos: u32) -> Option<Oid> {
        let at = pos as usize * HASH;
        Oid::from_bytes(self.chunk(&self.oids).get(at..at + HASH)?).ok()
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
        // The bucket of ids starting with the same byte, searched in place.
        let bucket = self
            .chunk(&self.oids)
            .get(lo as usize * HASH..hi as usize * HASH)?;
        let (mut a, mut b) = (0, bucket.len() / HASH);
        while a < b {
            let mid = (a + b) / 2;
            match bucket[mid * HASH..(mid + 1) * HASH].cmp(key) {
                std::cmp::Ordering::Less => a = mid + 1,
                std::cmp::Ordering::Greater => b = mid,
                std::cmp::Ordering::Equal => return lo.checked_add(u32::try_from(mid).ok()?),
            }
        }
        None
    }

    /// The topological level of the commit at `pos`; `None` for a damaged entry or a file
    /// without levels (written before git 2.19).
    pub(super) fn level(&self, pos: u32) -> Option<u32> {
        let level = be32(self.chunk(&self.data), pos as usize * DATA + HASH + 8)? >> 2;
        (level != 0).then_some(level)
    }

    /// The parents (positions) of the commit at `pos`, into `out`; `None` for a damaged entry.
    pub(super) fn parents(&self, pos: u32, out: &mut Vec<u32>) -> Option<()> {
        let at = pos as usize * DATA + HASH;
        let data = self.chunk(&self.data);
        let (p1, p2) = (be32(data, at)?, be32(data, at + 4)?);
        out.clear();
        if p1 != NO_PARENT {
            out.push(p1);
        }
        if p2 & OCTOPUS != 0 {
            let mut i = (p2 & !OCTOPUS) as usize;
            loop {
                let e = be32(self.chunk(&self.edges), i * 4)?;
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
