//! `rm [NAME]`: remove a sandbox without losing work (also `local-prod rm`).
//!
//! Choose the target (never "the current directory" as such), verify its path, take its
//! index lock, assess it, plan, show, refuse or confirm, stop its services (`commands/stack.rs`:
//! its own volumes are kept with the trash state unless `--delete-volumes`), then hand over to
//! [`crate::removal::steps`] (quarantine, re-check, save, act).

mod refusal;

use std::path::Path;

use anyhow::Result;

use crate::cli::{RmArgs, RmFlags};
use crate::commands::{Ctx, stack};
use crate::config::Config;
use crate::error::UserError;
use crate::git::{IndexLock, Repo};
use crate::json::{self, rm::Outcome};
use crate::registry::{Instance, Kind, State};
use crate::removal::plan::{self, Plan};
use crate::removal::present;
use crate::removal::steps::{self, Done, Job};
use crate::safety::{self, Report};
use crate::target;
use crate::timings::step;
use crate::ui::{self, Style};

/// The options of a removal (the same flags for `rm` and `local-prod rm`).
pub type Options = RmFlags;

pub fn run(ctx: &Ctx, args: RmArgs) -> Result<i32> {
    // A broken config must not block a removal: safe stand-ins (nothing ignored deleted).
    let repo = ctx.repo()?;
    let mut cfg = Config::load_or_safe(&repo.root);
    // `--yes` confirms the removal; it approves none of the config's requests.
    crate::trust::settle(
        &mut cfg,
        &repo,
        &ctx.reg,
        crate::trust::Consent::stored_only(),
    );
    let data = ctx.reg.load()?;
    if args.if_sandbox && target::by_cwd(&repo, &data, &ctx.cwd).is_err() {
        ui::info(&format!(
            "note: {} is not inside a sandbox; nothing to remove (--if-sandbox)",
            ctx.cwd.display()
        ));
        return Ok(0);
    }
    let inst = ctx.sandbox(&repo, &data, args.name.as_deref())?;
    remove(ctx, &repo, &cfg, &inst, args.flags)
}

/// Removes one instance after every check.
pub fn remove(ctx: &Ctx, repo: &Repo, cfg: &Config, inst: &Instance, opts: Options) -> Result<i32> {
    check_state(inst)?;
    // Its stack is stopped on the engine it runs on, whatever the shell says.
    crate::engine::select_for(inst);
    let path = target::verify(repo, inst)?;
    step("target, verify");
    let (lock, others, report) = look(ctx, repo, cfg, inst, &path, opts.dry_run)?;
    let plan = plan::decide(inst, &report, &opts);
    announce(ctx, inst, &path, &report, &plan, &opts);
    let delete_volumes = stack::delete_volumes(cfg, &opts);
    let services = stack::services_for(cfg, inst, &path, &plan, &opts, delete_volumes)?;
    step("plan, announce");
    let lines = present::steps(
        &plan,
        &path.display().to_string(),
        services.as_ref().map(|s| s.0.as_str()),
        inst.slot,
    );
    let facts = json::rm::Facts {
        inst,
        path: &path,
        report: &report,
        plan: &plan,
        steps: &lines,
        volumes: services.as_ref().and_then(|s| s.1.as_ref()),
        delete_volumes,
    };
    if let Some(code) = gate(&facts, &opts)? {
        return Ok(code);
    }
    crate::fault::point("rm:confirmed")?;
    super::setup::teardown(repo, cfg, &ctx.reg, inst, &path, opts.force)?;
    // Without a compose file there was nothing to stop: no services in the JSON either.
    let mut stopped = stack::stop(cfg, inst, &path, &opts, delete_volumes)?;
    step("teardown, services");
    let recorded = stopped
        .as_ref()
        .map(|d| d.recorded.clone())
        .unwrap_or_default();
    let job = Job {
        repo,
        reg: &ctx.reg,
        cfg,
        inst,
        path: &path,
        others: &others,
        volumes: &recorded,
    };
    let done = steps::carry_out(&job, &report, &plan, lock)
        .map_err(|e| refusal::late(&facts, &opts, e))?;
    // `--delete-volumes`: only now that the removal is done.
    if let Some(d) = stopped.as_mut() {
        stack::delete_now(d);
    }
    tell(ctx, repo, inst, &plan, &done, &opts, &path);
    let down = stopped.as_ref().filter(|_| services.is_some());
    done_json(&facts, &opts, &done, down)?;
    step("report");
    Ok(0)
}

/// The first look, the worktree's index held: the other entries, and what would be lost.
fn look(
    ctx: &Ctx,
    repo: &Repo,
    cfg: &Config,
    inst: &Instance,
    path: &Path,
    dry_run: bool,
) -> Result<(IndexLock, Vec<Instance>, Report)> {
    let lock = hold_index(repo, inst, path)?;
    let others = ctx.reg.load()?.instances;
    step("registry read");
    let report = safety::assess(&safety::Subject {
        repo,
        inst,
        dir: path,
        cfg,
        others: &others,
        quarantined: false,
        dry_run,
    })?;
    Ok((lock, others, report))
}

/// Takes the worktree's `index.lock`, held from the first look to the last step: a `git
/// commit` there now fails loudly. (A fresh checkout's racily clean index is healed by the
/// first look's own status, which checks every racy entry anyway: `git/heal.rs`, no git lock.)
fn hold_index(repo: &Repo, inst: &Instance, path: &Path) -> Result<IndexLock> {
    crate::git::stop_heal_helper(path);
    step("stop heal helper");
    let lock = IndexLock::take(&repo.admin_dir(inst.admin()), path);
    step("index lock");
    lock
}

/// The gate before anything changes: a refusal (its JSON, then the error), a dry run (its
/// JSON: exit 0) or a "no" (exit 1) end here; `None` goes on.
fn gate(facts: &json::rm::Facts, opts: &Options) -> Result<Option<i32>> {
    if let Some(r) = &facts.plan.refusal {
        json_out(
            facts,
            opts,
            Outcome::Refused,
            Some(json::rm::Refusal::of(r)),
        )?;
        return Err(refusal::refusal(facts.inst, facts.report, r, facts.path));
    }
    match ask(facts.inst, opts, facts.steps)? {
        Answer::Go => Ok(None),
        Answer::DryRun => json_out(facts, opts, Outcome::DryRun, None).map(|_| Some(0)),
        Answer::Declined => Ok(Some(1)),
    }
}

/// `--json` after the removal: what was done, and the services' report.
fn done_json(
    facts: &json::rm::Facts,
    opts: &Options,
    done: &Done,
    down: Option<&crate::compose::removal::DownReport>,
) -> Result<()> {
    if !opts.json {
        return Ok(());
    }
    let outcome = if facts.plan.remove_worktree {
        Outcome::Removed
    } else {
        Outcome::Unregistered
    };
    json::print(&json::rm::Rm::of(facts, outcome, None).with_done(done, down))
}

/// Says what is removed and where, and shows the report and the notes.
fn announce(ctx: &Ctx, inst: &Instance, path: &Path, report: &Report, plan: &Plan, opts: &Options) {
    ui::info(&format!("{} at {}", who(inst), path.display()));
    if !ctx.cwd.starts_with(path) {
        ui::detail(&format!("(the current directory is {})", ctx.cwd.display()));
    }
    for p in crate::procs::pipeline_in(path) {
        ui::info(&format!(
            "not counted: {} (pid {}), part of this command's own pipeline",
            p.name, p.pid
        ));
    }
    show(report, plan, opts);
}

/// With `--json`: the JSON of a removal that stopped before acting.
fn json_out(
    facts: &json::rm::Facts,
    opts: &Options,
    outcome: Outcome,
    refusal: Option<json::rm::Refusal>,
) -> Result<()> {
    if !opts.json {
        return Ok(());
    }
    json::print(&json::rm::Rm::of(facts, outcome, refusal))
}

/// How messages name the instance: `sandbox NAME`, or `local-prod` (whose name is its kind).
fn who(inst: &Instance) -> String {
    if inst.kind == Kind::LocalProd {
        "local-prod".into()
    } else {
        format!("sandbox {}", inst.name)
    }
}

fn check_state(inst: &Instance) -> Result<()> {
    let busy = inst.pid.filter(|&p| crate::procs::alive_git_sandbox(p));
    if let (false, Some(pid)) = (inst.state == State::Ready, busy) {
        let doing = match inst.state {
            State::Creating => "created",
            _ => "removed",
        };
        return Err(UserError::refused(format!(
            "{} is being {doing} by another git-sandbox (pid {pid}) right now",
            inst.id
        ))
        .hint("wait for it to finish, then try again if the sandbox is still there")
        .into());
    }
    if inst.state != State::Ready {
        return Err(UserError::new(format!(
            "{} is {} (an earlier command was interrupted)",
            inst.id,
            if inst.state == State::Creating {
                "half-created"
            } else {
                "half-removed"
            }
        ))
        .hint("run `git sandbox prune` to finish or roll that back")
        .into());
    }
    if std::fs::symlink_metadata(&inst.path).is_err() {
        return Err(UserError::new(format!(
            "the directory of {} ({}) is gone",
            inst.name,
            inst.path.display()
        ))
        .hint("run `git sandbox prune` to drop its registry entry")
        .into());
    }
    Ok(())
}

fn show(report: &Report, plan: &Plan, opts: &Options) {
    let lines = present::report_lines(report);
    if !lines.is_empty() && !opts.keep_worktree {
        ui::info("what removing it would touch:");
        for l in &lines {
            ui::info(l);
        }
    }
    if plan.refusal.is_none() {
        for n in &plan.notes {
            ui::warn(n);
        }
    }
}

/// Asks on a terminal; says what is about to go when forced without a question.
enum Answer {
    Go,
    DryRun,
    Declined,
}

fn ask(inst: &Instance, opts: &Options, lines: &[String]) -> Result<Answer> {
    if opts.dry_run {
        ui::info("dry run; it would:");
        for s in lines {
            ui::info(&format!("  - {s}"));
        }
        return Ok(Answer::DryRun);
    }
    if opts.yes {
        if opts.force {
            ui::info("removing (--force):");
            for s in lines {
                ui::info(&format!("  - {s}"));
            }
        }
        return Ok(Answer::Go);
    }
    // `--force` overrides what would be lost, never the confirmation: a script says `--yes`.
    if !ui::interactive() {
        let forced = if opts.force { " (--force too)" } else { "" };
        return Err(UserError::usage(format!(
            "not removing {} without confirmation{forced}: there is no terminal to ask on",
            inst.name
        ))
        .hint("pass --yes to confirm")
        .into());
    }
    ui::info("this will:");
    for s in lines {
        ui::info(&format!("  - {s}"));
    }
    if !ui::confirm(&format!("Remove {}?", who(inst))) {
        ui::info("nothing was changed");
        return Ok(Answer::Declined);
    }
    Ok(Answer::Go)
}

fn tell(
    ctx: &Ctx,
    repo: &Repo,
    inst: &Instance,
    plan: &Plan,
    done: &Done,
    opts: &Options,
    path: &Path,
) {
    for l in &done.late {
        ui::warn(&format!("appeared after the check, saved too: {l}"));
    }
    if let Some(r) = &done.saved_ref {
        ui::info(&format!("saved its commits and work as {r}"));
    }
    if done.kept_whole {
        ui::warn(
            "a process or container was still running in it, so its whole tree is kept in the trash directory (nothing of it was deleted)",
        );
    }
    if let Some(t) = &done.trash_dir {
        ui::info(&format!(
            "kept {} file(s), {}, in {}",
            done.kept_files,
            safety::human_bytes(done.kept_bytes),
            t.display()
        ));
    }
    if done.saved_ref.is_some() {
        ui::info(&format!(
            "  bring it back with: git sandbox restore {}",
            inst.name
        ));
    }
    if done.branch_deleted
        && let Some((b, _)) = &plan.delete_branch
    {
        ui::info(&format!("deleted branch {b}"));
    }
    let verb = if opts.keep_worktree {
        "unregistered"
    } else {
        "removed"
    };
    ui::info(&format!(
        "{} {}",
        ui::paint_err(Style::Green, verb),
        who(inst)
    ));
    if plan.remove_worktree && ctx.cwd.starts_with(path) {
        ui::info(&format!(
            "your shell was inside it: cd {}",
            repo.root.display()
        ));
    }
}
