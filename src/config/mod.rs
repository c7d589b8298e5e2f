//! `.sandbox.toml`: the project's optional, committed configuration, and the port plan that
//! follows from it.
//!
//! Loading proves the plan sound before anything uses it: every port of every slot
//! `0..=max_slots` (local-prod's overrides included for slot 0) lies in 1024..=65535 and no two
//! collide; otherwise the error names both owners. Without `max_slots`, a repo with ports gets
//! as many slots as its plan fits (at most 1000), and one without ports has no slot limit.
//! Unknown keys and wrong types are errors naming the file, the line and the key.
//!
//! Slot `s` gets `base + s` for a single port and `base + s*stride + 0..count` for a group.

//! Steps, one module each: `raw` reads the TOML as written, `parse` checks and applies it
//! field by field, `plan` turns the ports into each slot's numbers and proves them apart,
//! `names` expands path templates and makes variable names.

mod asks;
mod names;
mod parse;
mod plan;
mod raw;

use std::path::Path;

use anyhow::Result;

use crate::error::UserError;

pub use asks::{Asks, Verdict, worktreeinclude_patterns};
pub use names::{env_name, expand_template, word};
pub use plan::{MAX_SLOTS, Port, PortSpec};

/// The file name at the repo root.
pub const FILE_NAME: &str = ".sandbox.toml";

/// Regenerable caches `rm` deletes rather than keeps, unless `disposable` says otherwise.
pub const DEFAULT_DISPOSABLE: &[&str] = &["node_modules/", "target/", ".venv/", "__pycache__/"];
/// The loaded, validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub env_prefix: String,
    /// `max_slots` as the file says it, if it does.
    pub max_slots: Option<u32>,
    /// The slots a sandbox of this repo may take (`1..=limit`): `max_slots` when set, else as
    /// many as the port plan fits; `None` (no limit) for a repo without ports.
    pub slot_limit: Option<u32>,
    /// Why the plan fits no more than `slot_limit` slots, when the plan set the limit.
    pub limit_reason: Option<String>,
    pub env_file: String,
    pub path_template: String,
    pub copy: Vec<String>,
    /// `.worktreeinclude`'s patterns (as `copy` patterns for ignored files).
    pub worktreeinclude: Vec<String>,
    pub protect: Vec<String>,
    /// Ignored directories and files `rm` deletes instead of keeping in the trash (globs
    /// matched against each path component; a trailing `/` matches directories only).
    pub disposable: Vec<String>,
    pub ports: Vec<PortSpec>,
    /// `[compose] file` or `compose_files`: the compose files, in order, relative to the root
    /// (empty: found the way compose finds them, see `compose::files`).
    pub compose_files: Vec<String>,
    /// `[compose] compose_files` gave the list: exactly those files (like `-f a -f b`); with
    /// `file`, a standard-named file still brings its override, as compose reads it.
    pub compose_listed: bool,
    pub compose_profile: Option<String>,
    /// `[compose] delete_volumes`: `rm` deletes the sandbox's own volumes at once instead of
    /// keeping them with the trash state. Repo config, so it counts only once the repo is
    /// trusted (`git sandbox trust`), like the commands.
    pub delete_volumes: bool,
    /// `[compose] seed`: the volumes a sandbox's stack starts with a copy of (`crate::seed`).
    pub seed: Seed,
    pub local_prod_path: String,
    pub local_prod_profile: Option<String>,
    pub local_prod_ports: Vec<PortSpec>,
    /// `[commands] setup`: run in a sandbox, with its env, after `new`, `restore`, `adopt`.
    pub setup: Vec<String>,
    /// `[commands] teardown`: run before `rm` stops its services.
    pub teardown: Vec<String>,
    /// The file did not load, and these are the safe stand-ins `down` and `rm` work with
    /// ([`Config::load_or_safe`]): nothing is written from them.
    pub degraded: bool,
    /// What the repository asks for that needs trust; withheld (the fields above hold the safe
    /// meaning) until [`Config::grant`] (see `asks.rs` and `crate::trust`).
    pub asks: Asks,
    /// Whether this run applies `asks`.
    pub verdict: Verdict,
}

/// `[compose] seed`: every volume the sandbox's stack creates, or these keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seed {
    All,
    Keys(Vec<String>),
}

impl Default for Config {
    fn default() -> Self {
        Config {
            env_prefix: String::new(),
            max_slots: None,
            slot_limit: None,
            limit_reason: None,
            env_file: ".env.sandbox".into(),
            path_template: "../{repo}--{name}".into(),
            copy: Vec::new(),
            worktreeinclude: Vec::new(),
            protect: Vec::new(),
            disposable: DEFAULT_DISPOSABLE.iter().map(|s| s.to_string()).collect(),
            ports: Vec::new(),
            compose_files: Vec::new(),
            compose_listed: false,
            compose_profile: None,
            delete_volumes: false,
            seed: Seed::Keys(Vec::new()),
            local_prod_path: "../{repo}-prod".into(),
            local_prod_profile: None,
            local_prod_ports: Vec::new(),
            setup: Vec::new(),
            teardown: Vec::new(),
            degraded: false,
            asks: Asks::default(),
            verdict: Verdict::Pending,
        }
    }
}

impl Config {
    /// Loads `<root>/.sandbox.toml`, or the defaults when there is none, with what needs
    /// trust withheld (`asks.rs`).
    pub fn load(root: &Path) -> Result<Config> {
        let file = root.join(FILE_NAME);
        match std::fs::read_to_string(&file) {
            Ok(text) => Config::parse(&text, &file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut cfg = Config::default();
                cfg.withhold(Some(root));
                Ok(cfg)
            }
            Err(e) => Err(UserError::new(format!("cannot read {}: {e}", file.display())).into()),
        }
    }

    /// For `down` and `rm`, which must work even when the file is broken (a typo must never
    /// strand a running stack): the config, or else safe stand-ins and a warning. The
    /// stand-ins delete no ignored file (every one is kept in the trash), run no command, and
    /// write no env file; compose still finds the project by its name, the instance id.
    pub fn load_or_safe(root: &Path) -> Config {
        match Config::load(root) {
            Ok(cfg) => cfg,
            Err(e) => {
                crate::ui::warn(&format!(
                    "{e:#}\n  working without it: no ignored file is deleted (all are kept in the trash), no teardown runs"
                ));
                Config {
                    disposable: Vec::new(),
                    degraded: true,
                    ..Config::default()
                }
            }
        }
    }

    /// Parses and validates the text of a config file: read the TOML, apply the top-level
    /// fields, the lists, the ports and local-prod's overrides, prove the plan, then withhold
    /// what needs trust (with `.worktreeinclude` beside the file).
    pub fn parse(text: &str, file: &Path) -> Result<Config> {
        let raw = raw::read(text, file)?;
        let bad = |msg: String| -> anyhow::Error {
            UserError::new(format!("{}: {msg}", file.display())).into()
        };
        let mut cfg = Config::default();
        parse::top_level(&mut cfg, &raw).map_err(bad)?;
        parse::lists(&mut cfg, &raw).map_err(bad)?;
        parse::ports(&mut cfg, &raw).map_err(bad)?;
        parse::local_prod(&mut cfg, &raw).map_err(bad)?;
        cfg.prove_plan().map_err(bad)?;
        cfg.withhold(file.parent());
        Ok(cfg)
    }
}
