//! The project's own lifecycle commands (`.sandbox.toml` `[commands]`): `setup` runs in a
//! sandbox after `new`, `restore` and `adopt`; `teardown` runs before `rm` stops its services.
//!
//! They come from the repository, so they run only once the user approved that exact set:
//! per user, per repo, by the hash of the commands (`trust.json` beside the registry). On a
//! terminal the user is asked; otherwise it refuses with the way to approve (`git sandbox
//! trust`, or `--yes` for one run). Each command runs through `sh -c` in the sandbox with its
//! env; its output streams live to stderr (stdout is the command's data: a path, JSON), each
//! step is named, and a failure names the command and its exit status.

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::UserError;
use crate::git::Repo;
use crate::registry::{Instance, Registry};
use crate::{env, ui};

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

/// How the user answers for the commands this time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Consent {
    /// `--yes`: run them this once without asking (nothing is stored).
    pub yes: bool,
    /// Never ask, even on a terminal (the agent hook).
    pub never_ask: bool,
}

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

/// The commands' fingerprint: a hash of both lists (libgit2's blob hash, in-process).
fn fingerprint(cfg: &Config) -> String {
    let mut json = serde_json::json!({ "setup": cfg.setup, "teardown": cfg.teardown });
    // Only when set, so the approvals given before it existed still hold.
    if cfg.delete_volumes {
        json["delete_volumes"] = true.into();
    }
    let text = json.to_string();
    git2::Oid::hash_object(git2::ObjectType::Blob, text.as_bytes())
        .map(|o| o.to_string())
        .unwrap_or(text)
}

/// What the user approved, per repo root.
#[derive(Serialize, Deserialize, Default)]
struct Store {
    version: u32,
    #[serde(default)]
    repos: BTreeMap<String, String>,
}

fn store_file(reg: &Registry) -> std::path::PathBuf {
    reg.dir().join("trust.json")
}

fn load(reg: &Registry) -> Store {
    std::fs::read_to_string(store_file(reg))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn save(reg: &Registry, store: &Store) -> Result<()> {
    std::fs::create_dir_all(reg.dir())?;
    let mut tmp = tempfile::NamedTempFile::new_in(reg.dir())?;
    serde_json::to_writer_pretty(&mut tmp, store)?;
    tmp.as_file().sync_all()?;
    tmp.persist(store_file(reg))?;
    Ok(())
}

/// Whether the current commands of `repo` are the ones the user approved.
pub fn trusted(repo: &Repo, cfg: &Config, reg: &Registry) -> bool {
    let key = repo.root.display().to_string();
    load(reg).repos.get(&key) == Some(&fingerprint(cfg))
}

/// Records the current commands of `repo` as approved (`git sandbox trust`).
pub fn trust(repo: &Repo, cfg: &Config, reg: &Registry) -> Result<()> {
    let mut store = load(reg);
    store.version = 1;
    store
        .repos
        .insert(repo.root.display().to_string(), fingerprint(cfg));
    save(reg, &store)
}

/// Forgets the approval for `repo` (`git sandbox trust --revoke`).
pub fn revoke(repo: &Repo, reg: &Registry) -> Result<bool> {
    let mut store = load(reg);
    let had = store
        .repos
        .remove(&repo.root.display().to_string())
        .is_some();
    if had {
        save(reg, &store)?;
    }
    Ok(had)
}

/// The commands as lines, for `trust --show` and the question.
pub fn listing(cfg: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for (key, list) in [("setup", &cfg.setup), ("teardown", &cfg.teardown)] {
        for c in list {
            out.push(format!("  {key}: {c}"));
        }
    }
    if cfg.delete_volumes {
        out.push(
            "  [compose] delete_volumes = true (rm deletes a sandbox's volumes at once)".into(),
        );
    }
    out
}

/// Approved already, `--yes`, or asked now on a terminal (and remembered); else an error that
/// says how to approve.
fn approve(
    phase: Phase,
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    consent: Consent,
) -> Result<()> {
    if consent.yes || trusted(repo, cfg, reg) {
        return Ok(());
    }
    if !consent.never_ask && ui::interactive() {
        ui::info(&format!(
            "{} holds commands that run on your machine:",
            crate::config::FILE_NAME
        ));
        for l in listing(cfg) {
            ui::info(&l);
        }
        if ui::confirm("Trust them for this repo (asked again if they change)?") {
            return trust(repo, cfg, reg);
        }
    }
    Err(UserError::new(format!(
        "the project's {} commands are not trusted yet, so they did not run",
        phase.name()
    ))
    .hint("read them (`git sandbox trust --show`), then approve them with `git sandbox trust`, or pass --yes for this run")
    .into())
}
