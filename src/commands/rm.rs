//! `rm [NAME]`: remove a sandbox without losing work (also `local-prod rm`).
//!
//! Order: choose the target (never "the current directory" as such), verify its path, compute
//! what would be lost and show it, refuse (exit 3) on uncommitted work, a lock or submodules
//! unless `--force`, decide the branch's fate, confirm, stop services, then hand over to
//! `sandbox::remove`, which saves before it destroys.

use anyhow::Result;

use crate::cli::{RmArgs, RmFlags};
use crate::commands::Ctx;
use crate::compose;
use crate::config::Config;
use crate::error::UserError;
use crate::git::Repo;
use crate::registry::{Instance, State};
use crate::safety;
use crate::sandbox::{self, RemovePlan};
use crate::target;
use crate::ui::{self, Style};

/// The options of a removal (the same flags for `rm` and `local-prod rm`).
pub type Options = RmFlags;

pub fn run(ctx: &Ctx, args: RmArgs) -> Result<i32> {
    let (repo, cfg) = ctx.repo_config()?;
    let data = ctx.reg.load()?;
    let inst = ctx.sandbox(&repo, &data, args.name.as_deref())?;
    remove(ctx, &repo, &cfg, &inst, args.flags)
}

/// Removes one instance after every check.
pub fn remove(ctx: &Ctx, repo: &Repo, cfg: &Config, inst: &Instance, opts: Options) -> Result<i32> {
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
    let path = target::verify(repo, inst)?;
    let report = safety::assess(repo, inst, &path, &cfg.env_file)?;
    let what = if inst.kind == crate::registry::Kind::LocalProd {
        "local-prod"
    } else {
        "sandbox"
    };
    ui::info(&format!("{what} {} at {}", inst.name, path.display()));
    if !ctx.cwd.starts_with(&path) {
        ui::detail(&format!("(the current directory is {})", ctx.cwd.display()));
    }
    let lines = report.lines();
    if !lines.is_empty() && !opts.keep_worktree {
        ui::info("what removing it would touch:");
        for l in &lines {
            ui::info(l);
        }
    }
    let blockers = report.blockers();
    if !blockers.is_empty() && !opts.force && !opts.keep_worktree {
        let mut err = UserError::refused(format!(
            "refusing to remove {}: {}",
            inst.name,
            blockers.join("; ")
        ))
        .hint("commit or stash the work and push the branch first; or `--force` removes it anyway: uncommitted work is saved under refs/sandbox/trash (`git sandbox restore` brings it back) and an unpushed branch is kept");
        if report.locked.is_some() {
            err = err.hint(format!(
                "unlock with `git worktree unlock {}`",
                path.display()
            ));
        }
        return Err(err.into());
    }
    // The branch: deleted only if the tool made it and all of it is pushed or merged.
    let on_branch = report.status.branch.clone();
    let registered = inst.branch.clone();
    let head = report.status.head.clone();
    let mut notes = Vec::new();
    let delete_branch = if opts.keep_worktree {
        None
    } else if on_branch.is_none() || on_branch != registered {
        if let Some(b) = &registered {
            notes.push(format!("keeping branch {b}: the worktree is not on it"));
        }
        None
    } else if opts.delete_branch || (inst.created_branch && report.unmerged_unpushed == 0) {
        on_branch.clone().zip(head.clone())
    } else {
        let b = on_branch.clone().unwrap_or_default();
        if !inst.created_branch {
            notes.push(format!("keeping branch {b}: git-sandbox did not create it"));
        } else if report.never_pushed {
            notes.push(format!(
                "keeping branch {b}: it was never pushed ({} commit(s) on no remote); push it or delete it yourself",
                report.unmerged_unpushed
            ));
        } else {
            notes.push(format!(
                "keeping branch {b}: {} commit(s) are not pushed",
                report.unmerged_unpushed
            ));
        }
        None
    };
    let save = !opts.keep_worktree
        && ((opts.force && report.has_uncommitted())
            || (delete_branch.is_some() && report.unmerged_unpushed > 0));
    let plan = RemovePlan {
        save,
        delete_branch: delete_branch.clone(),
        remove_worktree: !opts.keep_worktree,
    };
    let mut steps = Vec::new();
    if compose::has_file(&path, cfg) {
        steps.push(if opts.keep_volumes {
            "stop its services (volumes kept)".to_string()
        } else {
            "stop its services and delete their volumes".to_string()
        });
    }
    if save {
        steps.push("save its uncommitted work and branch tip under refs/sandbox/trash/".into());
    }
    if plan.remove_worktree {
        steps.push(format!("delete {}", path.display()));
        if report.ignored_files > 0 {
            steps.push(format!(
                "delete {} ignored file(s) ({}), which are not saved",
                report.ignored_files,
                safety::human_bytes(report.ignored_bytes)
            ));
        }
    } else {
        steps.push(format!("leave {} and its branch in place", path.display()));
    }
    if let Some((b, _)) = &delete_branch {
        steps.push(format!("delete branch {b}"));
    }
    steps.push(format!("free slot {}", inst.slot));
    if opts.force && !report.submodules.is_empty() && plan.remove_worktree {
        notes.push(
            "work inside the submodules (their own uncommitted files and unpushed commits) is not saved"
                .into(),
        );
    }
    for n in &notes {
        ui::warn(n);
    }
    if opts.dry_run {
        ui::info("dry run; it would:");
        for s in &steps {
            ui::info(&format!("  - {s}"));
        }
        for l in compose::volume_plan(cfg, inst, &path)?.lines(opts.keep_volumes) {
            ui::info(&format!("  - {l}"));
        }
        return Ok(0);
    }
    if ui::interactive() && !opts.yes {
        ui::info("this will:");
        for s in &steps {
            ui::info(&format!("  - {s}"));
        }
        if !ui::confirm(&format!("Remove {what} {}?", inst.name)) {
            ui::info("nothing was changed");
            return Err(UserError::new("not confirmed").into());
        }
    } else if opts.force {
        // Forced without a question: say exactly what is about to go.
        ui::info("removing (--force):");
        for s in &steps {
            ui::info(&format!("  - {s}"));
        }
    } else if !ui::interactive() && !opts.yes {
        return Err(UserError::usage(format!(
            "not removing {} without confirmation: there is no terminal to ask on",
            inst.name
        ))
        .hint("pass --yes to confirm")
        .into());
    }
    match compose::down_for_removal(cfg, inst, &path, opts.keep_volumes) {
        Ok(report) => report.print(),
        Err(e) if opts.force => ui::warn(&format!(
            "could not stop its services ({e:#}); removing anyway (--force)"
        )),
        Err(e) => {
            return Err(e.context(format!(
                "stopping the services of {} failed, so it was not removed (--force removes it anyway)",
                inst.name
            )));
        }
    }
    let removed = sandbox::remove(repo, &ctx.reg, inst, &path, &plan)?;
    if let Some(r) = &removed.saved_ref {
        ui::info(&format!("saved its work as {r}"));
        ui::info(&format!(
            "  bring it back with: git sandbox restore {}",
            inst.name
        ));
    }
    if removed.branch_deleted
        && let Some((b, _)) = &delete_branch
    {
        ui::info(&format!("deleted branch {b}"));
    }
    ui::info(&format!(
        "{} {what} {}",
        ui::paint_err(
            Style::Green,
            if opts.keep_worktree {
                "unregistered"
            } else {
                "removed"
            }
        ),
        inst.name
    ));
    if plan.remove_worktree && ctx.cwd.starts_with(&path) {
        ui::info(&format!(
            "your shell was inside it: cd {}",
            repo.root.display()
        ));
    }
    Ok(0)
}
