//! The project's own lifecycle commands (`.sandbox.toml` `[commands]`): `setup` runs in a
//! sandbox after `new`, `restore` and `adopt`; `teardown` runs before `rm` stops its services.
//!
//! They come from the repository, so they run only once the user approved the repo's requests
//! (`trust.rs`: the commands with everything else the config asks for, by hash). On a
//! terminal the user is asked, unless they said no earlier in this run; otherwise it refuses
//! with the way to approve (`git sandbox trust`, or `--yes` for one run). Each command runs through `sh -c` in the sandbox with its
//! env; its output streams live to stderr (stdout is the command's data: a path, JSON), each
//! step is named, and a failure names the command and its exit status.

use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::config::{Config, Verdict};
use crate::error::UserError;
use crate::git::Repo;
use crate::registry::{Instance, Registry};
use crate::{env, trust, ui};

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

pub use crate::trust::Consent;

/// Why the commands did not run (or failed).
#[derive(Debug)]
pub enum NotRun {
    /// Not approved: the error says how to approve.
    NotTrusted(anyhow::Error),
    Failed(anyhow::Error),
}

impl NotRun {
    /// The registry's word for it.
    pub fn state(&self) -> &'static str {
        match self {
            NotRun::NotTrusted(_) => "not-trusted",
            NotRun::Failed(_) => "failed",
        }
    }

    pub fn into_error(self) -> anyhow::Error {
        match self {
            NotRun::NotTrusted(e) | NotRun::Failed(e) => e,
        }
    }
}

/// Runs `phase`'s commands for `inst` in `dir`. `Ok(false)`: there are none.
/// Starts the index-healing helper again when the commands are over, however they ended.
struct HealAfter<'a>(&'a Path);

impl Drop for HealAfter<'_> {
    fn drop(&mut self) {
        crate::git::heal_later(self.0);
    }
}

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
    let vars = env::vars(cfg, inst).map_err(NotRun::Failed)?;
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

/// One command through `sh -c`, in `dir`, with the sandbox's env; its stdout goes to stderr.
fn step(cmd: &str, dir: &Path, vars: &[(String, String)]) -> Result<()> {
    let mut c = Command::new("sh");
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
            "{} holds commands that run on your machine:",
            crate::config::FILE_NAME
        ));
        for l in cfg.asks.listing() {
            ui::info(&l);
        }
        if ui::confirm("Trust them for this repo (asked again if they change)?") {
            return trust::trust(repo, cfg, reg);
        }
    }
    Err(UserError::new(format!(
        "the project's {} commands are not trusted yet, so they did not run",
        phase.name()
    ))
    .hint("read them (`git sandbox trust --show`), then approve them with `git sandbox trust`, or pass --yes for this run")
    .into())
}
