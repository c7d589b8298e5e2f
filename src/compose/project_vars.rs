//! The variables a project already uses, for `init`'s env prefix: every variable its compose
//! files read (`${VAR}`, `$VAR`, `${VAR:-x}`…), every key of its `.env` and of each service's
//! `env_file:`. A prefix is free when every such variable that starts with it is a variable
//! the files read only for published host ports (the plan takes its name, and the env file
//! then drives it); anything else starting with it could be overridden by a plan variable.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use yaml_rust2::Yaml;

use super::vars::{self, Usage};

/// What the project's variables are used for.
pub struct ProjectVars {
    usage: BTreeMap<String, Usage>,
    /// Keys of `.env` and the services' env files.
    files: BTreeSet<String>,
}

impl ProjectVars {
    /// Reads the compose files, the `.env` beside the first, and the env files they name.
    pub fn read(compose_files: &[PathBuf]) -> ProjectVars {
        let usage = vars::usage(compose_files);
        let mut files = BTreeSet::new();
        let dir = compose_files
            .first()
            .and_then(|f| f.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut env_files = vec![dir.join(".env")];
        for doc in compose_files.iter().filter_map(|f| super::raw::load(f)) {
            env_files.extend(named_env_files(&doc).into_iter().map(|f| dir.join(f)));
        }
        for f in env_files {
            files.extend(super::raw::dotenv(&f).into_iter().map(|(k, _)| k));
        }
        ProjectVars { usage, files }
    }

    /// Whether a variable is one the files read only for published host ports.
    fn host_only(&self, var: &str) -> bool {
        self.usage
            .get(var)
            .is_some_and(|u| !u.host_ports.is_empty() && u.elsewhere.is_empty())
    }

    /// The variables starting with `prefix` that a plan variable could override.
    pub fn clashes(&self, prefix: &str) -> Vec<String> {
        self.usage
            .keys()
            .chain(&self.files)
            .filter(|v| v.starts_with(prefix) && !self.host_only(v))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The first free one of `wanted`, else of `<WANTED>SBX_`, `SBX_<WANTED>` (the first
    /// wanted), `SBX_`, `SBX2_`… (see the module doc).
    pub fn free_prefix(&self, wanted: &[&str]) -> String {
        let mut candidates: Vec<String> = wanted.iter().map(|w| w.to_string()).collect();
        if let Some(wanted) = wanted.first().filter(|w| !w.is_empty()) {
            candidates.push(format!("{wanted}SBX_"));
            candidates.push(format!("SBX_{wanted}"));
        }
        candidates.push("SBX_".into());
        candidates
            .into_iter()
            .chain((2..).map(|n| format!("SBX{n}_")))
            .find(|p| self.clashes(p).is_empty())
            .unwrap_or_default()
    }
}

/// The `env_file:` paths of every service (a string, a list, or the long form's `path`).
fn named_env_files(doc: &Yaml) -> Vec<String> {
    let mut out = Vec::new();
    for svc in doc["services"]
        .as_hash()
        .into_iter()
        .flat_map(|h| h.values())
    {
        match &svc["env_file"] {
            Yaml::String(s) => out.push(s.clone()),
            Yaml::Array(list) => out.extend(
                list.iter()
                    .filter_map(|i| i.as_str().or_else(|| i["path"].as_str()))
                    .map(String::from),
            ),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_the_project_uses_for_anything_but_host_ports_is_passed_over() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("compose.yml");
        std::fs::write(
            &f,
            "services:\n  web:\n    env_file: [app.env]\n    ports: [\"${APP_WEB_PORT:-8000}:80\"]\n    environment: {R: \"redis:${APP_REDIS_PORT}\"}\n",
        )
        .expect("write");
        std::fs::write(dir.path().join(".env"), "APP_WEB_PORT=8000\n").expect("env");
        std::fs::write(dir.path().join("app.env"), "SBX_TOKEN=x\n").expect("env");
        let vars = ProjectVars::read(&[f]);
        assert_eq!(vars.clashes("APP_"), ["APP_REDIS_PORT"]);
        assert!(
            vars.clashes("APP_WEB").is_empty(),
            "a host-only port variable"
        );
        assert_eq!(vars.free_prefix(&["APP_"]), "APP_SBX_");
        assert_eq!(
            vars.free_prefix(&[""]),
            "SBX2_",
            "SBX_TOKEN is the env file's"
        );
        assert_eq!(vars.free_prefix(&["APP_", "SHOP_"]), "SHOP_");
    }
}
