//! The JSON of `rm --json` (and `--dry-run --json`, `local-prod rm --json`): the loss report,
//! the plan as data and as the lines the user sees, the refusal if any, and what was done.
//! It is built from the same report and plan the removal acts on.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;

use super::Version;
use crate::compose::removal::{DownReport, VolumePlan};
use crate::registry::{Instance, Kind, Pushed};
use crate::removal::plan::Plan;
use crate::removal::steps::Done;
use crate::safety::Report;

/// `rm --json`.
#[derive(Serialize, JsonSchema)]
pub struct Rm {
    pub version: Version,
    pub name: String,
    pub id: String,
    pub kind: Kind,
    pub path: String,
    pub outcome: Outcome,
    /// Why it was not removed (`outcome` is `refused`; exit 3).
    pub refusal: Option<Refusal>,
    pub report: LossReport,
    pub plan: PlanOut,
    /// What was done (`outcome` is `removed` or `unregistered`).
    pub done: Option<DoneOut>,
}

/// How the command ended.
#[derive(Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// `--dry-run`: nothing was changed; `plan` is what it would do.
    DryRun,
    /// Refused (exit 3), nothing was changed; `refusal` says why.
    Refused,
    /// Removed; `done` says how.
    Removed,
    /// `--keep-worktree`: services stopped and the entry dropped; the directory is in place.
    Unregistered,
}

/// Why a removal stops.
#[derive(Serialize, JsonSchema)]
pub struct Refusal {
    /// `--force` does not override it (another worktree or sandbox inside, a mount point).
    pub hard: bool,
    pub reasons: Vec<String>,
}

/// What removing would lose or touch, as `rm` shows it.
#[derive(Serialize, JsonSchema)]
pub struct LossReport {
    pub branch: Option<String>,
    pub head: Option<String>,
    pub upstream: Option<String>,
    pub ahead: u32,
    pub behind: u32,
    pub staged: Vec<String>,
    pub unstaged: Vec<String>,
    pub conflicted: Vec<String>,
    pub untracked: Vec<String>,
    /// Edits hidden by `--assume-unchanged`/`--skip-worktree`.
    pub hidden: Vec<String>,
    /// Commits on no remote-tracking ref.
    pub unpushed: u32,
    /// Of those, the ones on no other local branch either.
    pub unmerged_unpushed: u32,
    pub never_pushed: bool,
    /// Remote-tracking refs named after the branch, on any remote (`backup/feature`),
    /// whether or not one is its upstream.
    #[serde(default)]
    pub remote_refs: Vec<String>,
    /// Commits only the worktree's HEAD reflog holds (kept in the trash state).
    pub reflog_only: Vec<String>,
    /// The lock reason, when the worktree is locked (`""` without one).
    pub locked: Option<String>,
    /// A merge, rebase, cherry-pick, revert, `am` or bisect in progress (`"a merge"`), whose
    /// state a forced removal saves and `restore` brings back.
    #[serde(default)]
    pub operation: Option<String>,
    pub submodules: Vec<String>,
    pub nested_repos: Vec<String>,
    pub worktrees_inside: Vec<String>,
    pub sandboxes_inside: Vec<String>,
    pub mounts: Vec<String>,
    pub special_files: Vec<String>,
    pub empty_dirs: Vec<String>,
    /// Files and directories whose permissions git would not restore (kept in the trash dir).
    pub odd_modes: Vec<String>,
    pub unreadable_names: Vec<String>,
    pub processes: Vec<Process>,
    /// How far the look for processes and containers could see.
    pub process_check: ProcessCheck,
    /// Ignored paths: kept in the trash directory, or deleted when disposable.
    pub ignored: Vec<Ignored>,
    pub pushed: Option<Pushed>,
}

/// A process working inside the sandbox, or a container (another mount namespace) with a bind
/// mount of it or of something inside it.
#[derive(Serialize, JsonSchema)]
pub struct Process {
    pub pid: u32,
    pub name: String,
    /// `cwd`, `root`, the path of a file it holds open, or the bind mount that reaches it.
    pub holds: String,
    /// The mount namespace it lives in (`mnt:[…]`, or `container <id>` when only its engine
    /// could see it), when it is not ours: a container, named by its engine or not.
    pub mount_namespace: Option<String>,
    /// The container, when an engine named it.
    pub container: Option<Container>,
}

/// A container, as its engine names it.
#[derive(Serialize, JsonSchema)]
pub struct Container {
    /// `docker` or `podman`.
    pub engine: String,
    pub id: String,
    pub name: String,
    pub image: String,
}

/// How far the look for processes and containers could see.
#[derive(Serialize, JsonSchema)]
pub struct ProcessCheck {
    /// Processes whose mount namespace could not be read.
    pub unreadable: u32,
    /// The container engines that answered (their containers were checked through them).
    pub engines: Vec<String>,
    /// Said when a container could have been missed (unreadable processes, no engine).
    pub partial: Option<String>,
}

/// An ignored path (a directory ends in `/`).
#[derive(Serialize, JsonSchema)]
pub struct Ignored {
    pub path: String,
    pub files: u64,
    pub bytes: u64,
    pub disposable: bool,
}

/// The plan: what the removal does, in order.
#[derive(Serialize, JsonSchema)]
pub struct PlanOut {
    /// The steps as the user sees them.
    pub steps: Vec<String>,
    /// `--kill`: processes stopped first.
    pub stop_processes: Vec<Process>,
    /// The services step (null without a compose file, or when the engine's volumes could
    /// not be read for a refusal).
    pub services: Option<Services>,
    /// Uncommitted work is snapshotted into the trash state.
    pub save_snapshot: bool,
    /// Paths moved into the trash directory's `kept/`.
    pub keep: Vec<String>,
    /// Disposable ignored paths deleted.
    pub dispose: Vec<String>,
    pub branch: Option<Branch>,
    pub remove_worktree: bool,
    pub free_slot: u32,
    pub force: bool,
    /// What the user should know (why the branch is kept).
    pub notes: Vec<String>,
}

/// The compose step of a removal.
#[derive(Serialize, JsonSchema)]
pub struct Services {
    /// The sandbox's own volumes (those labelled as its) and the anonymous ones its
    /// containers mount, deleted with `--delete-volumes`.
    pub delete_volumes: Vec<String>,
    /// Volumes kept, and why: its own, with the saved state (the default); and those that
    /// are not its (no label of its own), never deleted.
    pub keep_volumes: BTreeMap<String, String>,
}

/// The branch's fate.
#[derive(Serialize, JsonSchema)]
pub struct Branch {
    pub name: String,
    pub delete: bool,
    /// The tip it is deleted at (compare-and-delete).
    pub tip: Option<String>,
    /// Why it is kept, when it is.
    pub reason: Option<String>,
}

/// What a removal did.
#[derive(Serialize, JsonSchema)]
pub struct DoneOut {
    /// The trash state: `refs/sandbox/trash/<id>/<time>` (`git sandbox restore` reads it).
    pub trash_ref: Option<String>,
    /// The trash directory holding kept files, if any were kept.
    pub trash_dir: Option<String>,
    pub kept_files: u64,
    pub kept_bytes: u64,
    pub branch_deleted: bool,
    /// Files that appeared after the check and joined the save (`--force`).
    pub late: Vec<String>,
    /// A process was still inside, so the whole tree was kept.
    pub kept_whole: bool,
    /// What stopping the services did (null without a compose file or when it failed).
    pub services: Option<ServicesDone>,
}

/// What `down` did.
#[derive(Serialize, JsonSchema)]
pub struct ServicesDone {
    pub stopped: bool,
    pub deleted_volumes: Vec<String>,
    pub kept_volumes: BTreeMap<String, String>,
}

/// What the JSON is made of: the same values the removal acts on.
pub struct Facts<'a> {
    pub inst: &'a Instance,
    pub path: &'a Path,
    pub report: &'a Report,
    pub plan: &'a Plan,
    pub steps: &'a [String],
    pub volumes: Option<&'a VolumePlan>,
    pub delete_volumes: bool,
}

impl Rm {
    /// The JSON for `f`, ending in `outcome`.
    pub fn of(f: &Facts, outcome: Outcome, refusal: Option<Refusal>) -> Rm {
        Rm {
            version: Version,
            name: f.inst.name.clone(),
            id: f.inst.id.clone(),
            kind: f.inst.kind,
            path: f.path.display().to_string(),
            outcome,
            refusal,
            report: loss_report(f.report),
            plan: plan(f),
            done: None,
        }
    }

    /// Adds what the removal did.
    pub fn with_done(mut self, done: &Done, down: Option<&DownReport>) -> Rm {
        self.done = Some(DoneOut {
            trash_ref: done.saved_ref.clone(),
            trash_dir: done.trash_dir.as_ref().map(|d| d.display().to_string()),
            kept_files: done.kept_files,
            kept_bytes: done.kept_bytes,
            branch_deleted: done.branch_deleted,
            late: done.late.clone(),
            kept_whole: done.kept_whole,
            services: down.map(|d| ServicesDone {
                stopped: d.stopped,
                deleted_volumes: d.deleted.clone(),
                kept_volumes: d.kept.iter().cloned().collect(),
            }),
        });
        self
    }
}

impl Refusal {
    pub fn of(r: &crate::removal::plan::Refusal) -> Refusal {
        Refusal {
            hard: r.hard,
            reasons: r.reasons.clone(),
        }
    }
}

fn process(p: &crate::procs::Proc) -> Process {
    Process {
        pid: p.pid,
        name: p.name.clone(),
        holds: p.holds.clone(),
        mount_namespace: p.ns.clone(),
        container: p.container.as_ref().map(|c| Container {
            engine: c.engine.clone(),
            id: c.id.clone(),
            name: c.name.clone(),
            image: c.image.clone(),
        }),
    }
}

fn loss_report(r: &Report) -> LossReport {
    let (s, f) = (&r.status, &r.found);
    LossReport {
        branch: s.branch.clone(),
        head: s.head.clone(),
        upstream: s.upstream.clone(),
        ahead: s.ahead,
        behind: s.behind,
        staged: s.staged.clone(),
        unstaged: s.unstaged.clone(),
        conflicted: s.conflicted.clone(),
        untracked: s.untracked.clone(),
        hidden: r.hidden.clone(),
        unpushed: r.unpushed,
        unmerged_unpushed: r.unmerged_unpushed,
        never_pushed: r.never_pushed,
        remote_refs: r.remote_refs.clone(),
        reflog_only: r.reflog_only.clone(),
        locked: r.locked.clone(),
        operation: r.operation.clone(),
        submodules: f.submodules.clone(),
        nested_repos: f.nested_repos.clone(),
        worktrees_inside: f.worktrees.clone(),
        sandboxes_inside: r.instances_inside.clone(),
        mounts: f.mounts.clone(),
        special_files: f.specials.clone(),
        empty_dirs: f.empty_dirs.clone(),
        odd_modes: f.odd_modes.clone(),
        unreadable_names: f.unreadable_names.clone(),
        processes: r.processes.iter().map(process).collect(),
        process_check: ProcessCheck {
            unreadable: u32::try_from(r.process_check.unreadable.len()).unwrap_or(u32::MAX),
            engines: r.process_check.engines.clone(),
            partial: r.process_check.partial(),
        },
        ignored: r
            .ignored
            .iter()
            .map(|i| Ignored {
                path: i.path.clone(),
                files: i.files,
                bytes: i.bytes,
                disposable: i.disposable,
            })
            .collect(),
        pushed: r.pushed.clone(),
    }
}

fn plan(f: &Facts) -> PlanOut {
    let p = f.plan;
    PlanOut {
        steps: f.steps.to_vec(),
        stop_processes: p.kill.iter().map(process).collect(),
        services: f.volumes.map(|v| services(v, f.delete_volumes)),
        save_snapshot: p.save_snapshot,
        keep: p.keep.clone(),
        dispose: p.dispose.clone(),
        branch: branch(f),
        remove_worktree: p.remove_worktree,
        free_slot: f.inst.slot,
        force: p.force,
        notes: p.notes.clone(),
    }
}

fn services(v: &VolumePlan, delete: bool) -> Services {
    let mine = v.own.iter().chain(&v.anonymous).cloned();
    Services {
        delete_volumes: if delete { mine.collect() } else { Vec::new() },
        keep_volumes: v.kept(delete).into_iter().collect(),
    }
}

/// The branch the plan deletes, or the registered one it keeps and the note saying why.
fn branch(f: &Facts) -> Option<Branch> {
    if let Some((name, tip)) = &f.plan.delete_branch {
        return Some(Branch {
            name: name.clone(),
            delete: true,
            tip: Some(tip.clone()),
            reason: None,
        });
    }
    let name = f.inst.branch.clone()?;
    let prefix = format!("keeping branch {name}: ");
    let reason = f
        .plan
        .notes
        .iter()
        .find_map(|n| n.strip_prefix(&prefix).map(String::from))
        .or_else(|| (!f.plan.remove_worktree).then(|| "--keep-worktree".to_string()));
    Some(Branch {
        name,
        delete: false,
        tip: None,
        reason,
    })
}
