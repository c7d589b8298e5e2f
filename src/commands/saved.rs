//! The saved states `rm` (or `--delete-branch`) left under `refs/sandbox/trash/<id>/<time>`,
//! read back from their commits' messages for `restore` and `trash`. A message is not
//! trusted: only well-formed values are taken from it.

use anyhow::Result;

use crate::compose::owner;
use crate::git::Repo;
use crate::registry::Kind;
use crate::removal::trash;

const TRASH: &str = "refs/sandbox/trash/";

/// One saved state.
pub(super) struct Saved {
    pub(super) refname: String,
    pub(super) commit: String,
    pub(super) name: String,
    /// The branch HEAD was on; empty when it was detached.
    pub(super) branch: String,
    /// The branch the registry gave the sandbox (empty in states older than this field).
    pub(super) sandbox_branch: String,
    /// Its `branch.<name>.*` config as it was (`branch-config: KEY=VALUE` lines).
    pub(super) branch_config: Vec<(String, String)>,
    /// Where the tool made the branch (empty in states older than this field).
    pub(super) base_commit: String,
    pub(super) kind: Kind,
    pub(super) created_branch: bool,
    pub(super) saved_at: String,
    /// The removal's trash directory (kept files), if it is still there.
    pub(super) trash_dir: Option<std::path::PathBuf>,
    /// The removed sandbox's uuid and compose project (absent from older states).
    pub(super) uuid: Option<String>,
    pub(super) project: Option<String>,
    /// The engine its stack ran on (absent from older states and local stacks never recorded).
    pub(super) engine: Option<crate::engine::Engine>,
    /// Its own compose volumes, kept with this state.
    pub(super) volumes: Vec<String>,
}

pub(super) fn saved_states(repo: &Repo, id: Option<&str>) -> Result<Vec<Saved>> {
    let prefix = match id {
        Some(id) => format!("{TRASH}{id}/"),
        None => TRASH.to_string(),
    };
    let mut out = Vec::new();
    for (refname, commit) in repo.refs_under(&prefix)? {
        let msg = repo.commit_message(&commit)?;
        let field = |k: &str| {
            msg.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}: ")))
                .unwrap_or_default()
                .to_string()
        };
        let branch_config = msg
            .lines()
            .filter_map(|l| l.strip_prefix("branch-config: ")?.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        out.push(Saved {
            name: field("sandbox"),
            branch: field("branch"),
            sandbox_branch: field("sandbox-branch"),
            branch_config,
            // Only a commit id is taken from a message that is not trusted.
            base_commit: Some(field("base-commit"))
                .filter(|b| b.len() >= 40 && b.bytes().all(|c| c.is_ascii_hexdigit()))
                .unwrap_or_default(),
            kind: if field("kind") == "local-prod" {
                Kind::LocalProd
            } else {
                Kind::Sandbox
            },
            created_branch: field("created-branch") == "true",
            saved_at: field("saved-at"),
            trash_dir: trash_dir_of(&refname, &field("trash-dir")),
            // A state's message is not trusted: only well-formed values are read.
            uuid: Some(field("instance-uuid")).filter(|u| owner::is_uuid(u)),
            project: Some(field("compose-project")).filter(|p| owner::is_project(p)),
            engine: Some(crate::engine::Engine {
                name: field("engine-name"),
                endpoint: field("engine-endpoint"),
            })
            .filter(crate::engine::well_formed),
            volumes: field("volumes")
                .split_whitespace()
                .filter(|v| owner::is_volume_name(v))
                .map(String::from)
                .collect(),
            refname,
            commit,
        });
    }
    Ok(out)
}

/// The saved states of the sandbox named `slug`, oldest first: those saved under that name
/// (under whatever id: a renamed sandbox keeps its first one), and unnamed ones under `id`.
pub(super) fn states_of(repo: &Repo, slug: &str, id: &str) -> Result<Vec<Saved>> {
    let under_id = format!("{TRASH}{id}/");
    let mut states: Vec<Saved> = saved_states(repo, None)?
        .into_iter()
        .filter(|s| s.name == slug || (s.name.is_empty() && s.refname.starts_with(&under_id)))
        .collect();
    states.sort_by(|a, b| {
        a.refname
            .rsplit('/')
            .next()
            .cmp(&b.refname.rsplit('/').next())
    });
    Ok(states)
}

/// The trash directory a saved state's message names, if it verifies as that state's own
/// (see [`trash::TrashDir::of_state`]).
fn trash_dir_of(refname: &str, named: &str) -> Option<std::path::PathBuf> {
    let rest = refname.strip_prefix(TRASH)?;
    let (id, stamp) = rest.split_once('/')?;
    trash::TrashDir::of_state(std::path::Path::new(named), id, stamp).map(|t| t.dir)
}
