//! The `urls` tool of `git sandbox mcp`: each of a sandbox's ports as a URL on its engine's
//! host (localhost for a local engine), built from `status --json`'s `ports` and `engine` as
//! `new --json`'s `urls` are (`env::url`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::Version;

/// A sandbox's ports as `http://HOST:PORT` (HOST: localhost, or a remote engine's host), by port name.
#[derive(Serialize, JsonSchema)]
pub struct Urls {
    pub version: Version,
    pub name: String,
    pub urls: BTreeMap<String, String>,
}

impl Urls {
    /// From the JSON of `status --json` (schema/status.json); `None` if it is not that.
    pub fn of_status(status: &Value) -> Option<Urls> {
        let sandbox = status.get("sandbox")?;
        let name = sandbox.get("name")?.as_str()?.to_string();
        // A remote engine's services answer on its host (`sandbox.engine`, null when local).
        let host = sandbox
            .get("engine")
            .and_then(|e| serde_json::from_value::<crate::engine::Engine>(e.clone()).ok())
            .map_or_else(|| "localhost".to_string(), |e| e.url_host());
        let urls = sandbox
            .get("ports")?
            .as_object()?
            .iter()
            .filter_map(|(k, v)| {
                let port = u32::try_from(v.as_u64()?).ok()?;
                Some((k.clone(), crate::env::url(&host, port)))
            })
            .collect();
        Some(Urls {
            version: Version,
            name,
            urls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_engines_host() {
        let local =
            serde_json::json!({"sandbox": {"name": "a", "ports": {"web": 3001}, "engine": null}});
        let remote = serde_json::json!({"sandbox": {"name": "a", "ports": {"web": 3001},
            "engine": {"name": "tcp://10.1.2.3:2375", "endpoint": "tcp://10.1.2.3:2375"}}});
        let url = |v: &Value| Urls::of_status(v).map(|u| u.urls["web"].clone());
        assert_eq!(url(&local).as_deref(), Some("http://localhost:3001"));
        assert_eq!(url(&remote).as_deref(), Some("http://10.1.2.3:3001"));
    }
}
