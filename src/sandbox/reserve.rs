//! Step 2 of creation: under the registry lock, refuse a clashing entry, take a slot whose
//! ports are free, make git ignore the env file, and record the entry.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::compose::owner;
use crate::config::{Config, Port};
use crate::env;
use crate::error::UserError;
use crate::git::Repo;
use crate::registry::{self, Instance, Kind, Registry, State};

/// A registry entry for an instance about to be made (`creating`, owned by this process).
#[allow(clippy::too_many_arguments)]
pub(super) fn creating_entry(
    repo: &Repo,
    id: &str,
    name: &str,
    kind: Kind,
    path: &Path,
    branch: Option<String>,
    created_branch: bool,
    base_commit: Option<String>,
    admin: Option<String>,
) -> Instance {
    Instance {
        id: id.to_string(),
        name: name.to_string(),
        kind,
        slot: 0,
        path: path.to_path_buf(),
        parent_repo: repo.root.clone(),
        branch,
        created_branch,
        base_commit,
        created_at: registry::now(),
        is_worktree: true,
        state: State::Creating,
        pid: Some(std::process::id()),
        pushed: None,
        removal: None,
        restoring: None,
        admin,
        moving: None,
        setup: None,
        made_by: None,
        setup_pid: None,
        uuid: Some(crate::compose::owner::new_uuid()),
        project: None,
        engine: None,
    }
}

/// Under the registry lock: refuses an entry that clashes with a registered one (same id, same
/// path, or the same worktree of the same repo), takes a slot (0 for local-prod; else the
/// lowest free one whose ports are free), records the entry, and makes git ignore the env file
/// and `.sandbox/context.md`.
pub(super) fn reserve(
    repo: &Repo,
    cfg: &Config,
    reg: &Registry,
    mut entry: Instance,
    on_reserved: impl FnOnce(&Instance) -> Result<()>,
) -> Result<(u32, Skipped)> {
    // Every value that will reach the env file is checked before anything is recorded.
    env::vars(cfg, &entry)?;
    // The engine the stack will run on: a restored sandbox's recorded one (its volumes are
    // there; `up` runs there unless told otherwise), else the shell's. Its host's ports must be
    // free, and its projects are the ones a new project name must not clash with.
    let engine = engine_for(&entry);
    // The engine is asked (before the lock) only when the project has a compose file; `up`
    // checks again before the first start (`owner::settle`).
    let claims = (entry.uuid.as_deref())
        .filter(|_| crate::compose::has_file(&repo.root, cfg))
        .and_then(owner::Claims::of_engine);
    reg.update(|data| {
        refuse_clash(data, &entry)?;
        let (slot, skipped) = match entry.kind {
            Kind::LocalProd => (0, Vec::new()),
            Kind::Sandbox => pick_slot(cfg, &entry.parent_repo, data, &engine)?,
        };
        entry.slot = slot;
        name_project(&mut entry, data, claims.as_ref());
        exclude_ours(repo, cfg)?;
        on_reserved(&entry)?;
        data.instances.push(entry);
        Ok((slot, skipped))
    })
}

/// The engine the stack will run on: a restored sandbox's recorded one (selected), else the
/// shell's.
fn engine_for(entry: &Instance) -> crate::engine::Engine {
    match &entry.engine {
        Some(e) => {
            crate::engine::select(e);
            e.clone()
        }
        None => crate::engine::shell().unwrap_or_else(|_| crate::engine::Engine::local()),
    }
}

/// Refuses an entry that clashes with a registered one: same id, same path, or the same
/// worktree of the same repo.
fn refuse_clash(data: &registry::Data, entry: &Instance) -> Result<()> {
    if let Some(other) = data.instances.iter().find(|i| {
        i.id == entry.id
            || i.path == entry.path
            || (i.parent_repo == entry.parent_repo && i.admin() == entry.admin())
    }) {
        return Err(UserError::new(format!(
            "{} is already registered as {} (at {})",
            entry.id,
            other.id,
            other.path.display()
        ))
        .hint(match &entry.restoring {
            Some(_) => format!(
                "`git sandbox mv {} OTHER-NAME` frees the name (or `git sandbox prune` if it is stale), then restore again",
                other.name
            ),
            None => "pick another name, or `git sandbox prune` if it is stale".into(),
        })
        .into());
    }
    Ok(())
}

/// Makes git ignore the env file, the context page and the rendered compose file.
fn exclude_ours(repo: &Repo, cfg: &Config) -> Result<()> {
    exclude(
        repo,
        &format!("/{}", cfg.env_file),
        "git-sandbox's env file",
    )?;
    exclude(
        repo,
        &format!("/{}", crate::context::REL),
        "git-sandbox's context page",
    )?;
    exclude(
        repo,
        &format!("/{}", crate::compose::render::REL),
        "git-sandbox's rendered compose file",
    )?;
    Ok(())
}

/// Its compose project, unique among the registry's and on the engine: a restored sandbox's
/// own when still free (an older release's state: none, as its entry had). A uuid another entry carries (a state restored twice) is replaced,
/// and then the engine's answer, made for the old one, is not used.
fn name_project(entry: &mut Instance, data: &registry::Data, claims: Option<&owner::Claims>) {
    if entry.restoring.as_ref().is_some_and(|r| r.uuid.is_none()) {
        // A state an older release's entry left: it comes back as that entry was (no uuid,
        // the project derived from its id), so `up` finds its unlabelled volumes again.
        entry.uuid = None;
        entry.project = None;
        return;
    }
    let mut claims = claims;
    if entry.uuid.is_none() || data.instances.iter().any(|i| i.uuid == entry.uuid) {
        entry.uuid = Some(owner::new_uuid());
        entry.project = None;
        claims = None;
    }
    let taken = owner::registry_taken(data, entry.uuid.as_deref());
    entry.project = Some(owner::choose(
        &entry.id,
        entry.project.as_deref(),
        claims,
        &taken,
    ));
}

/// Slots passed over, with their busy ports.
pub(super) type Skipped = Vec<(u32, Vec<Port>)>;

/// The lowest slot no sandbox of this repo holds, whose ports no other repo's sandbox uses
/// (the check across repos is on actual port numbers: a repo with no ports takes no number
/// from anyone, and has no slot limit unless `max_slots` sets one), and whose ports are free
/// right now on `engine`'s host.
fn pick_slot(
    cfg: &Config,
    parent: &std::path::Path,
    data: &registry::Data,
    engine: &crate::engine::Engine,
) -> Result<(u32, Skipped)> {
    let mine: Vec<u32> = data
        .instances
        .iter()
        .filter(|i| i.parent_repo == parent)
        .map(|i| i.slot)
        .collect();
    let theirs = others_ports(parent, data);
    // Without a limit, one of the first `mine.len() + 1` slots is always free.
    let limit = cfg.slot_limit.unwrap_or(mine.len() as u32 + 1);
    let mut skipped = Vec::new();
    let mut clashing = Vec::new();
    for slot in 1..=limit {
        let ports = cfg.ports_for(slot);
        // A repo without ports takes nothing from anyone. Another repo whose config cannot
        // be read has its sandboxes' slot numbers counted as taken.
        let taken_elsewhere = !ports.is_empty()
            && (theirs.unknown_slots.contains(&slot)
                || ports.iter().any(|p| theirs.ports.contains(&p.port)));
        if mine.contains(&slot) {
            continue;
        }
        if taken_elsewhere {
            clashing.push(slot);
            continue;
        }
        let busy = env::busy_ports(cfg, slot, engine);
        if busy.is_empty() {
            return Ok((slot, skipped));
        }
        skipped.push((slot, busy));
    }
    Err(super::no_slot::out_of_slots(
        cfg, parent, data, &skipped, &clashing,
    ))
}

/// What other repos' sandboxes hold: their ports (their slot in their own plan), and the slot
/// numbers of those whose repo's config cannot be read.
#[derive(Default)]
struct Others {
    ports: HashSet<u32>,
    unknown_slots: HashSet<u32>,
}

fn others_ports(parent: &std::path::Path, data: &registry::Data) -> Others {
    let mut configs: BTreeMap<&std::path::Path, Option<Config>> = BTreeMap::new();
    let mut others = Others::default();
    for i in data.instances.iter().filter(|i| i.parent_repo != parent) {
        let cfg = configs
            .entry(&i.parent_repo)
            .or_insert_with(|| Config::load(&i.parent_repo).ok());
        match cfg {
            Some(cfg) => others
                .ports
                .extend(cfg.ports_for(i.slot).iter().map(|p| p.port)),
            None => {
                others.unknown_slots.insert(i.slot);
            }
        }
    }
    others
}

/// Makes git ignore `line` (a pattern) in every worktree (`$GIT_COMMON_DIR/info/exclude`).
pub fn exclude(repo: &Repo, line: &str, what: &str) -> Result<()> {
    let file = repo.common_dir.join("info").join("exclude");
    let current = fs::read_to_string(&file).unwrap_or_default();
    if current.lines().any(|l| l.trim() == line) {
        return Ok(());
    }
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut text = current;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("# {what}\n{line}\n"));
    fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))
}
