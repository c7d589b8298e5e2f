//! The last step of the rewrite: the instance's uuid ([`crate::compose::owner::LABEL`]) on
//! everything its stack creates, so ownership is proven by label, never guessed from a name:
//! every service's containers, every volume and network compose creates (the `default`
//! network too). Not an `external` one, nor one that keeps a fixed `name:` (local-prod's
//! volumes shared with the sandboxes): those are not the instance's to stop or delete.

use yaml_rust2::Yaml;
use yaml_rust2::yaml::Hash;

use super::{key, services};
use crate::compose::owner::LABEL;

/// Labels the services, volumes and networks of `doc` with `uuid`.
pub(super) fn apply(doc: &mut Yaml, uuid: &str) {
    if let Some(services) = services(doc) {
        for (_, svc) in services.iter_mut() {
            if let Yaml::Hash(svc) = svc {
                set(svc, uuid);
            }
        }
    }
    let Yaml::Hash(top) = doc else { return };
    if !top.contains_key(&key("networks")) {
        top.insert(key("networks"), Yaml::Hash(Hash::new()));
    }
    if let Some(Yaml::Hash(nets)) = top.get_mut(&key("networks"))
        && !nets.contains_key(&key("default"))
    {
        nets.insert(key("default"), Yaml::Null);
    }
    for section in ["volumes", "networks"] {
        let Some(Yaml::Hash(entries)) = top.get_mut(&key(section)) else {
            continue;
        };
        for (_, entry) in entries.iter_mut() {
            if matches!(entry, Yaml::Null) {
                *entry = Yaml::Hash(Hash::new());
            }
            let Yaml::Hash(h) = entry else { continue };
            let external = !matches!(
                h.get(&key("external")),
                None | Some(Yaml::Null) | Some(Yaml::Boolean(false))
            );
            if !external && !h.contains_key(&key("name")) {
                set(h, uuid);
            } else {
                // Not the instance's: nor anyone's by a label the files wrote.
                unset(h);
            }
        }
    }
}

/// Sets our label in `labels:`, in its map or its list form, replacing any value the files
/// gave it (a compose file cannot claim another instance's things).
fn set(h: &mut Hash, uuid: &str) {
    let labels = h
        .entry(key("labels"))
        .or_insert_with(|| Yaml::Hash(Hash::new()));
    match labels {
        Yaml::Array(list) => {
            list.retain(|l| {
                l.as_str()
                    .is_none_or(|s| s.split('=').next() != Some(LABEL))
            });
            list.push(key(&format!("{LABEL}={uuid}")));
        }
        Yaml::Hash(map) => {
            map.insert(key(LABEL), key(uuid));
        }
        other => {
            let mut map = Hash::new();
            map.insert(key(LABEL), key(uuid));
            *other = Yaml::Hash(map);
        }
    }
}

/// Drops our label from `labels:`, in either form.
fn unset(h: &mut Hash) {
    match h.get_mut(&key("labels")) {
        Some(Yaml::Array(list)) => list.retain(|l| {
            l.as_str()
                .is_none_or(|s| s.split('=').next() != Some(LABEL))
        }),
        Some(Yaml::Hash(map)) => {
            map.remove(&key(LABEL));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use yaml_rust2::YamlLoader;

    #[test]
    fn what_the_stack_creates_carries_the_uuid_and_nothing_shared_does() {
        let mut doc = YamlLoader::load_from_str(
            "services:\n  a: {image: x, labels: ['dev.git-sandbox.instance=forged', 'k=v']}\n  b: {image: x, labels: {k: v}}\n  c: {image: x}\nvolumes:\n  data:\n  fixed: {name: shared, labels: {dev.git-sandbox.instance: forged}}\n  ext: {external: true}\nnetworks:\n  back: {}\n",
        )
        .expect("yaml")
        .remove(0);
        super::apply(&mut doc, "u-1");
        let l = "dev.git-sandbox.instance";
        let a = doc["services"]["a"]["labels"].as_vec().expect("list");
        assert_eq!(a.len(), 2);
        assert_eq!(a[1].as_str(), Some("dev.git-sandbox.instance=u-1"));
        assert_eq!(doc["services"]["b"]["labels"][l].as_str(), Some("u-1"));
        assert_eq!(doc["services"]["c"]["labels"][l].as_str(), Some("u-1"));
        assert_eq!(doc["volumes"]["data"]["labels"][l].as_str(), Some("u-1"));
        assert!(doc["volumes"]["fixed"]["labels"][l].is_badvalue());
        assert!(doc["volumes"]["ext"]["labels"].is_badvalue());
        assert_eq!(doc["networks"]["back"]["labels"][l].as_str(), Some("u-1"));
        assert_eq!(
            doc["networks"]["default"]["labels"][l].as_str(),
            Some("u-1")
        );
    }
}
