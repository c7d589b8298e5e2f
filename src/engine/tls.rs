//! A docker context's TLS: its certificates (docker keeps them in
//! `<config>/contexts/tls/<sha256 of the name>/docker/{ca,cert,key}.pem`) and whether it skips
//! verification, from `docker context inspect` (once per context and run).
//!
//! An engine is applied as `DOCKER_HOST=endpoint`, so a TLS context's certificates would be
//! lost; they go with it as `DOCKER_TLS_VERIFY=1` and `DOCKER_CERT_PATH=<that dir>` (skipping
//! verification: `DOCKER_TLS=1`, no `DOCKER_TLS_VERIFY`). Chosen over `DOCKER_CONTEXT=name`
//! without `DOCKER_HOST` because the endpoint stays the engine's one key everywhere (the
//! registry, the port probe, the socket check, setup and teardown's env), and compose v1 and
//! docker SDKs in hooks read these variables but not docker contexts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::Engine;

/// A context's TLS settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tls {
    /// The directory holding its `ca.pem`, `cert.pem`, `key.pem`.
    pub cert_path: PathBuf,
    /// False when the context skips verifying the engine's certificate.
    pub verify: bool,
}

impl Tls {
    /// The variables docker (and compose) read for it.
    pub fn vars(&self) -> Vec<(String, String)> {
        let path = self.cert_path.display().to_string();
        let on = if self.verify {
            "DOCKER_TLS_VERIFY"
        } else {
            "DOCKER_TLS"
        };
        vec![
            (on.to_string(), "1".to_string()),
            ("DOCKER_CERT_PATH".to_string(), path),
        ]
    }
}

static CACHE: Mutex<Option<HashMap<String, Option<Tls>>>> = Mutex::new(None);

/// The TLS of the docker context `engine` is named after; `None` for an endpoint, the local
/// engine, a non-TCP endpoint, or a context without TLS.
pub fn of(engine: &Engine) -> Option<Tls> {
    let name = &engine.name;
    if name == &engine.endpoint
        || name == super::LOCAL
        || name.contains("://")
        || !engine.endpoint.starts_with("tcp://")
    {
        return None;
    }
    let Ok(mut cache) = CACHE.lock() else {
        return inspect(name);
    };
    cache
        .get_or_insert_with(HashMap::new)
        .entry(name.clone())
        .or_insert_with(|| inspect(name))
        .clone()
}

fn inspect(name: &str) -> Option<Tls> {
    let out = Command::new("docker")
        .args(["context", "inspect", "--format", "{{json .}}", name])
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// The TLS of one context from its `docker context inspect --format '{{json .}}'`: its
/// `TLSMaterial` for docker (files under `Storage.TLSPath`/docker) and `SkipTLSVerify`.
pub fn parse(json: &str) -> Option<Tls> {
    let v: serde_json::Value = serde_json::from_str(json.trim()).ok()?;
    let v = v.as_array().and_then(|a| a.first()).unwrap_or(&v);
    let skip = v["Endpoints"]["docker"]["SkipTLSVerify"]
        .as_bool()
        .unwrap_or(false);
    let material = v["TLSMaterial"]["docker"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    if !material && !skip {
        return None;
    }
    let dir = v["Storage"]["TLSPath"].as_str()?;
    Some(Tls {
        cert_path: PathBuf::from(dir).join("docker"),
        verify: !skip,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TLS: &str = r#"{"Name":"build","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://10.9.9.9","SkipTLSVerify":false}},"TLSMaterial":{"docker":["ca.pem","cert.pem","key.pem"]},"Storage":{"MetadataPath":"/h/.docker/contexts/meta/efe3","TLSPath":"/h/.docker/contexts/tls/efe3"}}"#;
    const SKIP: &str = r#"[{"Name":"s","Endpoints":{"docker":{"Host":"tcp://h:2376","SkipTLSVerify":true}},"TLSMaterial":{},"Storage":{"TLSPath":"/h/.docker/contexts/tls/e056"}}]"#;
    const PLAIN: &str = r#"{"Name":"p","Endpoints":{"docker":{"Host":"tcp://h:2375","SkipTLSVerify":false}},"TLSMaterial":{},"Storage":{"TLSPath":"/h/.docker/contexts/tls/aaaa"}}"#;

    fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
        v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn a_tls_context_keeps_its_certificates() {
        let tls = parse(TLS).expect("tls");
        assert_eq!(
            pairs(&tls.vars()),
            vec![
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", "/h/.docker/contexts/tls/efe3/docker"),
            ]
        );
        let skip = parse(SKIP).expect("skip");
        assert!(!skip.verify);
        assert_eq!(pairs(&skip.vars())[0], ("DOCKER_TLS", "1"));
        assert_eq!(parse(PLAIN), None);
        assert_eq!(parse("not json"), None);
    }

    #[test]
    fn the_env_built_for_a_tls_engine() {
        let engine = Engine {
            name: "build".into(),
            endpoint: "tcp://10.9.9.9:2375".into(),
        };
        let mut cmd = Command::new("docker");
        engine.apply_with(&mut cmd, parse(TLS).as_ref());
        let envs: Vec<_> = cmd
            .get_envs()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.map(|v| v.to_string_lossy().into_owned()),
                )
            })
            .collect();
        let has = |k: &str, v: Option<&str>| envs.contains(&(k.to_string(), v.map(String::from)));
        assert!(has("DOCKER_HOST", Some("tcp://10.9.9.9:2375")), "{envs:?}");
        assert!(has("DOCKER_TLS_VERIFY", Some("1")), "{envs:?}");
        assert!(
            has(
                "DOCKER_CERT_PATH",
                Some("/h/.docker/contexts/tls/efe3/docker")
            ),
            "{envs:?}"
        );
        assert!(has("DOCKER_CONTEXT", None), "{envs:?}");
        // An endpoint is never looked up as a context.
        assert_eq!(
            of(&Engine {
                name: "tcp://h:1".into(),
                endpoint: "tcp://h:1".into()
            }),
            None
        );
        assert_eq!(of(&Engine::local()), None);
    }
}
