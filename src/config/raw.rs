//! The config file as written: serde types that refuse unknown keys, and reading them.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde::Deserialize;

use crate::error::UserError;

use super::FILE_NAME;

/// Reads the TOML text; a syntax or type error names the file, the line and the key.
pub(super) fn read(text: &str, file: &Path) -> Result<RawConfig> {
    toml::from_str(text).map_err(|e| {
        let msg = e.to_string().replace(
            "data did not match any variant of untagged enum RawPort",
            "a port is a number (backend = 8000) or a table ({ base = 5010, count = 4, stride = 10 })",
        );
        UserError::new(format!("{}: {}", file.display(), msg.trim_end()))
            .hint(format!("fix {FILE_NAME} (see the README's Configuration section)"))
            .into()
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) env_prefix: Option<String>,
    pub(super) max_slots: Option<u32>,
    pub(super) env_file: Option<String>,
    pub(super) path: Option<String>,
    #[serde(default)]
    pub(super) copy: Vec<String>,
    #[serde(default)]
    pub(super) protect: Vec<String>,
    pub(super) disposable: Option<Vec<String>>,
    #[serde(default)]
    pub(super) ports: BTreeMap<String, RawPort>,
    pub(super) compose: Option<RawCompose>,
    pub(super) local_prod: Option<RawLocalProd>,
    pub(super) commands: Option<RawCommands>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCommands {
    #[serde(default)]
    pub(super) setup: Vec<String>,
    #[serde(default)]
    pub(super) teardown: Vec<String>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
pub(super) enum RawPort {
    Single(i64),
    Group(RawGroup),
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub(super) base: Option<i64>,
    pub(super) count: Option<i64>,
    pub(super) stride: Option<i64>,
    /// The host port the compose file publishes for it (default: `base`): sandboxes publish
    /// this slot's port in its place.
    pub(super) published: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCompose {
    pub(super) file: Option<String>,
    pub(super) compose_files: Option<Vec<String>>,
    pub(super) profile: Option<String>,
    pub(super) delete_volumes: Option<bool>,
    pub(super) seed: Option<RawSeed>,
}

/// `seed = "all"` or `seed = ["dbdata", …]`.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
pub(super) enum RawSeed {
    Word(String),
    Keys(Vec<String>),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLocalProd {
    pub(super) path: Option<String>,
    pub(super) profile: Option<String>,
    #[serde(default)]
    pub(super) ports: BTreeMap<String, RawPort>,
}
