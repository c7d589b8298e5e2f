//! The per-user registry of every sandbox and local-prod instance, across all repos.
//!
//! One JSON file (`registry.json`) in the XDG data dir, or in `$GIT_SANDBOX_HOME` when set.
//!
//! Invariants:
//! - Every change runs [`Registry::update`]: take an exclusive lock on `registry.lock`, re-read
//!   the file, apply the change, write a temp file in the same directory, fsync it, rename it
//!   into place, fsync the directory. Readers never see a half-written file.
//! - A file that does not parse, or carries a version this build does not know, is never
//!   overwritten: every command that needs it stops with an error naming the file.
//! - An instance moves through `creating` → `ready` → `removing`; the first and last mark an
//!   operation that was under way, so `prune` can finish or roll back what a crash interrupted.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod check;
mod origin;
mod store;

pub use check::TRASH_PREFIX;
pub use origin::MadeBy;
pub use store::Registry;

/// The registry format this build reads and writes.
pub const VERSION: u32 = 1;

/// What an instance is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Sandbox,
    LocalProd,
}

impl Kind {
    /// The name people read and JSON carries: `sandbox` or `local-prod`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sandbox => "sandbox",
            Kind::LocalProd => "local-prod",
        }
    }
}

/// Where an instance is in its life.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// `new` reserved the slot and is building the worktree.
    Creating,
    /// Usable.
    #[default]
    Ready,
    /// `rm` passed its checks and is taking it apart.
    Removing,
}

/// What the pre-push hook last saw pushed from this sandbox.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
pub struct Pushed {
    pub remote: String,
    pub remote_ref: String,
    pub oid: String,
    pub at: String,
}

/// How far a removal got; `prune` rolls back before [`Phase::Verified`] and finishes after.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Checked and confirmed; the directory is still in place.
    Marked,
    /// The tree was renamed into the trash directory; not yet re-checked.
    Quarantined,
    /// The quarantined tree was re-checked and its work saved: only finishing steps remain.
    #[default]
    Verified,
}

/// A removal under way, recorded before the first destructive step.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Removal {
    /// The trash directory: `<dir>/tree` is the quarantined worktree, `<dir>/kept` what is
    /// kept of it (ignored files, nested repositories…).
    pub trash_dir: PathBuf,
    /// Delete the branch once the worktree is gone (its tip, for a compare-and-delete).
    pub delete_branch: Option<String>,
    /// The trash state's ref.
    pub saved_ref: Option<String>,
    /// Remove the directory (false for `--keep-worktree`).
    pub remove_worktree: bool,
    #[serde(default)]
    pub phase: Phase,
    /// Paths (relative to the tree) moved into `kept`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<String>,
}

/// A `restore` under way: what it puts back, and whether the saved files are in place yet.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Restoring {
    /// The trash state's commit.
    pub state: String,
    /// The removal's trash directory (its `kept/` goes back over the tree).
    pub trash_dir: Option<PathBuf>,
    /// The snapshot's files and index are in place.
    #[serde(default)]
    pub applied: bool,
    /// The removed sandbox's uuid and compose project, so its kept volumes are its again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The engine its stack and kept volumes are on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<crate::engine::Engine>,
}

/// A `mv` under way: where the sandbox was and what it was called. Recorded (with the pid)
/// before the directory moves and cleared once it is in place, so `prune` can finish or roll
/// back a rename a crash interrupted.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Moving {
    pub from: PathBuf,
    pub from_name: String,
}

/// One sandbox or local-prod.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub slot: u32,
    pub path: PathBuf,
    pub parent_repo: PathBuf,
    pub branch: Option<String>,
    pub created_branch: bool,
    pub base_commit: Option<String>,
    pub created_at: String,
    pub is_worktree: bool,
    #[serde(default)]
    pub state: State,
    /// The process building or removing it, while `state` is not `ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed: Option<Pushed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal: Option<Removal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restoring: Option<Restoring>,
    /// git's admin name for the worktree, when it is not the id (an adopted worktree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
    /// A rename under way (`mv`): `path` and `name` are already the new ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moving: Option<Moving>,
    /// Whether its `[commands] setup` ran: `done`, or why not (`failed`, `not-trusted`,
    /// `skipped`), or `running` (recorded, with `setup_pid`, before its first step); absent
    /// when the project has none or it was never asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<String>,
    /// Who made it (absent: the user, as every entry older than the field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_by: Option<MadeBy>,
    /// The process running its setup, while `setup` is `running`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_pid: Option<u32>,
    /// Its identity on the Docker engine: a random uuid, the `dev.git-sandbox.instance` label
    /// of everything its stack creates. Kept across `mv` and brought back by `restore`;
    /// absent for entries an older git-sandbox made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Its compose project name, chosen unique on the engine at creation; absent for entries
    /// an older git-sandbox made (theirs is derived from the id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The Docker engine its stack runs on, recorded at `up`; absent for entries an older
    /// git-sandbox made and stacks never started (the shell's engine, as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<crate::engine::Engine>,
}

impl Instance {
    /// Who made it; an entry without the field was made by the user.
    pub fn maker(&self) -> MadeBy {
        self.made_by.clone().unwrap_or_default()
    }

    /// The name of the worktree's entry under `$GIT_COMMON_DIR/worktrees/`.
    pub fn admin(&self) -> &str {
        self.admin.as_deref().unwrap_or(&self.id)
    }

    /// Its setup as `list` and `status` show it: `running` whose process is gone (killed, a
    /// power cut) is `interrupted`.
    pub fn setup_state(&self) -> Option<String> {
        let setup = self.setup.as_deref()?;
        let gone = self
            .setup_pid
            .is_none_or(|p| !crate::procs::alive_git_sandbox(p));
        Some(if setup == SETUP_RUNNING && gone {
            SETUP_INTERRUPTED.to_string()
        } else {
            setup.to_string()
        })
    }
}

/// `setup` while the commands run (with `setup_pid`).
pub const SETUP_RUNNING: &str = "running";
/// `running` whose process is gone: shown, never stored.
pub const SETUP_INTERRUPTED: &str = "interrupted";

/// The whole file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Data {
    pub version: u32,
    #[serde(default)]
    pub instances: Vec<Instance>,
    /// Renamed-away worktree directories still to be deleted.
    #[serde(default)]
    pub sweep: Vec<PathBuf>,
}

impl Default for Data {
    fn default() -> Self {
        Data {
            version: VERSION,
            instances: Vec::new(),
            sweep: Vec::new(),
        }
    }
}

impl Data {
    /// Instances whose parent repo is `repo`.
    pub fn of_repo<'a>(&'a self, repo: &'a Path) -> impl Iterator<Item = &'a Instance> + 'a {
        self.instances.iter().filter(move |i| i.parent_repo == repo)
    }

    pub fn find(&self, id: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.id == id)
    }

    pub fn find_mut(&mut self, id: &str) -> Option<&mut Instance> {
        self.instances.iter_mut().find(|i| i.id == id)
    }

    pub fn remove(&mut self, id: &str) -> Option<Instance> {
        let pos = self.instances.iter().position(|i| i.id == id)?;
        Some(self.instances.remove(pos))
    }
}

/// Now, as RFC 3339 in UTC to the second.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
