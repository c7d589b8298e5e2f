//! `seed --json` and `volumes --json`.

use schemars::JsonSchema;
use serde::Serialize;

use super::Version;

/// `seed --json`: what each volume's seed did.
#[derive(Serialize, JsonSchema)]
pub struct Seed {
    pub version: Version,
    pub sandbox: String,
    /// `main` or `local-prod` (`saved` for `--undo`).
    pub from: String,
    pub volumes: Vec<Seeded>,
}

/// One volume's seed.
#[derive(Serialize, JsonSchema)]
pub struct Seeded {
    /// The compose key (`dbdata`).
    pub key: String,
    /// The sandbox's volume on the engine.
    pub volume: String,
    /// The volume copied from.
    pub source: String,
    /// `seeded`, or `kept` (it existed and was left alone).
    pub result: String,
    /// Bytes of the archive streamed.
    pub bytes: u64,
    pub seconds: f64,
    /// Containers paused for the copy (the source's running ones).
    pub paused: Vec<String>,
    /// How long they were paused, in milliseconds.
    pub paused_ms: u64,
    /// The saved volume holding the data a `--reset` replaced.
    pub saved: Option<String>,
}

/// `volumes --json`.
#[derive(Serialize, JsonSchema)]
pub struct Volumes {
    pub version: Version,
    pub sandbox: String,
    pub volumes: Vec<Volume>,
}

/// One volume carrying the sandbox's identity.
#[derive(Serialize, JsonSchema)]
pub struct Volume {
    pub name: String,
    /// The compose key, for the stack's own volumes.
    pub key: Option<String>,
    /// Docker's size text (`1.07GB`), when the engine says.
    pub size: Option<String>,
    /// The volume it was seeded from.
    pub seeded_from: Option<String>,
    /// Unix seconds of the seed.
    pub seeded_at: Option<u64>,
    /// `seeded`, `incomplete` (a cut-short copy, redone by the next seed or up), `empty`
    /// (made by compose), or `saved` (a `--reset`'s copy of the old data).
    pub state: String,
    /// For a saved copy: the volume whose data it holds.
    pub saved_from: Option<String>,
}
