//! `setup [NAME] [--yes]` and `trust [--show|--revoke]`, and the setup step `new`, `restore`
//! and `adopt` end with (see `lifecycle.rs`).

use anyhow::Result;

use crate::cli::{SetupArgs, TrustArgs};
use crate::commands::Ctx;
use crate::config::Config;
use crate::error::UserError;
use crate::git::Repo;
use crate::lifecycle::{self, Consent, Phase};
use crate::registry::{Instance, Registry, SETUP_INTERRUPTED, SETUP_RUNNING};
use crate::trust;
use crate::ui;

/// How the setup step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetUp {
    /// Ran through, or there is nothing to run.
    Done,
    /// Not run, on purpose (`--no-setup`, or someone else's code nobody said yes to).
    Skipped,
    /// Not trusted, or failed: the sandbox is kept, not set up.
    Kept,
}

/// The setup step after a sandbox was made (see [`set_up`]). `false`: the sandbox is kept but
/// not set up (the caller exits non-zero); `git sandbox setup NAME` runs it again.
pub fn after_create(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    inst: &Instance,
    consent: Consent,
    skip: bool,
) -> bool {
    set_up(repo, cfg, reg, inst, consent, skip) != SetUp::Kept
}

/// Runs `[commands] setup` unless `skip`, records how it went (the registry's `setup`), and
/// says so.
pub fn set_up(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    inst: &Instance,
    consent: Consent,
    skip: bool,
) -> SetUp {
    if cfg.setup.is_empty() {
        return SetUp::Done;
    }
    if skip {
        record(reg, &inst.id, "skipped");
        ui::info(&format!(
            "setup skipped (--no-setup); `git sandbox setup {}` runs it",
            inst.name
        ));
        return SetUp::Skipped;
    }
    match lifecycle::run(Phase::Setup, repo, cfg, reg, inst, &inst.path, consent) {
        Ok(_) => {
            record(reg, &inst.id, "done");
            SetUp::Done
        }
        Err(not_run) => {
            record(reg, &inst.id, not_run.state());
            let skipped = matches!(not_run, lifecycle::NotRun::Foreign(_));
            let e = not_run.into_error();
            ui::warn(&format!("{e:#}"));
            let user = e.chain().find_map(|c| c.downcast_ref::<UserError>());
            for h in user.map(|u| u.hints.as_slice()).unwrap_or_default() {
                ui::info(&format!("hint: {h}"));
            }
            if skipped {
                return SetUp::Skipped;
            }
            ui::warn(&format!(
                "sandbox {} is kept, but not set up; `git sandbox setup {}` runs it again",
                inst.name, inst.name
            ));
            SetUp::Kept
        }
    }
}

fn record(reg: &Registry, id: &str, state: &str) {
    let _ = lifecycle::record_setup(reg, id, state);
}

/// `setup [NAME] [--yes]`: runs the setup commands again.
pub fn run(ctx: &Ctx, args: SetupArgs) -> Result<i32> {
    let (repo, mut cfg) = ctx.repo_config()?;
    let data = ctx.reg.load()?;
    let inst = crate::target::resolve(&repo, &data, args.name.as_deref(), &ctx.cwd)?;
    crate::target::verify(&repo, &inst)?;
    if cfg.setup.is_empty() {
        ui::info("this project has no [commands] setup");
        return Ok(0);
    }
    if inst.setup_state().as_deref() == Some(SETUP_RUNNING) {
        return Err(UserError::new(format!(
            "the setup of {} is running (pid {})",
            inst.name,
            inst.setup_pid.unwrap_or_default()
        ))
        .hint("wait for it to finish; an interrupted setup (its process gone) runs again")
        .into());
    }
    if inst.setup_state().as_deref() == Some(SETUP_INTERRUPTED) {
        ui::info(&format!(
            "the last setup of {} was interrupted; running it again",
            inst.name
        ));
    }
    let consent = Consent {
        yes: args.yes,
        never_ask: false,
    };
    trust::settle(&mut cfg, &repo, &ctx.reg, consent);
    Ok(match set_up(&repo, &cfg, &ctx.reg, &inst, consent, false) {
        SetUp::Done => {
            ui::info(&format!("{} is set up", inst.name));
            0
        }
        SetUp::Skipped | SetUp::Kept => 1,
    })
}

/// `trust [--show|--revoke]`: approve (or show, or forget) what this repo's config asks for.
pub fn trust(ctx: &Ctx, args: TrustArgs) -> Result<i32> {
    let (repo, cfg) = ctx.repo_config()?;
    let lines = cfg.asks.listing();
    if args.revoke {
        let had = trust::revoke(&repo, &ctx.reg)?;
        ui::info(if had {
            "approval forgotten: the config's requests will be asked about again"
        } else {
            "nothing was approved for this repo"
        });
        return Ok(0);
    }
    if lines.is_empty() {
        ui::info("this project's config asks for nothing that needs trust");
        return Ok(0);
    }
    let trusted = trust::trusted(&repo, &cfg, &ctx.reg);
    if args.show {
        for l in &lines {
            ui::out(l);
        }
        ui::info(if trusted { "trusted" } else { "not trusted" });
        return Ok(0);
    }
    trust::trust(&repo, &cfg, &ctx.reg)?;
    ui::info("trusted for this repo (asked again if they change):");
    for l in &lines {
        ui::info(l);
    }
    Ok(0)
}

/// `rm`'s teardown step, after the confirmation and before the services stop: a failing or
/// untrusted teardown stops the removal (nothing was changed) unless `--force`. It runs while
/// `rm` holds the sandbox still: a file it writes there shows as a change the re-check
/// reports (and with `--force` saves).
pub fn teardown(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    inst: &Instance,
    dir: &std::path::Path,
    force: bool,
) -> Result<()> {
    let consent = Consent::default();
    match lifecycle::run(Phase::Teardown, repo, cfg, reg, inst, dir, consent) {
        Ok(_) => Ok(()),
        Err(not_run) if force => {
            ui::warn(&format!(
                "{:#}; removing anyway (--force)",
                not_run.into_error()
            ));
            Ok(())
        }
        Err(not_run) => Err(not_run.into_error().context(format!(
            "{} was not removed: its teardown did not run through (--force removes it anyway)",
            inst.name
        ))),
    }
}

/// `copy [NAME]`: brings `copy = [...]` and `.worktreeinclude` files from the main worktree
/// again, only those missing in the sandbox (never over a file there, never through a link).
pub fn copy(ctx: &Ctx, args: crate::cli::CopyArgs) -> Result<i32> {
    let (repo, mut cfg) = ctx.repo_config()?;
    let consent = Consent {
        yes: args.yes,
        ..Consent::default()
    };
    trust::settle(&mut cfg, &repo, &ctx.reg, consent);
    // What trust held back: `copy` and `.worktreeinclude` entries not applied this run.
    let withheld: Vec<&str> = if cfg.verdict == crate::config::Verdict::Trusted {
        Vec::new()
    } else {
        let keys = cfg.asks.withheld();
        ["copy", ".worktreeinclude"]
            .into_iter()
            .filter(|k| keys.contains(k))
            .collect()
    };
    let data = ctx.reg.load()?;
    let inst = crate::target::resolve(&repo, &data, args.name.as_deref(), &ctx.cwd)?;
    let path = crate::target::verify(&repo, &inst)?;
    let copied = crate::sandbox::copy_files(&repo, &cfg, &path)?;
    for w in &copied.skipped {
        ui::warn(w);
    }
    let what = copied.summary().unwrap_or_else(|| {
        if withheld.is_empty() {
            "nothing was missing".to_string()
        } else {
            "nothing copied".to_string()
        }
    });
    ui::info(&format!(
        "{what} into {} (files it has were left as they are)",
        inst.name
    ));
    if !withheld.is_empty() {
        ui::info(&format!(
            "skipped {}'s files: not trusted yet (`git sandbox copy --yes` copies them once, `git sandbox trust` for good)",
            withheld.join(" and ")
        ));
    }
    Ok(0)
}
