//! YAML merge keys as compose reads them, for the files git-sandbox reads itself (the
//! renderer's fallback, the variable scan). The YAML reader already copies aliases (`*x`) in
//! place of their anchors; a merge key (`<<: *x`, `<<: [*a, *b]`) is left as a plain `<<` key,
//! which compose would refuse in a rendered file. [`resolve`] merges them: keys of the mapping
//! itself win over merged ones, and earlier entries of a list over later ones; a merged
//! mapping's own merge keys are resolved first. [`drop_extensions`] then takes out the `x-`
//! blocks the merges have used, so nothing in them (a `${…}` compose cannot read) can stop
//! compose.

use yaml_rust2::Yaml;
use yaml_rust2::yaml::Hash;

const MERGE: &str = "<<";

/// `y` with every merge key resolved (see the module doc).
pub fn resolve(y: Yaml) -> Yaml {
    match y {
        Yaml::Hash(h) => Yaml::Hash(resolve_hash(h)),
        Yaml::Array(a) => Yaml::Array(a.into_iter().map(resolve).collect()),
        other => other,
    }
}

fn resolve_hash(h: Hash) -> Hash {
    let mut own = Hash::new();
    let mut sources: Vec<Yaml> = Vec::new();
    for (k, v) in h {
        if k.as_str() == Some(MERGE) {
            match v {
                Yaml::Array(list) => sources.extend(list),
                other => sources.push(other),
            }
        } else {
            own.insert(k, resolve(v));
        }
    }
    for source in sources {
        let Yaml::Hash(from) = resolve(source) else {
            continue;
        };
        for (k, v) in from {
            if !own.contains_key(&k) {
                own.insert(k, v);
            }
        }
    }
    own
}

/// Takes out `x-` keys at the top level and in each service, volume, network, secret and
/// config: compose ignores them, and their content is already wherever a merge used it.
pub fn drop_extensions(doc: &mut Yaml) {
    let Yaml::Hash(top) = doc else { return };
    top.retain(|k, _| !is_extension(k));
    for section in ["services", "volumes", "networks", "secrets", "configs"] {
        if let Some(Yaml::Hash(items)) = top.get_mut(&Yaml::String(section.into())) {
            for item in items.values_mut() {
                if let Yaml::Hash(item) = item {
                    item.retain(|k, _| !is_extension(k));
                }
            }
        }
    }
}

fn is_extension(k: &Yaml) -> bool {
    k.as_str().is_some_and(|k| k.starts_with("x-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::YamlLoader;

    fn load(s: &str) -> Yaml {
        YamlLoader::load_from_str(s).expect("yaml").remove(0)
    }

    #[test]
    fn local_keys_win_and_earlier_list_entries_win() {
        let doc = resolve(load(
            "x-a: &a {image: a, user: a, env: {A: 1}}\n\
             x-b: &b {image: b, user: b, restart: always}\n\
             services:\n  one:\n    <<: [*a, *b]\n    user: own\n  two:\n    <<: *b\n",
        ));
        let one = &doc["services"]["one"];
        assert_eq!(one["user"].as_str(), Some("own"));
        assert_eq!(one["image"].as_str(), Some("a"));
        assert_eq!(one["restart"].as_str(), Some("always"));
        assert_eq!(one["env"]["A"].as_i64(), Some(1));
        assert!(one["<<"].is_badvalue());
        assert_eq!(doc["services"]["two"]["image"].as_str(), Some("b"));
    }

    #[test]
    fn nested_merges_resolve_inside_out_and_deep_maps_are_replaced_not_merged() {
        let doc = resolve(load(
            "x-base: &base {image: base, environment: {A: base, B: base}}\n\
             x-mid: &mid\n  <<: *base\n  environment: {A: mid}\n  logging: {driver: none}\n\
             services:\n  s:\n    <<: *mid\n    deploy:\n      <<: {replicas: 2}\n      replicas: 3\n",
        ));
        let s = &doc["services"]["s"];
        assert_eq!(s["image"].as_str(), Some("base"));
        assert_eq!(s["environment"]["A"].as_str(), Some("mid"));
        assert!(s["environment"]["B"].is_badvalue(), "merges are shallow");
        assert_eq!(s["logging"]["driver"].as_str(), Some("none"));
        assert_eq!(s["deploy"]["replicas"].as_i64(), Some(3));
    }

    #[test]
    fn extension_blocks_go_from_the_top_and_each_definition_only() {
        let mut doc = resolve(load(
            "x-c: &c {image: i, x-doc: \"${A^^}\"}\nservices:\n  s:\n    <<: *c\n    labels: {x-keep: 1}\nvolumes:\n  v: {x-note: 1}\n",
        ));
        drop_extensions(&mut doc);
        assert!(doc["x-c"].is_badvalue());
        assert!(doc["services"]["s"]["x-doc"].is_badvalue());
        assert_eq!(doc["services"]["s"]["image"].as_str(), Some("i"));
        assert_eq!(doc["services"]["s"]["labels"]["x-keep"].as_i64(), Some(1));
        assert!(doc["volumes"]["v"]["x-note"].is_badvalue());
    }
}
