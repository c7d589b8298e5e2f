//! The volumes of compose's model: which keys keep compose's default `<project>_<key>` name and
//! which are declared with a fixed `name:` or `external` (shared, never deleted by `rm`).
//!
//! The model is the rendered file when there is one (compose's model, rewritten for the
//! sandbox), else compose's own (`<compose> … config`, whose output is YAML in v1 and v2 alike,
//! with variables resolved; v2 writes every default name out, which counts as the default);
//! when that fails, the compose file itself, where a `name:` still holding a variable counts as
//! fixed. `None` when neither can be read.

use std::collections::BTreeMap;
use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

use super::{Tool, command, find_file, render};
use crate::config::Config;
use crate::env;
use crate::registry::Instance;
use Declared::{External, Fixed, Own};

/// How the compose model declares one volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Declared {
    /// The default `<project>_<key>` (or a `name:` equal to it).
    Own,
    /// A fixed `name:`; `None` when it could not be resolved.
    Fixed(Option<String>),
    /// `external`, under this name.
    External(String),
}

/// The volumes of compose's model, by key.
pub(super) type Model = BTreeMap<String, Declared>;

/// The model of the instance's compose file (see the module doc); `None` when unreadable.
pub(super) fn read_model(cfg: &Config, inst: &Instance, dir: &Path) -> Option<Model> {
    let project = env::compose_project(&inst.id);
    // The rendered file is compose's model already (what `up` ran): read, not re-run.
    if let Some(m) = render::existing(dir)
        .and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|t| parse_model(&project, &t))
    {
        return Some(m);
    }
    let from_compose = || -> Option<String> {
        // Without its env file the command would write one: this must change nothing.
        if !dir.join(&cfg.env_file).is_file() {
            return None;
        }
        let tool = Tool::detect().ok()?;
        super::config_text(command(&tool, cfg, inst, dir).ok()?)
    };
    if let Some(m) = from_compose().and_then(|t| parse_model(&project, &t)) {
        return Some(m);
    }
    let text = std::fs::read_to_string(find_file(dir, cfg).ok()?).ok()?;
    parse_model(&project, &text)
}

/// The top-level `volumes:` of a compose file or model.
pub(super) fn parse_model(project: &str, text: &str) -> Option<Model> {
    let docs = YamlLoader::load_from_str(text).ok()?;
    let doc = docs.first()?;
    let mut model = Model::new();
    let Some(volumes) = doc["volumes"].as_hash() else {
        return Some(model);
    };
    for (k, v) in volumes {
        let Some(key) = k.as_str() else { continue };
        let resolved = |n: &Yaml| {
            n.as_str()
                .map(|s| (!s.contains('$')).then(|| s.to_string()))
        };
        let name = resolved(&v["name"]);
        let external = &v["external"];
        let declared = if external.as_bool() == Some(true) || external.as_hash().is_some() {
            // The old form `external: { name: x }` names it there.
            match resolved(&external["name"]).or(name) {
                Some(Some(n)) => External(n),
                Some(None) => Fixed(None),
                None => External(key.to_string()),
            }
        } else {
            match name {
                Some(Some(n)) if n == format!("{project}_{key}") => Own,
                Some(n) => Fixed(n),
                None => Own,
            }
        };
        model.insert(key.to_string(), declared);
    }
    Some(model)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::compose) const FILE: &str = "volumes:\n  data:\n  pg:\n    name: shared_pgdata\n  ext:\n    external: true\n  old:\n    external:\n      name: oldext\n  var:\n    name: ${VOL}\n  same:\n    name: p--a_same\n";

    #[test]
    fn parses_fixed_external_and_default_volumes() {
        let m = parse_model("p--a", FILE).expect("model");
        assert_eq!(m["data"], Own);
        assert_eq!(m["pg"], Fixed(Some("shared_pgdata".into())));
        assert_eq!(m["ext"], External("ext".into()));
        assert_eq!(m["old"], External("oldext".into()));
        assert_eq!(m["var"], Fixed(None));
        assert_eq!(m["same"], Own);
        assert_eq!(parse_model("p", "services: {}\n"), Some(Model::new()));
        assert_eq!(parse_model("p", "volumes: [unclosed\n"), None);
    }
}
