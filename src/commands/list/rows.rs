//! The rows of `list` and `status`: one per sandbox, gathered in parallel (each sandbox's git
//! look in `look.rs`: one `git status`, and beside it, for a HEAD no remote holds, the
//! unpushed count on the commit-graph; one `docker ps` per engine), and the JSON shape of a row.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;

use super::look::{self, Look, Parent};
use crate::compose;
use crate::config::Config;
use crate::engine::{self, Engine};
use crate::git::{self, Repo};
use crate::registry::{Instance, Kind, MadeBy, Pushed, State};
use crate::{target, ui};

/// One sandbox as `list --json` shows it.
#[derive(Serialize, JsonSchema, Clone, Debug)]
pub struct Row {
    pub name: String,
    pub id: String,
    pub kind: Kind,
    pub slot: u32,
    pub state: State,
    pub path: String,
    pub parent_repo: String,
    /// The branch checked out now (the registered one when the directory is missing); null
    /// when HEAD is detached (see `detached_at`).
    pub branch: Option<String>,
    /// The commit HEAD is detached at, when no branch is checked out; null on a branch.
    pub detached_at: Option<String>,
    pub created_branch: bool,
    pub base_commit: Option<String>,
    pub created_at: String,
    pub missing: bool,
    /// Why the registered path cannot be trusted, if it cannot.
    pub invalid: Option<String>,
    pub ports: BTreeMap<String, u32>,
    pub dirty: Option<Dirty>,
    pub upstream: Option<Upstream>,
    /// Commits on no remote-tracking ref.
    pub unpushed: Option<u32>,
    pub never_pushed: bool,
    pub pushed: Option<Pushed>,
    /// Whether a container of its compose project runs (null without a compose file).
    pub services_up: Option<bool>,
    pub error: Option<String>,
    /// How its branch's work reached the default branch: `fast-forward`, `merged`,
    /// `squashed` or `rebased`; null when it has not, or has no commits of its own.
    pub integrated: Option<String>,
    /// Whether its `[commands] setup` ran: `done`, `failed`, `not-trusted`, `skipped`;
    /// `running` while it runs, `interrupted` when the process running it is gone (killed):
    /// `git sandbox setup` runs it again; null when the project has none.
    pub setup: Option<String>,
    /// Who made it: `{"by": "user"}`, `{"by": "agent", "session": …}` (the agent hook) or
    /// `{"by": "adopt"}`; the agent hook hands out and removes only its own.
    pub made_by: MadeBy,
    /// The Docker engine its stack runs on (recorded at `up`), when it is not the local one:
    /// its ports and URLs are on that engine's host. Null for the local engine.
    pub engine: Option<Engine>,
}

#[derive(Serialize, JsonSchema, Clone, Debug)]
pub struct Dirty {
    pub staged: usize,
    pub unstaged: usize,
    pub untracked: usize,
    pub conflicted: usize,
}

#[derive(Serialize, JsonSchema, Clone, Debug)]
pub struct Upstream {
    pub name: String,
    pub ahead: u32,
    pub behind: u32,
    /// Set, but its ref is gone (deleted on the remote and pruned): git's `[gone]`; ahead and
    /// behind are then 0, measured against nothing.
    pub gone: bool,
}

/// Gathers rows for instances, in parallel; `known`: the repository the command already
/// opened (not discovered again for its sandboxes).
pub fn gather(insts: &[Instance], known: Option<&Repo>) -> Vec<Row> {
    let (repos, bad_config) = parents(insts, known);
    crate::timings::step("gather: parents");
    let has_compose: Vec<bool> = insts
        .iter()
        .map(|i| {
            repos
                .get(i.parent_repo.as_path())
                .and_then(|r| r.as_ref())
                .is_some_and(|p| compose::has_file(&i.path, &p.cfg))
        })
        .collect();
    let engines: Vec<Engine> = insts.iter().map(engine::of).collect();
    let wanted = engines_asked(&engines, &has_compose);
    let many = insts.len() > 1;
    std::thread::scope(|s| {
        let docker: Vec<_> = wanted
            .iter()
            .map(|&e| (e, s.spawn(move || compose::owner::running_on(e))))
            .collect();
        let row_of = |i: &Instance, compose: bool| {
            let ctx = repos.get(i.parent_repo.as_path()).and_then(|r| r.as_ref());
            // A row that panics shows empty, as a row of many does when its thread panics.
            let look = std::panic::AssertUnwindSafe(|| row(i, ctx, compose, many));
            std::panic::catch_unwind(look).unwrap_or_else(|_| empty_row(i))
        };
        // One row (`status`): on this thread, no spawn to pay.
        let rows: Vec<Row> = if many {
            let handles: Vec<_> = insts
                .iter()
                .zip(&has_compose)
                .map(|(i, &compose)| s.spawn(move || row_of(i, compose)))
                .collect();
            (handles.into_iter().zip(insts))
                .map(|(h, i)| h.join().unwrap_or_else(|_| empty_row(i)))
                .collect()
        } else {
            insts
                .iter()
                .zip(&has_compose)
                .map(|(i, &c)| row_of(i, c))
                .collect()
        };
        let running = answers(docker);
        (rows.into_iter().zip(insts.iter().zip(&engines)))
            .map(|(mut r, (i, e))| {
                if r.services_up.is_some() {
                    r.services_up = running
                        .get(e)
                        .and_then(|up| up.as_ref())
                        .map(|up| up.has(i));
                }
                if let Some(e) = bad_config.get(i.parent_repo.as_path()) {
                    r.error.get_or_insert_with(|| e.clone());
                }
                r
            })
            .collect()
    })
}

/// The engines to ask with one `docker ps` each: those the stacks with a compose file run on
/// (one, the local engine, for most users).
fn engines_asked<'a>(engines: &'a [Engine], has_compose: &[bool]) -> Vec<&'a Engine> {
    let mut wanted: Vec<&Engine> = engines
        .iter()
        .zip(has_compose)
        .filter(|(_, c)| **c)
        .map(|(e, _)| e)
        .collect();
    wanted.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    wanted.dedup();
    wanted
}

/// Each parent repo's look (its config), and the config errors of those whose
/// `.sandbox.toml` does not parse.
fn parents<'a>(
    insts: &'a [Instance],
    known: Option<&Repo>,
) -> (
    BTreeMap<&'a Path, Option<Parent>>,
    BTreeMap<&'a Path, String>,
) {
    let mut repos: BTreeMap<&Path, Option<Parent>> = BTreeMap::new();
    // A .sandbox.toml that does not parse: its rows still show, with the error, never as a
    // sandbox without ports.
    let mut bad_config: BTreeMap<&Path, String> = BTreeMap::new();
    for i in insts {
        repos.entry(i.parent_repo.as_path()).or_insert_with(|| {
            let repo = match known.filter(|k| k.root == i.parent_repo) {
                Some(k) => k.clone(),
                None => Repo::discover(&i.parent_repo).ok()?,
            };
            let cfg = Config::load(&repo.root).unwrap_or_else(|e| {
                bad_config.insert(i.parent_repo.as_path(), format!("{e:#}"));
                Config::default()
            });
            Some(Parent::of(repo, cfg))
        });
    }
    (repos, bad_config)
}

type Asked<'a> = Vec<(
    &'a Engine,
    std::thread::ScopedJoinHandle<'a, Result<compose::owner::Running, String>>,
)>;

/// Each engine's running stacks; an engine that does not answer leaves its services unknown
/// (null), never "down", and is said once.
fn answers<'a>(asked: Asked<'a>) -> HashMap<&'a Engine, Option<compose::owner::Running>> {
    asked
        .into_iter()
        .map(|(e, h)| {
            let r = h.join().unwrap_or_else(|_| Err("docker ps failed".into()));
            if let Err(err) = &r {
                let on = if e.is_local() {
                    String::new()
                } else {
                    format!(" (engine {})", e.shown())
                };
                ui::warn(&format!(
                    "{err}{on}; whether services run is unknown (SERVICES shows -)"
                ));
            }
            (e, r.ok())
        })
        .collect()
}

fn empty_row(i: &Instance) -> Row {
    Row {
        name: i.name.clone(),
        id: i.id.clone(),
        kind: i.kind,
        slot: i.slot,
        state: i.state,
        path: i.path.display().to_string(),
        parent_repo: i.parent_repo.display().to_string(),
        branch: i.branch.clone(),
        detached_at: None,
        created_branch: i.created_branch,
        base_commit: i.base_commit.clone(),
        created_at: i.created_at.clone(),
        missing: std::fs::symlink_metadata(&i.path).is_err(),
        invalid: None,
        ports: BTreeMap::new(),
        dirty: None,
        upstream: None,
        unpushed: None,
        never_pushed: i.pushed.is_none(),
        pushed: i.pushed.clone(),
        integrated: None,
        setup: i.setup_state(),
        made_by: i.maker(),
        services_up: None,
        error: None,
        engine: Some(engine::of(i)).filter(|e| !e.is_local()),
    }
}

fn row(i: &Instance, ctx: Option<&Parent>, has_compose: bool, many: bool) -> Row {
    let mut r = empty_row(i);
    let Some(parent) = ctx else {
        r.error = Some(format!(
            "the parent repo {} is gone",
            i.parent_repo.display()
        ));
        return r;
    };
    let repo = &parent.repo;
    for p in parent.cfg.ports_for(i.slot) {
        r.ports.insert(p.label(), p.port);
    }
    if r.missing {
        return r;
    }
    crate::timings::step("row: start");
    if let Err(e) = target::verify(repo, i) {
        r.invalid = Some(format!("{e:#}"));
        return r;
    }
    crate::timings::step("row: verify");
    if has_compose {
        r.services_up = Some(false);
    }
    let (status, look) = look::look(parent, i, many);
    crate::timings::step("row: look");
    match status {
        Ok(st) => from_status(&mut r, parent, i, &st, look),
        Err(e) => r.error = Some(format!("{e:#}")),
    }
    r
}

/// The row's git half, from the status (and the count taken beside it).
fn from_status(r: &mut Row, parent: &Parent, i: &Instance, st: &git::Status, mut look: Look) {
    r.dirty = Some(Dirty {
        staged: st.staged.len(),
        unstaged: st.unstaged.len(),
        untracked: st.untracked.len(),
        conflicted: st.conflicted.len(),
    });
    // Detached: no branch is checked out, whatever the registry recorded.
    r.detached_at = st.head.clone().filter(|_| st.branch.is_none());
    if st.branch.is_some() || r.detached_at.is_some() {
        r.branch = st.branch.clone();
    }
    // The tool made the registered branch only; another one checked out by hand is not.
    r.created_branch &= st.branch == i.branch;
    r.upstream = st.upstream.as_ref().map(|u| Upstream {
        name: u.clone(),
        ahead: st.ahead,
        behind: st.behind,
        gone: st.upstream_gone,
    });
    // A branch on any remote (a second one too) has been pushed, tracked or not. By ref
    // names only: the cost follows the number of refs, never the history's length.
    r.never_pushed = !parent.repo.upstream_pushes(st)
        && i.pushed.is_none()
        && !look.on_remote(parent, st, &i.path);
    match look.unpushed(parent, st) {
        Some(Ok(n)) => r.unpushed = Some(n),
        Some(Err(e)) => r.error = Some(format!("{e:#}")),
        None => {}
    }
    r.integrated = look.integrated(parent, st, i);
}
