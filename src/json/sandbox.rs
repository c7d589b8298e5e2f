//! The JSON of a sandbox just made: `new --json`, `adopt --json` (the same shape) and
//! `restore --json` (that shape plus the saved state it came back from).

use std::collections::BTreeMap;

use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;

use super::Version;
use crate::config::Config;
use crate::env;
use crate::registry::{Instance, Kind};
use crate::sandbox::Created;

/// `new --json` and `adopt --json`.
#[derive(Serialize, JsonSchema)]
pub struct New {
    pub version: Version,
    pub sandbox: Sandbox,
    /// Slots passed over because some of their ports were busy.
    pub skipped_slots: Vec<SkippedSlot>,
    /// What the user should know that did not stop the creation (a `copy` entry skipped).
    pub warnings: Vec<String>,
}

/// `restore --json`.
#[derive(Serialize, JsonSchema)]
pub struct Restore {
    pub version: Version,
    pub sandbox: Sandbox,
    pub restored_from: Saved,
    pub skipped_slots: Vec<SkippedSlot>,
    pub warnings: Vec<String>,
}

/// Where a sandbox is and what it runs on.
#[derive(Serialize, JsonSchema)]
pub struct Sandbox {
    pub name: String,
    /// `<repo>--<name>`: also git's worktree entry name.
    pub id: String,
    pub kind: Kind,
    pub slot: u32,
    pub path: String,
    pub parent_repo: String,
    pub branch: Option<String>,
    /// Whether git-sandbox created the branch (only then may `rm` delete it).
    pub created_branch: bool,
    pub base_commit: Option<String>,
    pub created_at: String,
    /// The env file's absolute path.
    pub env_file: String,
    /// `.sandbox/context.md`'s absolute path (null if it could not be written).
    pub context_file: Option<String>,
    /// Unique on the Docker engine: the id's, or with a `-2`, `-3` … suffix.
    pub compose_project: String,
    /// Its identity: the `dev.git-sandbox.instance` label of everything its stack creates
    /// (null for an entry an older git-sandbox made).
    pub instance_uuid: Option<String>,
    /// Each port by its label (`backend`, `workers[0]`), as in `list --json`.
    pub ports: BTreeMap<String, u32>,
    /// `http://localhost:<port>` by the same labels.
    pub urls: BTreeMap<String, String>,
    /// The variables the env file holds.
    pub env: BTreeMap<String, String>,
}

/// A slot `new` passed over.
#[derive(Serialize, JsonSchema)]
pub struct SkippedSlot {
    pub slot: u32,
    /// Its busy ports, by label.
    pub busy: BTreeMap<String, u32>,
}

/// The saved state a restore came back from (it is kept until `trash purge`).
#[derive(Serialize, JsonSchema)]
pub struct Saved {
    /// `refs/sandbox/trash/<id>/<time>`.
    pub state_ref: String,
    pub commit: String,
    pub saved_at: String,
    /// The removal's trash directory, whose kept files were put back (null if none).
    pub trash_dir: Option<String>,
    pub kept_files: u64,
    pub kept_bytes: u64,
    /// Whether the branch was made again at the saved tip (false: it was still there).
    pub branch_recreated: bool,
    /// The compose volumes kept with the state, the sandbox's again when its identity came
    /// back with it (`sandbox.instance_uuid`).
    pub volumes: Vec<String>,
}

impl Sandbox {
    /// The sandbox `inst` as made with `cfg`.
    pub fn of(cfg: &Config, inst: &Instance) -> Result<Sandbox> {
        let mut ports = BTreeMap::new();
        let mut urls = BTreeMap::new();
        for p in cfg.ports_for(inst.slot) {
            urls.insert(p.label(), env::url_of(inst, p.port));
            ports.insert(p.label(), p.port);
        }
        let context = crate::context::path(&inst.path);
        Ok(Sandbox {
            name: inst.name.clone(),
            id: inst.id.clone(),
            kind: inst.kind,
            slot: inst.slot,
            path: inst.path.display().to_string(),
            parent_repo: inst.parent_repo.display().to_string(),
            branch: inst.branch.clone(),
            created_branch: inst.created_branch,
            base_commit: inst.base_commit.clone(),
            created_at: inst.created_at.clone(),
            env_file: inst.path.join(&cfg.env_file).display().to_string(),
            context_file: crate::context::ours(&context).then(|| context.display().to_string()),
            compose_project: crate::compose::owner::project(inst),
            instance_uuid: inst.uuid.clone(),
            ports,
            urls,
            env: env::vars(cfg, inst)?.into_iter().collect(),
        })
    }
}

impl New {
    pub fn of(cfg: &Config, created: &Created) -> Result<New> {
        Ok(New {
            version: Version,
            sandbox: Sandbox::of(cfg, &created.instance)?,
            skipped_slots: skipped(created),
            warnings: created.warnings.clone(),
        })
    }
}

impl Restore {
    pub fn of(cfg: &Config, created: &Created, from: Saved) -> Result<Restore> {
        Ok(Restore {
            version: Version,
            sandbox: Sandbox::of(cfg, &created.instance)?,
            restored_from: from,
            skipped_slots: skipped(created),
            warnings: created.warnings.clone(),
        })
    }
}

/// The slots `created` passed over.
pub fn skipped(created: &Created) -> Vec<SkippedSlot> {
    created
        .skipped
        .iter()
        .map(|(slot, busy)| SkippedSlot {
            slot: *slot,
            busy: busy.iter().map(|p| (p.label(), p.port)).collect(),
        })
        .collect()
}
