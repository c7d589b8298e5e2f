//! The project's own lifecycle commands (`.sandbox.toml` `[commands]`): `setup` runs in a
//! sandbox after `new`, `restore` and `adopt`; `teardown` runs before `rm` stops its services.
//!
//! Two gates, in order, before anything runs:
//! 1. Trust: they come from the repository, so they run only once the user approved the
//!    repo's requests (`trust.rs`: the commands with everything else the config asks for, by
//!    hash). On a terminal the user is asked, unless they said no earlier in this run;
//!    otherwise it refuses with the way to approve (`git sandbox trust`, or `--yes`).
//! 2. Whose code ([`vouch`]): the commands run the checked-out commit's scripts, so someone
//!    else's code (a pull request, a remote-only branch) asks every time, naming the commit
//!    and its author; off a terminal it does not run (`skipped`) unless `--yes`.
//!
//! Each command runs through `sh -c` in the sandbox with its env; its output streams live to
//! stderr (stdout is the command's data: a path, JSON), each step is named, and a failure
//! names the command and its exit status.

use std::os::fd::AsFd;
use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result};

use crate::config::{Config, Verdict};
use crate::error::UserError;
use crate::git::Repo;
use crate::registry::{Instance, Registry, SETUP_RUNNING};
use crate::{env, trust, ui};

pub use crate::trust::Consent;

/// Which list runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Setup,
    Teardown,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Teardown => "teardown",
        }
    }

    fn commands(self, cfg: &Config) -> &[String] {
        match self {
            Phase::Setup => &cfg.setup,
            Phase::Teardown => &cfg.teardown,
        }
    }
}

/// Why the commands did not run (or failed).
#[derive(Debug)]
pub enum NotRun {
    /// Not approved: the error says how to approve.
    NotTrusted(anyhow::Error),
    /// The checked-out code is someone else's and nobody said yes to running it this time.
    Foreign(anyhow::Error),
    Failed(anyhow::Error),
}

impl NotRun {
    /// The registry's word for it.
    pub fn state(&self) -> &'static str {
        match self {
            NotRun::NotTrusted(_) => "not-trusted",
            NotRun::Foreign(_) => "skipped",
            NotRun::Failed(_) => "failed",
        }
    }

    pub fn into_error(self) -> anyhow::Error {
        match self {
            NotRun::NotTrusted(e) | NotRun::Foreign(e) | NotRun::Failed(e) => e,
        }
    }
}

/// Starts the index-healing helper again when the commands are over, however they ended.
struct HealAfter<'a>(&'a Path);

impl Drop for HealAfter<'_> {
    fn drop(&mut self) {
        crate::git::heal_later(self.0);
    }
}

/// Runs `phase`'s commands for `inst` in `dir`, through both gates. `Ok(false)`: there are
/// none.
pub fn run(
    phase: Phase,
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    inst: &Instance,
    dir: &Path,
    consent: Consent,
) -> Result<bool, NotRun> {
    let cmds = phase.commands(cfg);
    if cmds.is_empty() {
        return Ok(false);
    }
    approve(phase, repo, cfg, reg, consent).map_err(NotRun::NotTrusted)?;
    vouch(phase, repo, reg, inst, dir, consent).map_err(NotRun::Foreign)?;
    let vars = env::command_vars(cfg, inst).map_err(NotRun::Failed)?;
    if phase == Phase::Setup {
        // Before the first step: a kill from here on leaves `running` with a dead pid, which
        // `list` and `status` show as interrupted.
        record_setup(reg, &inst.id, SETUP_RUNNING).map_err(NotRun::Failed)?;
        crate::fault::point("setup:running").map_err(NotRun::Failed)?;
    }
    // The project's commands run git in the sandbox: no index-healing helper of ours may hold
    // its index.lock meanwhile. It starts again afterwards.
    crate::git::stop_heal_helper(dir);
    let _heal_after = matches!(phase, Phase::Setup).then_some(HealAfter(dir));
    for (k, cmd) in cmds.iter().enumerate() {
        ui::info(&format!("{} {}/{}: {cmd}", phase.name(), k + 1, cmds.len()));
        step(cmd, dir, &vars).map_err(|e| {
            NotRun::Failed(e.context(format!(
                "{} of {} stopped at step {}/{} ({cmd})",
                phase.name(),
                inst.name,
                k + 1,
                cmds.len()
            )))
        })?;
    }
    Ok(true)
}

/// The second gate: trust approved the commands, but the code they run is the checked-out
/// commit's. Unasked only when it is the user's own (`git/provenance.rs`): every commit that no
/// branch of the user's held was made by the user. A branch git-sandbox made (for a sandbox,
/// from whatever it started at) or took a pull request into (`pr-N`) is not the user's by
/// being local. Else `--yes`, or asked on a terminal naming the commit and its author, every
/// time.
fn vouch(
    phase: Phase,
    repo: &Repo,
    reg: &Registry,
    inst: &Instance,
    dir: &Path,
    consent: Consent,
) -> Result<()> {
    let Some(head) = crate::git::head_at(dir, &repo.common_dir) else {
        return Ok(());
    };
    let data = reg.load()?;
    let made: Vec<&str> = data
        .of_repo(&repo.root)
        .chain(std::iter::once(inst))
        .filter(|i| i.created_branch)
        .filter_map(|i| i.branch.as_deref())
        .collect();
    let users = |b: &str| !made.contains(&b) && !crate::pr::is_branch(b);
    let Some(who) = repo.stranger_at(&head, users)? else {
        return Ok(());
    };
    let what = format!(
        "{} runs code from {} ({who}), which is not yours",
        phase.name(),
        inst.name
    );
    if consent.yes {
        ui::info(&format!("{what}; running it (--yes)"));
        return Ok(());
    }
    if !consent.never_ask && ui::interactive() {
        ui::info(&format!("{what}."));
        if ui::confirm(&format!("Run the {} commands on it?", phase.name())) {
            return Ok(());
        }
    }
    let how = match phase {
        Phase::Setup => format!(
            "read it, then `git sandbox setup {} --yes` runs it",
            inst.name
        ),
        Phase::Teardown => "on a terminal rm asks; --force removes it without running it".into(),
    };
    Err(UserError::new(format!("{what}, so it did not run"))
        .hint(how)
        .into())
}

/// Records how `id`'s setup went (`done`, `failed`, …), or that it is `running` now (with
/// this process's pid).
pub fn record_setup(reg: &Registry, id: &str, state: &str) -> Result<()> {
    reg.update(|d| {
        if let Some(e) = d.find_mut(id) {
            e.setup = Some(state.to_string());
            e.setup_pid = (state == SETUP_RUNNING).then(std::process::id);
        }
        Ok(())
    })
}

/// One command through `sh -c`, in `dir`, with the sandbox's env; its stdout goes to stderr.
fn step(cmd: &str, dir: &Path, vars: &[(String, String)]) -> Result<()> {
    // Under the supervisor: a killed git-sandbox takes the step and all it started with it,
    // so an interrupted setup is never still running when `setup` runs it again.
    let mut c = crate::supervise::command("sh");
    c.arg("-c").arg(cmd).current_dir(dir).stdin(Stdio::null());
    crate::git::without_git_env(&mut c);
    c.envs(vars.iter().map(|(k, v)| (k, v)));
    let out: Stdio = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::inherit());
    let status = c
        .stdout(out)
        .status()
        .with_context(|| format!("cannot run sh -c {cmd:?}"))?;
    if !status.success() {
        return Err(UserError::new(format!("`{cmd}` failed ({status})")).into());
    }
    Ok(())
}

/// Approved for this run (`trust::settle` said so, or the store, or `--yes`), or asked now on
/// a terminal (and remembered) unless the user already said no this run; else an error that
/// says how to approve.
fn approve(
    phase: Phase,
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    consent: Consent,
) -> Result<()> {
    let asked = match cfg.verdict {
        Verdict::Trusted => return Ok(()),
        Verdict::Declined => true,
        Verdict::Pending => false,
    };
    if consent.yes || trust::trusted(repo, cfg, reg) {
        return Ok(());
    }
    if !asked && !consent.never_ask && ui::interactive() {
        ui::info(&format!(
            "{} asks for things that run, write or delete on your machine:",
            crate::config::FILE_NAME
        ));
        for l in cfg.asks.listing() {
            ui::info(&l);
        }
        if ui::confirm("Trust them for this repo (asked again if they change)?") {
            return trust::trust(repo, cfg, reg);
        }
    }
    // Where nothing is asked (an agent hook, rm) no `--yes` can approve them: the one command.
    let how = if consent.never_ask {
        format!(
            "approve them by running `git sandbox trust` in {} (read them first: `git sandbox trust --show`)",
            repo.root.display()
        )
    } else {
        "read them (`git sandbox trust --show`), then approve them with `git sandbox trust`, or pass --yes for this run".into()
    };
    Err(UserError::new(format!(
        "the project's {} commands are not trusted yet, so they did not run",
        phase.name()
    ))
    .hint(how)
    .into())
}
