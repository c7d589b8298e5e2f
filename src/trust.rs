//! Trust: whatever the repository's config can make git-sandbox do (its commands, where
//! sandboxes go, which ignored files `rm` deletes, what is copied: `config::Asks`) applies
//! only once the user approved that exact set, per user and per repo, by a hash of the set
//! (`trust.json` beside the registry). A hash of the requests rather than of the whole file:
//! changing a port or the env prefix asks nothing again, changing anything that runs, writes
//! or deletes does. With only commands, the hash is the one approvals were stored under before
//! the other keys joined, so those stay approved.
//!
//! Each command that uses the requests settles the question once, first ([`settle`]):
//! approved already, `--yes` (this run only, nothing stored), or asked on a terminal (and
//! remembered). Otherwise the safe meaning holds (`config/asks.rs`) and stderr says once what
//! was ignored and how to approve. The commands' own gate (`lifecycle.rs`) follows the
//! verdict, and asks only if nothing asked yet.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::config::{Config, FILE_NAME, Verdict};
use crate::git::Repo;
use crate::registry::Registry;
use crate::ui;

/// How the user answers this time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Consent {
    /// `--yes`: apply them this once without asking (nothing is stored).
    pub yes: bool,
    /// Never ask, even on a terminal (the agent hook; `rm`, whose `--yes` confirms a removal
    /// and approves nothing).
    pub never_ask: bool,
}

impl Consent {
    /// Approved only if stored: nothing is asked.
    pub fn stored_only() -> Consent {
        Consent {
            yes: false,
            never_ask: true,
        }
    }
}

/// Decides, once per run, whether `cfg`'s requests apply, and applies them if so (see the
/// module doc). Says on stderr what was ignored when they do not.
pub fn settle(cfg: &mut Config, repo: &Repo, reg: &Registry, consent: Consent) {
    if cfg.verdict != Verdict::Pending || cfg.asks.is_empty() {
        return;
    }
    if consent.yes || trusted(repo, cfg, reg) {
        cfg.grant();
        return;
    }
    if !consent.never_ask && ui::interactive() {
        if ask(cfg) {
            match trust(repo, cfg, reg) {
                Ok(()) => cfg.grant(),
                Err(e) => ui::warn(&format!("{e:#}; not approved")),
            }
            return;
        }
        cfg.verdict = Verdict::Declined;
    }
    notice(cfg, !consent.never_ask);
}

/// Asks on the terminal, showing every request.
fn ask(cfg: &Config) -> bool {
    ui::info(&format!(
        "{FILE_NAME} asks for things that run, write or delete on your machine:"
    ));
    for l in cfg.asks.listing() {
        ui::info(&l);
    }
    ui::confirm("Trust them for this repo (asked again if they change)?")
}

/// Once per process: which keys were ignored and how to approve them (`yes_helps`: this
/// command's `--yes` would apply them).
fn notice(cfg: &Config, yes_helps: bool) {
    static SAID: AtomicBool = AtomicBool::new(false);
    let keys = cfg.asks.withheld();
    if keys.is_empty() || SAID.swap(true, Ordering::Relaxed) {
        return;
    }
    let mut instead: Vec<&str> = Vec::new();
    for key in &keys {
        let what = match *key {
            "path" => "sandboxes go to the default path",
            "local_prod.path" => "local-prod goes to the default path",
            "disposable" => "every ignored file is kept in the trash",
            "compose.delete_volumes" => "rm keeps a sandbox's volumes with its saved state",
            _ => "nothing is copied",
        };
        if !instead.contains(&what) {
            instead.push(what);
        }
    }
    ui::warn(&format!(
        "{FILE_NAME}'s {} not trusted yet, so ignored: {}",
        if keys.len() == 1 {
            format!("{} is", keys[0])
        } else {
            format!("{} are", keys.join(", "))
        },
        instead.join(", ")
    ));
    ui::info(&format!(
        "hint: read them (`git sandbox trust --show`), then approve with `git sandbox trust`{}",
        if yes_helps {
            ", or pass --yes for one run"
        } else {
            ""
        }
    ));
}

/// The requests' fingerprint: libgit2's blob hash of their JSON, in-process.
fn fingerprint(cfg: &Config) -> String {
    let text = serde_json::to_string(&cfg.asks).unwrap_or_default();
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
    crate::atomic::write(&store_file(reg), &serde_json::to_vec_pretty(store)?, 0o600)
}

/// Whether the current requests of `repo` are the ones the user approved.
pub fn trusted(repo: &Repo, cfg: &Config, reg: &Registry) -> bool {
    let key = repo.root.display().to_string();
    load(reg).repos.get(&key) == Some(&fingerprint(cfg))
}

/// Records the current requests of `repo` as approved (`git sandbox trust`).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_only_keep_the_fingerprint_approvals_were_stored_under() {
        let mut cfg = Config::default();
        cfg.asks.setup = vec!["npm ci".into()];
        let before = serde_json::json!({ "setup": ["npm ci"], "teardown": [] }).to_string();
        let old = git2::Oid::hash_object(git2::ObjectType::Blob, before.as_bytes())
            .map(|o| o.to_string())
            .unwrap_or_default();
        assert_eq!(fingerprint(&cfg), old);
        cfg.asks.copy = vec![".env.local".into()];
        assert_ne!(fingerprint(&cfg), old);
    }
}
