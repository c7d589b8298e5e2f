//! `prune --merged [--dry-run]`: remove every clean sandbox whose branch is integrated into the
//! default branch, each through `rm`'s whole gate (never forced), and leave every other one
//! untouched with the reason.
//!
//! A squash- or rebase-merged branch's own commits are on no remote and no other branch, so
//! plain `rm` would refuse them; their work is in the default branch, so here the branch the
//! tool created is deleted after its tip is saved in the trash state (as `rm --delete-branch`
//! does), and `git sandbox restore` brings it back. Everything else `rm` refuses (uncommitted
//! or untracked files, processes, nested repositories …) is still refused. Each removal asks on
//! a terminal, as `rm` does (`--yes` does not), and keeps the sandbox's volumes with its saved
//! state, as `rm` does.

use anyhow::Result;

use crate::cli::RmFlags;
use crate::commands::{Ctx, rm};
use crate::error::{EXIT_REFUSED, UserError};
use crate::git::{self, DefaultBranch, Repo, Subject, Verdict};
use crate::registry::{Instance, Kind, State};
use crate::ui;

/// What happens to one sandbox.
enum Fate {
    Goes(String),
    Stays(String),
    Failed(String),
}

pub fn run(ctx: &Ctx, dry_run: bool, yes: bool) -> Result<i32> {
    if !dry_run && !yes && !ui::interactive() {
        return Err(UserError::usage(
            "not removing merged sandboxes without confirmation: there is no terminal to ask on",
        )
        .hint("pass --yes to confirm (their volumes are kept with their saved states, as with rm)")
        .into());
    }
    let (repo, mut cfg) = ctx.repo_config()?;
    crate::trust::settle(
        &mut cfg,
        &repo,
        &ctx.reg,
        crate::trust::Consent::stored_only(),
    );
    let Some(default) = repo.default_branch()? else {
        return Err(
            UserError::new("this repo has no default branch to compare with")
                .hint("it looks for the remote's HEAD, init.defaultBranch, main and master")
                .into(),
        );
    };
    ui::info(&format!(
        "integrated means: its work is in {}",
        default.name
    ));
    let mut insts: Vec<Instance> = ctx.reg.load()?.of_repo(&repo.root).cloned().collect();
    insts.sort_by(|a, b| a.name.cmp(&b.name));
    let mut fates = Vec::new();
    for inst in &insts {
        let fate = match candidate(&repo, inst, &default) {
            Err(why) => Fate::Stays(why),
            Ok(how) => remove(ctx, &repo, &cfg, inst, (dry_run, yes), how),
        };
        fates.push((inst.name.clone(), fate));
    }
    Ok(summary(&fates, dry_run))
}

/// Why `inst` is not a candidate, or how its branch was integrated.
fn candidate(repo: &Repo, inst: &Instance, default: &DefaultBranch) -> Result<String, String> {
    if inst.kind == Kind::LocalProd {
        return Err("local-prod is never pruned".into());
    }
    if inst.state != State::Ready || inst.moving.is_some() {
        return Err("an earlier command was interrupted (`git sandbox prune` repairs it)".into());
    }
    let Some(head) = git::worktree_head(&inst.path) else {
        return Err("its directory is missing or has no commit".into());
    };
    let branch = git::worktree_branch(&inst.path);
    let subject = Subject {
        branch: branch.as_deref(),
        tip: &head,
        base: inst.base_commit.as_deref(),
    };
    match repo.integration(&subject, default) {
        Ok(Verdict::Integrated { how, into }) => {
            Ok(format!("{}, into {}", how.as_str(), short(&into)))
        }
        Ok(Verdict::NoCommits) => Err("no commits of its own".into()),
        Ok(Verdict::Itself {
            name,
            at_tip: false,
        }) => Err(format!(
            "it is {name}, the default branch: never merged into itself"
        )),
        Ok(Verdict::Itself { name, at_tip: true }) => Err(format!(
            "it is at {name}'s tip: never counted as merged into itself (it is once {name} moves on)"
        )),
        Ok(Verdict::NothingToMerge { only_here: true }) => {
            Err("nothing to merge; its commits are only here".into())
        }
        Ok(Verdict::NothingToMerge { only_here: false }) => {
            Err("nothing to merge (its changes undo themselves)".into())
        }
        Ok(Verdict::Reverted { into }) => Err(format!(
            "merged into {}, then reverted there: its changes are not all in it",
            short(&into)
        )),
        Ok(Verdict::NotIntegrated) => Err("not merged".into()),
        Err(e) => Err(format!("could not tell: {e:#}")),
    }
}

/// Runs `rm`'s gate on one integrated sandbox (as a dry run with `dry_run`).
fn remove(
    ctx: &Ctx,
    repo: &Repo,
    cfg: &crate::config::Config,
    inst: &Instance,
    (dry_run, yes): (bool, bool),
    how: String,
) -> Fate {
    ui::info(&format!("--- {} ({how})", inst.name));
    let opts = RmFlags {
        yes,
        dry_run,
        // Its work is in the default branch: the branch the tool made goes, its tip saved.
        delete_branch: inst.created_branch,
        ..Default::default()
    };
    match rm::remove(ctx, repo, cfg, inst, opts) {
        Ok(0) => Fate::Goes(how),
        Ok(1) => Fate::Stays("not confirmed".into()),
        Ok(code) => Fate::Failed(format!("rm exited {code}")),
        Err(e) => {
            let user = e.chain().find_map(|c| c.downcast_ref::<UserError>());
            match user {
                Some(u) if u.code == EXIT_REFUSED => {
                    Fate::Stays(format!("rm refused: {}", u.message))
                }
                _ => Fate::Failed(format!("{e:#}")),
            }
        }
    }
}

/// Prints what went (or would go) and what stays, and why; 1 if a removal failed.
fn summary(fates: &[(String, Fate)], dry_run: bool) -> i32 {
    let (goes, stays) = if dry_run {
        ("would remove", "would keep")
    } else {
        ("removed", "kept")
    };
    let mut failed = false;
    for (name, fate) in fates {
        match fate {
            Fate::Goes(how) => ui::info(&format!("{goes} {name}: merged ({how})")),
            Fate::Stays(why) => ui::info(&format!("{stays} {name}: {why}")),
            Fate::Failed(why) => {
                failed = true;
                ui::warn(&format!("{name}: removing it failed: {why}"));
            }
        }
    }
    if fates.is_empty() {
        ui::info("no sandboxes");
    }
    i32::from(failed)
}

/// `refs/heads/main` → `main`, `refs/remotes/origin/main` → `origin/main`.
fn short(refname: &str) -> &str {
    refname
        .strip_prefix("refs/heads/")
        .or_else(|| refname.strip_prefix("refs/remotes/"))
        .unwrap_or(refname)
}
