//! What removing a sandbox would lose or touch, computed before anything is touched, and
//! computed again on the quarantined tree to prove nothing new appeared in between.
//!
//! The report lists: staged, unstaged, conflicted and untracked files; edits hidden by
//! `--assume-unchanged`/`--skip-worktree`; commits on no remote-tracking ref (no upstream counts
//! as never pushed); commits only the worktree's HEAD reflog holds; a lock; populated
//! submodules, nested repositories, other worktrees and registered instances inside; mount
//! points; processes still working inside, containers included (any mount namespace with a
//! bind of it: [`crate::procs::working_in`]), and how far that look could see; and, as
//! information, special files, empty directories, odd permissions and ignored files (kept vs
//! disposable, with sizes; git-sandbox's own known by their mark: [`ignored::take_ours`]).
//!
//! [`Report::refusals`] sorts what stops a removal: `hard` ones stop it even with `--force`
//! (another worktree or instance inside, a mount point), `soft` ones unless `--force`.

pub mod ignored;
mod refuse;
mod report;
pub mod scan;
mod second;

pub use ignored::{Ignored, human_bytes};
pub use report::{Refusals, Report};

use std::path::Path;
use std::time::SystemTime;

use anyhow::Result;

use crate::config::Config;
use crate::git::{self, Repo, Status};
use crate::procs;
use crate::registry::Instance;
use crate::timings::step;

/// Where and what to assess.
pub struct Subject<'a> {
    pub repo: &'a Repo,
    pub inst: &'a Instance,
    /// The directory to look at (the sandbox, or its quarantined tree).
    pub dir: &'a Path,
    pub cfg: &'a Config,
    /// Registered instances of every repo, to find those inside.
    pub others: &'a [Instance],
    /// `dir` is the quarantined tree (submodule links no longer resolve there).
    pub quarantined: bool,
    /// Only a dry run (nothing will be removed): a small tree proven clean needs no `git
    /// status` (`git::status_of_look`).
    pub dry_run: bool,
}

/// Assesses a verified sandbox directory. Reachability (`rev-list`) runs beside `status`,
/// and is skipped when HEAD is itself a remote-tracking tip.
pub fn assess(s: &Subject) -> Result<Report> {
    if !s.dry_run {
        return assess_then(s, || working(s));
    }
    // A dry run removes nothing: who works inside is asked beside the look, not after it.
    std::thread::scope(|sc| {
        let inside = sc.spawn(|| working(s));
        assess_then(s, || inside.join().unwrap_or_else(|_| working(s)))
    })
}

/// [`assess`], `processes` asked once the tree is walked.
fn assess_then(s: &Subject, processes: impl FnOnce() -> Working) -> Result<Report> {
    // Taken before the status: the walk's stamp is unsettled if anything changed from then on.
    let since = SystemTime::now();
    let files = second::Files::stat(s);
    let admin = s.repo.admin_dir(s.inst.admin());
    let (mut status, reach, reflog_only) = git_looks(s, &admin)?;
    step("status+reach+reflog");
    let ours = ignored::take_ours(s.dir, &mut status.ignored);
    let ignored = ignored::classify(s.dir, &status.ignored, &s.cfg.disposable);
    step("ignored: ours, sizes");
    let skip = skip_list(&ignored, ours);
    let found = walk(s, &skip, Some(since));
    step("tree walk");
    let baseline = second::Baseline { files, skip };
    Ok(complete(
        s,
        status,
        (reach, reflog_only),
        ignored,
        found,
        baseline,
        processes,
    ))
}

/// The second look, on the quarantined tree: as cheap as [`second::quick`] can prove right
/// against `first` (the confirmed report), else the full [`assess`] again.
///
/// Who works in the quarantined tree is asked first, before anything is read: once no process
/// is inside, nothing can write there any more (its old path is gone), so what the look reads
/// is final. Asked only after the look, a process that wrote a file behind the walk and left
/// before the scan went unseen, and its file was swept (an agent's short tool call).
pub fn reassess(s: &Subject, first: &Report) -> Result<Report> {
    let (inside, check) = working(s);
    step("second look: /proc scan first");
    let mut again = match second::quick(s, first)? {
        Some(again) => {
            step("second look: quick");
            again
        }
        None => {
            let again = assess(s)?;
            step("second look: full");
            again
        }
    };
    // Inside at either scan: kept whole, as for one seen after the look.
    if again.processes.is_empty() && !inside.is_empty() {
        again.processes = inside;
        again.process_check = check;
    }
    Ok(again)
}

/// The rest of a report, after the status, the walk and the ignored files.
fn complete(
    s: &Subject,
    status: Status,
    ((unpushed, unmerged_unpushed), reflog_only): ((u32, u32), Vec<String>),
    ignored: Vec<Ignored>,
    found: scan::Found,
    baseline: second::Baseline,
    processes: impl FnOnce() -> Working,
) -> Report {
    let (repo, inst, dir) = (s.repo, s.inst, s.dir);
    let admin = repo.admin_dir(inst.admin());
    let remote_refs = (status.branch.as_deref())
        .map(|b| repo.remote_refs_of(b))
        .unwrap_or_default();
    step("remote refs");
    let (processes, process_check) = processes();
    step("/proc scan");
    let hidden = git::hidden_edits(dir);
    step("hidden edits");
    Report {
        hidden,
        unpushed,
        unmerged_unpushed,
        never_pushed: !repo.upstream_pushes(&status)
            && inst.pushed.is_none()
            && remote_refs.is_empty(),
        remote_refs,
        at_base: status.head.is_some() && status.head == inst.base_commit,
        reflog_only,
        // Our own lock of a quarantined tree is no reason to keep it.
        locked: repo
            .lock_reason(inst.admin())
            .filter(|r| r != git::REMOVING_LOCK),
        operation: git::operation_in_progress(&admin).map(String::from),
        instances_inside: instances_inside(s),
        processes,
        process_check,
        found,
        ignored,
        pushed: inst.pushed.clone(),
        status,
        baseline: Some(baseline),
    }
}

/// The git side, at once: the worktree's status, the commits no remote holds (and those also
/// unmerged), and the commits only its reflog holds.
fn git_looks(s: &Subject, admin: &Path) -> Result<(git::Status, (u32, u32), Vec<String>)> {
    let (repo, dir) = (s.repo, s.dir);
    let head = git::worktree_head(dir);
    let branch = git::worktree_branch(dir);
    let (status, reach, reflog) = std::thread::scope(|sc| {
        let reach = sc.spawn(|| lost_commits(repo, head.as_deref(), branch.as_deref()));
        let reflog = sc.spawn(|| git::reflog_only(&repo.root, admin, head.as_deref()));
        let scan = if s.quarantined {
            git::Scan::Quarantined
        } else {
            git::Scan::Full
        };
        let status = if s.dry_run {
            git::status_of_look(repo, dir, scan)
        } else {
            git::status(dir, scan)
        };
        (status, reach.join(), reflog.join())
    });
    let reach = match reach {
        Ok(r) => r?,
        Err(_) => anyhow::bail!("checking which commits are pushed failed"),
    };
    let reflog_only = match reflog {
        Ok(r) => r?,
        Err(_) => anyhow::bail!("reading the worktree's reflog failed"),
    };
    Ok((status?, reach, reflog_only))
}

/// What the walk leaves out: disposable directories (deleted unread) and git-sandbox's own
/// files (not the user's).
fn skip_list(ignored: &[Ignored], ours: Vec<String>) -> Vec<String> {
    ignored
        .iter()
        .filter(|i| i.disposable)
        .map(|i| i.path.clone())
        .chain(ours)
        .collect()
}

/// The walk for what `git status` does not show (see [`skip_list`]), and worktrees of this
/// repo anywhere inside, disposable directories included (git's entries say where they are:
/// no walk needed).
fn walk(s: &Subject, skip: &[String], since: Option<SystemTime>) -> scan::Found {
    let mut found = scan::walk(s.dir, skip, since);
    for (admin, target) in s.repo.admin_entries() {
        let Some(t) = target.filter(|_| admin != s.inst.admin()) else {
            continue;
        };
        let rel = t
            .strip_prefix(&s.inst.path)
            .or_else(|_| t.strip_prefix(s.dir))
            .ok()
            .map(|r| r.to_string_lossy().into_owned());
        if let Some(rel) = rel.filter(|r| !r.is_empty() && !found.worktrees.contains(r)) {
            found.worktrees.push(rel);
        }
    }
    found
}

/// The commits no remote holds (and those also unmerged), and those only the reflog holds:
/// the git side of a quick second look, which reuses the first look's status.
fn commits(s: &Subject, admin: &Path) -> Result<((u32, u32), Vec<String>)> {
    let head = git::worktree_head(s.dir);
    let branch = git::worktree_branch(s.dir);
    let reach = lost_commits(s.repo, head.as_deref(), branch.as_deref())?;
    Ok((
        reach,
        git::reflog_only(&s.repo.root, admin, head.as_deref())?,
    ))
}

/// Processes and containers working in the tree. Its own services are left out of the first
/// look (`rm` stops them before the second, which sees any left), proven by its uuid label.
/// Who works inside, and how far the look could see.
type Working = (Vec<procs::Proc>, procs::Check);

fn working(s: &Subject) -> Working {
    let inst = s.inst;
    let project = crate::compose::owner::project(inst);
    let own = (!s.quarantined && crate::compose::has_file(s.dir, s.cfg)).then(|| procs::Own {
        uuid: inst
            .uuid
            .as_deref()
            .filter(|_| !crate::compose::owner::legacy(inst)),
        project: &project,
    });
    procs::working_in(s.dir, &inst.path, own)
}

/// Registered instances (of any repo) whose path is strictly inside the sandbox's registered
/// path or the directory assessed.
fn instances_inside(s: &Subject) -> Vec<String> {
    s.others
        .iter()
        .filter(|o| o.id != s.inst.id || o.parent_repo != s.inst.parent_repo)
        .filter(|o| {
            (o.path.starts_with(&s.inst.path) && o.path != s.inst.path)
                || (o.path.starts_with(s.dir) && o.path != s.dir)
        })
        .map(|o| format!("{} ({})", o.id, o.path.display()))
        .collect()
}

/// Commits reachable from `head` on no remote-tracking ref, and how many of those are on no
/// other local branch either (lost if the branch went): `git/reach.rs`.
fn lost_commits(repo: &Repo, head: Option<&str>, branch: Option<&str>) -> Result<(u32, u32)> {
    match head {
        Some(head) => repo.unpushed_and_unmerged(head, branch),
        None => Ok((0, 0)),
    }
}
