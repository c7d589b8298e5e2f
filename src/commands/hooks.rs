//! `hooks install|uninstall|status`, and `hook post-checkout|pre-push`, which the installed
//! shims call.
//!
//! The hook handlers run on every checkout and push, so their path is tiny: no repository
//! discovery unless the current directory is a registered sandbox, and a registry read. A
//! checkout never writes the registry (the current branch is read from the worktree when
//! needed); it appends one line to a mark file the first time it warns about a branch. A push
//! writes the registry (with a lock wait of at most 200 ms) only for sandbox branches. Any failure
//! prints at most one warning line and exits 0: a hook never breaks git. The one exception is a
//! push from a sandbox to a branch the project protects (`protect = [...]` in .sandbox.toml).

use std::io::Read;
use std::time::Duration;

use anyhow::Result;

use crate::cli::{HookCommand, HooksCommand, HooksInstallArgs};
use crate::commands::Ctx;
use crate::config::Config;
use crate::git::{self, Repo};
use crate::hooks::{self, HookState, Installed, Uninstalled};
use crate::registry::{self, Pushed};
use crate::ui;

/// How long a hook waits for the registry lock.
const HOOK_LOCK_WAIT: Duration = Duration::from_millis(200);

pub fn manage(ctx: &Ctx, cmd: HooksCommand) -> Result<i32> {
    let dir = git::hooks_dir(&ctx.cwd)?;
    match cmd {
        HooksCommand::Install(HooksInstallArgs { force }) => {
            if let Some(t) = git::tracked_hooks(&ctx.cwd, &dir)? {
                return Err(tracked_refusal(&dir, &t));
            }
            for (name, what) in hooks::install(&dir, force)? {
                let msg = match what {
                    Installed::Already => "already installed",
                    Installed::Fresh => "installed",
                    Installed::Chained => "installed; the hook that was there runs first",
                };
                ui::info(&format!("{name}: {msg}"));
            }
            ui::info(&format!("hooks directory: {}", dir.display()));
        }
        HooksCommand::Uninstall => {
            for (name, what) in hooks::uninstall(&dir)? {
                let msg = match what {
                    Uninstalled::NotInstalled => "not installed",
                    Uninstalled::Removed => "removed",
                    Uninstalled::Restored => "removed; the hook that was there before is back",
                };
                ui::info(&format!("{name}: {msg}"));
            }
        }
        HooksCommand::Status => {
            for (name, st) in hooks::status(&dir) {
                let s = match st {
                    HookState::Absent => "not installed".to_string(),
                    HookState::Ours { chained: false } => "installed".to_string(),
                    HookState::Ours { chained: true } => {
                        format!("installed (runs {name}{} first)", hooks::KEPT)
                    }
                    HookState::Foreign => "another hook is there (install chains it)".to_string(),
                };
                ui::out(&format!("{name}: {s}"));
            }
            if let Some(m) = hooks::manager(&dir) {
                ui::out(&format!("note: {m}"));
            }
            if let Ok(Some(t)) = git::tracked_hooks(&ctx.cwd, &dir) {
                ui::out(&format!(
                    "note: core.hooksPath ({}) holds tracked files; `hooks install` says how to call git-sandbox from them",
                    t.configured
                ));
            }
            ui::out(&format!("directory: {}", dir.display()));
        }
    }
    Ok(0)
}

/// `core.hooksPath` is in tracked files: git-sandbox never edits them (`--force` included),
/// and says how to call it from the project's own hooks instead.
fn tracked_refusal(dir: &std::path::Path, t: &git::TrackedHooks) -> anyhow::Error {
    let p = t.configured.trim_end_matches('/');
    crate::error::UserError::new(format!(
        "not installing hooks into {}: core.hooksPath ({}) holds files the repository tracks ({} in {}), and git-sandbox never edits tracked files",
        dir.display(),
        t.configured,
        t.files.join(", "),
        t.worktree.display()
    ))
    .hint(format!(
        "call git-sandbox from the project's hooks instead; in {p}/post-checkout:\n    if command -v git-sandbox >/dev/null 2>&1; then git-sandbox hook post-checkout \"$@\"; fi"
    ))
    .hint(format!(
        "and at the top of {p}/pre-push (it passes the pushed refs on; read \"$input\" after it):\n    input=$(cat)\n    if command -v git-sandbox >/dev/null 2>&1; then printf '%s\\n' \"$input\" | git-sandbox hook pre-push \"$@\" || exit $?; fi"
    ))
    .into()
}

/// Runs a hook handler. An error is turned into one warning line and exit 0 by `main`, for
/// this and for anything that fails before it (only a protected push exits non-zero).
pub fn run(ctx: &Ctx, cmd: HookCommand) -> Result<i32> {
    match cmd {
        HookCommand::PostCheckout { prev, new: _, flag } => post_checkout(ctx, &prev, &flag),
        HookCommand::PrePush { remote, url: _ } => pre_push(ctx, &remote),
    }
}

pub fn post_checkout(ctx: &Ctx, prev: &str, flag: &str) -> Result<i32> {
    if flag != "1" {
        return Ok(0);
    }
    let data = ctx.reg.load()?;
    let Some(inst) = data.instances.iter().find(|i| i.path == ctx.cwd) else {
        return Ok(0);
    };
    // The branch checked out now is read from the worktree whenever it is needed (`rm` keeps a
    // branch the worktree is not on), so a checkout records nothing in the registry.
    let Some(branch) = git::worktree_branch(&ctx.cwd) else {
        return Ok(0);
    };
    // `git worktree add` (prev = zeros) is `new` making the sandbox: no warning then.
    let creating = prev.bytes().all(|b| b == b'0');
    if creating || git::warned(&ctx.cwd, &branch) || git::branch_just_created(&ctx.cwd, &branch) {
        return Ok(0);
    }
    let pushed_here = inst
        .pushed
        .as_ref()
        .is_some_and(|p| p.remote_ref == format!("refs/heads/{branch}"));
    if !pushed_here && !git::branch_on_remote(&ctx.cwd, &branch) {
        eprintln!(
            "git-sandbox: branch {branch} of sandbox {} has never been pushed",
            inst.name
        );
        // Once per branch: a mark that could not be written only means one more warning.
        let _ = git::mark_warned(&ctx.cwd, &branch);
    }
    Ok(0)
}

fn pre_push(ctx: &Ctx, remote: &str) -> Result<i32> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let data = ctx.reg.load()?;
    if data.instances.is_empty() {
        return Ok(0);
    }
    let repo = Repo::discover(&ctx.cwd)?;
    let mine: Vec<&registry::Instance> = data.of_repo(&repo.root).collect();
    if mine.is_empty() {
        return Ok(0);
    }
    let from_sandbox = mine.iter().find(|i| ctx.cwd.starts_with(&i.path));
    let cfg = Config::load(&repo.root).unwrap_or_default();
    let mut updates: Vec<(String, Pushed)> = Vec::new();
    let now = registry::now();
    for line in input.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [local_ref, local_oid, remote_ref, _] = parts[..] else {
            continue;
        };
        if local_ref == "(delete)" {
            continue;
        }
        if let Some(inst) = from_sandbox {
            let target = remote_ref.strip_prefix("refs/heads/").unwrap_or(remote_ref);
            if cfg.protect.iter().any(|p| p == target) {
                eprintln!(
                    "git-sandbox: refusing to push from sandbox {} to protected branch {target} of {remote} (protect in .sandbox.toml)",
                    inst.name
                );
                eprintln!("hint: push to a branch of its own, e.g. `git push -u {remote} HEAD`");
                return Ok(1);
            }
        }
        let Some(branch) = local_ref.strip_prefix("refs/heads/") else {
            continue;
        };
        for i in &mine {
            let on_now = || git::worktree_branch(&i.path).as_deref() == Some(branch);
            if i.branch.as_deref() == Some(branch) || on_now() {
                updates.push((
                    i.id.clone(),
                    Pushed {
                        remote: remote.to_string(),
                        remote_ref: remote_ref.to_string(),
                        oid: local_oid.to_string(),
                        at: now.clone(),
                    },
                ));
            }
        }
    }
    if !updates.is_empty() {
        ctx.reg.update_within(HOOK_LOCK_WAIT, |d| {
            for (id, p) in updates {
                if let Some(e) = d.find_mut(&id) {
                    e.pushed = Some(p);
                }
            }
            Ok(())
        })?;
    }
    Ok(0)
}
