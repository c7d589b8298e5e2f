//! `trash list|purge`: the saved states `rm` left under `refs/sandbox/trash/` (read by
//! `commands/restore.rs`), with the files kept beside them and the compose volumes kept with
//! them. `purge` deletes a state's volumes first, and only those the engine shows carrying the
//! state's uuid, that no registered sandbox (a restored one) and no other state still holds;
//! when the engine cannot say, the state is kept, so nothing goes unverified.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;

use super::saved::{Saved, saved_states};
use crate::cli::{PurgeArgs, TrashCommand};
use crate::commands::Ctx;
use crate::compose::kept::{self, Purged};
use crate::error::UserError;
use crate::git::Repo;
use crate::removal::trash;
use crate::ui;

/// `  kept: 12 file(s), 3.4 MiB in <dir>` when the removal kept files.
fn kept_note(s: &Saved) -> String {
    match &s.trash_dir {
        Some(dir) => {
            let (files, bytes) = trash::size(dir);
            format!(
                "  kept: {files} file(s), {} in {}",
                crate::safety::human_bytes(bytes),
                dir.display()
            )
        }
        None => String::new(),
    }
}

pub fn run(ctx: &Ctx, cmd: TrashCommand) -> Result<i32> {
    let repo = ctx.repo()?;
    match cmd {
        TrashCommand::List => list(&repo),
        TrashCommand::Purge(a) => {
            let held = ctx.reg.load()?.instances;
            let held = held.iter().filter_map(|i| i.uuid.clone()).collect();
            purge(&repo, a, &held)
        }
    }
}

/// The engine an unrecorded state's volumes are on: the shell's (as before engines were recorded).
fn shell_engine() -> crate::engine::Engine {
    crate::engine::shell().unwrap_or_else(|_| crate::engine::Engine::local())
}

/// The remote engine a state's volumes are on, if they are not on a local one.
fn remote(s: &Saved) -> Option<&crate::engine::Engine> {
    s.engine.as_ref().filter(|e| !e.is_local())
}

fn list(repo: &Repo) -> Result<i32> {
    let states = saved_states(repo, None)?;
    if states.is_empty() {
        ui::info("nothing is saved");
    }
    // The engine is asked once, and only when a state kept volumes.
    let sizes = states
        .iter()
        .any(|s| !s.volumes.is_empty() && remote(s).is_none())
        .then(kept::sizes);
    for s in &states {
        ui::out(&format!(
            "{}  {}  {}  branch {}{}",
            s.refname,
            s.saved_at,
            s.name,
            s.branch,
            kept_note(s)
        ));
        for v in &s.volumes {
            let size = match (&sizes, remote(s)) {
                // Sizes are asked of this shell's engine only.
                (_, Some(e)) => format!("on engine {}", e.shown()),
                (Some(Ok(m)), None) => m.get(v).cloned().unwrap_or_else(|| "gone".into()),
                _ => "unknown".into(),
            };
            ui::out(&format!("  volume {v}: {size}"));
        }
    }
    if let Some(Err(e)) = &sizes {
        ui::warn(&format!("{e}: volume sizes are unknown"));
    }
    Ok(0)
}

/// Deletes the states chosen (all, or older than `--older-than`), after asking. `held`: the
/// uuids of registered instances, whose volumes are theirs again.
fn purge(repo: &Repo, a: PurgeArgs, held: &BTreeSet<String>) -> Result<i32> {
    let doomed = chosen(repo, a.older_than.as_deref())?;
    if doomed.is_empty() {
        ui::info("nothing to purge");
        return Ok(0);
    }
    for s in &doomed {
        ui::info(&format!("  {}  ({})", s.refname, s.saved_at));
        for v in &s.volumes {
            ui::info(&format!("    volume {v}"));
        }
    }
    if !a.yes {
        confirm_purge(doomed.len())?;
    }
    // A uuid a registered sandbox or a state that stays still holds keeps its volumes.
    let mut keep = held.clone();
    keep.extend(states_left(repo, &doomed)?);
    let mut purged = 0;
    for s in &doomed {
        if let Err(why) = purge_volumes(s, &keep) {
            ui::warn(&format!("kept {} ({why})", s.refname));
            continue;
        }
        purged += 1;
        if let Some(dir) = &s.trash_dir {
            let left = trash::purge(&trash::TrashDir::at(dir))?;
            if !left.is_empty() {
                ui::warn(&format!(
                    "left in place in {} (another filesystem, or a directory holding a .git): {}",
                    dir.display(),
                    left.len()
                ));
            }
        }
        repo.delete_ref(&s.refname)?;
    }
    ui::info(&format!("deleted {purged} saved state(s)"));
    Ok(if purged == doomed.len() { 0 } else { 1 })
}

/// The saved states to purge: all, or those saved before `--older-than` ago.
fn chosen(repo: &Repo, older_than: Option<&str>) -> Result<Vec<Saved>> {
    let cutoff = match older_than {
        None => None,
        Some(age) => {
            let d = humantime::parse_duration(age).map_err(|e| {
                UserError::usage(format!("--older-than {age:?}: {e}"))
                    .hint("use a duration such as 30d or 12h")
            })?;
            Some(SystemTime::now().checked_sub(d).unwrap_or(UNIX_EPOCH))
        }
    };
    let states = saved_states(repo, None)?;
    let mut doomed = Vec::new();
    for s in states {
        let t = repo.commit_time(&s.commit)?;
        let when = UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0));
        if cutoff.is_none_or(|c| when < c) {
            doomed.push(s);
        }
    }
    Ok(doomed)
}

/// Asks before `n` states are deleted for good; refuses without a terminal to ask on.
fn confirm_purge(n: usize) -> Result<()> {
    if !ui::interactive() {
        return Err(UserError::usage(
            "not purging without confirmation: there is no terminal to ask on",
        )
        .hint("pass --yes to confirm")
        .into());
    }
    if !ui::confirm(&format!("Delete these {n} saved state(s) for good?")) {
        return Err(UserError::new("not confirmed; nothing was deleted").into());
    }
    Ok(())
}

/// The uuids the states not being purged hold.
fn states_left(repo: &Repo, doomed: &[Saved]) -> Result<BTreeSet<String>> {
    let going: BTreeSet<&str> = doomed.iter().map(|s| s.refname.as_str()).collect();
    Ok(saved_states(repo, None)?
        .into_iter()
        .filter(|s| !going.contains(s.refname.as_str()))
        .filter_map(|s| s.uuid)
        .collect())
}

/// Deletes the state's volumes that carry its uuid; an error (keeping the state) when one
/// cannot be deleted or the engine cannot say whose it is.
fn purge_volumes(s: &Saved, keep: &BTreeSet<String>) -> Result<(), String> {
    let Some(uuid) = s.uuid.as_deref() else {
        return Ok(());
    };
    // Its volumes are on the engine its stack ran on.
    crate::engine::select(&s.engine.clone().unwrap_or_else(shell_engine));
    for v in &s.volumes {
        if keep.contains(uuid) {
            ui::info(&format!(
                "kept volume {v}: a sandbox or another saved state uses it"
            ));
            continue;
        }
        match kept::delete_if_ours(v, uuid).map_err(|e| format!("volume {v}: {e}"))? {
            Purged::Deleted => ui::info(&format!("deleted volume {v}")),
            Purged::Gone => {}
            Purged::NotOurs => ui::warn(&format!(
                "kept volume {v}: it does not carry this sandbox's label, so it is not its"
            )),
        }
    }
    Ok(())
}
