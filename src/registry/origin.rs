//! Who made an instance: the user (`new`, `restore`, `local-prod new`), the agent hook (with
//! the agent's session id), or `adopt`. Entries written before this field existed were made by
//! the user. The agent hook hands out and removes only what it made ([`MadeBy::is_agent`]).

use serde::{Deserialize, Serialize};

/// The maker of an instance, as the registry records it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, schemars::JsonSchema)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum MadeBy {
    /// By hand: `new`, `restore`, `local-prod new` (and every entry older than the field).
    #[default]
    User,
    /// `agent-hook worktree-create`, with the session id of the agent that asked, if it gave one.
    Agent {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<String>,
    },
    /// `adopt`: a worktree the user made with git, registered afterwards.
    Adopt,
}

impl MadeBy {
    /// Made by the agent hook (any session).
    pub fn is_agent(&self) -> bool {
        matches!(self, MadeBy::Agent { .. })
    }

    /// How people read it: `you`, `an agent (session …)`, `adopt`.
    pub fn describe(&self) -> String {
        match self {
            MadeBy::User => "you".into(),
            MadeBy::Agent { session: Some(s) } => format!("an agent (session {s})"),
            MadeBy::Agent { session: None } => "an agent".into(),
            MadeBy::Adopt => "you (adopted)".into(),
        }
    }
}
