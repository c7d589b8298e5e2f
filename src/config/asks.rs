//! What the repository's files ask git-sandbox to run, write or delete: applied only once the
//! user trusts them (`crate::trust`). The repository is someone else's code until then.
//!
//! Loading withholds them: the config's own fields hold the safe meaning (the default `path`s,
//! no `disposable` patterns of the repo's, so every ignored file is kept in the trash, nothing
//! copied) and [`Asks`] holds what the files said. [`Config::grant`] puts them in place. So a
//! command that never asks for trust works with the safe meaning by construction.
//!
//! Asked for: `[commands] setup/teardown` (they stay in the config; `lifecycle` gates their
//! running), `path`, `local_prod.path`, `disposable` patterns beyond the tool's own default
//! (`node_modules/`, `target/`…: the default is the tool's, not the repo's), `copy`, and the
//! patterns of `.worktreeinclude`, `[compose] delete_volumes`. A key that later runs, writes or deletes belongs here.
//! Ports, names, the env file's name, compose's file and profile do none of that.

use std::path::Path;

use serde::Serialize;

use super::{Config, DEFAULT_DISPOSABLE};

/// The requests, in the shape their fingerprint is the hash of: with only commands, exactly
/// the `{"setup":…,"teardown":…}` earlier approvals were stored for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Asks {
    pub setup: Vec<String>,
    pub teardown: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_prod_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposable: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copy: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub worktreeinclude: Vec<String>,
    /// `[compose] delete_volumes = true`: `rm` deletes a sandbox's volumes at once.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub delete_volumes: bool,
}

/// Whether this run applies the repository's requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verdict {
    /// Not decided: nothing was asked (or could be); the safe meaning holds.
    #[default]
    Pending,
    /// Approved (stored, `--yes`, or answered now): the requests are in place.
    Trusted,
    /// The user said no on the terminal: the safe meaning holds and nothing asks again.
    Declined,
}

impl Asks {
    /// Nothing needs trust.
    pub fn is_empty(&self) -> bool {
        *self == Asks::default()
    }

    /// The keys other than commands that ask for something, as the file names them.
    pub fn withheld(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (key, asked) in [
            ("path", self.path.is_some()),
            ("local_prod.path", self.local_prod_path.is_some()),
            ("disposable", self.disposable.is_some()),
            ("copy", !self.copy.is_empty()),
            (".worktreeinclude", !self.worktreeinclude.is_empty()),
            ("compose.delete_volumes", self.delete_volumes),
        ] {
            if asked {
                out.push(key);
            }
        }
        out
    }

    /// Every request as a line, for the question and `trust --show`.
    pub fn listing(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (key, list) in [("setup", &self.setup), ("teardown", &self.teardown)] {
            out.extend(list.iter().map(|c| format!("  {key}: {c}")));
        }
        let mut line = |key: &str, what: String| out.push(format!("  {key}: {what}"));
        if let Some(p) = &self.path {
            line("path", format!("{p:?} (where sandboxes are made)"));
        }
        if let Some(p) = &self.local_prod_path {
            line(
                "local_prod.path",
                format!("{p:?} (where local-prod is made)"),
            );
        }
        if let Some(d) = &self.disposable {
            line(
                "disposable",
                format!("{d:?} (ignored files rm deletes for good)"),
            );
        }
        if !self.copy.is_empty() {
            line(
                "copy",
                format!("{:?} (copied from the main worktree)", self.copy),
            );
        }
        if !self.worktreeinclude.is_empty() {
            let what = format!("{:?} (copied from the main worktree)", self.worktreeinclude);
            line(".worktreeinclude", what);
        }
        if self.delete_volumes {
            line(
                "[compose] delete_volumes",
                "true (rm deletes a sandbox's volumes at once, not kept with its saved state)"
                    .into(),
            );
        }
        out
    }
}

impl Config {
    /// Moves what needs trust out of the config into `asks`, leaving the safe meaning.
    pub(super) fn withhold(&mut self, root: Option<&Path>) {
        let safe = Config::default();
        let asks = &mut self.asks;
        asks.setup = self.setup.clone();
        asks.teardown = self.teardown.clone();
        if self.path_template != safe.path_template {
            asks.path = Some(std::mem::replace(
                &mut self.path_template,
                safe.path_template,
            ));
        }
        if self.local_prod_path != safe.local_prod_path {
            asks.local_prod_path = Some(std::mem::replace(
                &mut self.local_prod_path,
                safe.local_prod_path,
            ));
        }
        if self
            .disposable
            .iter()
            .any(|d| !DEFAULT_DISPOSABLE.contains(&d.as_str()))
        {
            asks.disposable = Some(std::mem::take(&mut self.disposable));
        }
        asks.copy = std::mem::take(&mut self.copy);
        asks.worktreeinclude = root.map(worktreeinclude).unwrap_or_default();
        asks.delete_volumes = std::mem::take(&mut self.delete_volumes);
    }

    /// Puts the repository's requests in place: the user trusts them for this run.
    pub fn grant(&mut self) {
        let a = self.asks.clone();
        if let Some(p) = a.path {
            self.path_template = p;
        }
        if let Some(p) = a.local_prod_path {
            self.local_prod_path = p;
        }
        if let Some(d) = a.disposable {
            self.disposable = d;
        }
        self.copy = a.copy;
        self.worktreeinclude = a.worktreeinclude;
        self.delete_volumes = a.delete_volumes;
        self.verdict = Verdict::Trusted;
    }
}

/// The patterns of `.worktreeinclude` in the main worktree (the convention Claude Code,
/// Conductor and worktrunk share), as `copy` patterns: gitignore-style lines, where a
/// pattern without a `/` matches at any depth and a leading `/` anchors it at the root.
/// Comments, blank lines and `!` negations are skipped.
fn worktreeinclude(root: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(root.join(".worktreeinclude")) else {
        return Vec::new();
    };
    worktreeinclude_patterns(&text)
}

/// The `copy` patterns of a `.worktreeinclude` text (see [`worktreeinclude`]).
pub fn worktreeinclude_patterns(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .filter(|l| !l.split('/').any(|part| part == ".."))
        .map(|l| {
            let l = l.trim_end_matches('/');
            match l.strip_prefix('/') {
                Some(anchored) => anchored.to_string(),
                None if l.contains('/') => l.to_string(),
                None => format!("**/{l}"),
            }
        })
        .collect()
}
