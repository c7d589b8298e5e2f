//! What stays shared between the main checkout's stack and every sandbox's: per service, bind
//! mounts of the container engine's socket, of absolute host paths outside the repo, of home
//! directories (`~`, `$HOME`, `/home/…`, `/root`), of `/` and of `/tmp`. Rendering cannot make
//! these the sandbox's own; the lint names them at `init` and at a sandbox's first `up`.

use std::path::Path;

use yaml_rust2::Yaml;

use super::Finding;
use crate::compose::inputs::bind_source;

/// The engine sockets, as mounted (docker's, and podman's rootful and rootless).
const SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/podman/podman.sock",
    "/var/run/podman/podman.sock",
];

/// The findings for one compose document; `root` is the repo (a path inside it is the
/// sandbox's own copy, so not shared).
pub fn shared(doc: &Yaml, root: &Path, out: &mut Vec<Finding>) {
    let Some(services) = doc["services"].as_hash() else {
        return;
    };
    for (name, svc) in services {
        let name = name.as_str().unwrap_or("?");
        for v in volumes(svc) {
            let Some(source) = bind_source(v) else {
                continue;
            };
            if let Some(kind) = kind(&source, root) {
                out.push(Finding {
                    what: format!("service {name} bind-mounts {source} ({kind})"),
                    fix: format!("{}; sandboxes cannot make it their own", super::SHARED),
                    collides: false,
                });
            }
        }
    }
}

/// Named volumes bound to a host directory (`driver_opts: {type: none, o: bind, device:}`).
pub fn bound_volumes(doc: &Yaml, root: &Path, out: &mut Vec<Finding>) {
    let Some(volumes) = doc["volumes"].as_hash() else {
        return;
    };
    for (key, v) in volumes {
        let opts = &v["driver_opts"];
        let bind = opts["o"]
            .as_str()
            .is_some_and(|o| o.split(',').any(|p| p == "bind"));
        if let (true, Some(device)) = (bind, opts["device"].as_str())
            && let Some(kind) = kind(device, root)
        {
            out.push(Finding {
                what: format!(
                    "volume {} binds {device} ({kind})",
                    key.as_str().unwrap_or("?")
                ),
                fix: format!("{}; sandboxes cannot make it their own", super::SHARED),
                collides: false,
            });
        }
    }
}

/// A service's `volumes:`, also through a merge key.
fn volumes(svc: &Yaml) -> Vec<&Yaml> {
    let mut out: Vec<&Yaml> = svc["volumes"]
        .as_vec()
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    match &svc["<<"] {
        Yaml::Array(list) => list.iter().for_each(|b| out.extend(volumes(b))),
        b @ Yaml::Hash(_) if out.is_empty() => out.extend(volumes(b)),
        _ => {}
    }
    out
}

/// What kind of shared path a bind source is, if it is one.
fn kind(source: &str, root: &Path) -> Option<&'static str> {
    let s = source.trim_end_matches('/');
    let podman_user = s.starts_with("${XDG_RUNTIME_DIR}") || s.starts_with("$XDG_RUNTIME_DIR");
    if SOCKETS.contains(&s)
        || s.ends_with("/docker.sock")
        || (podman_user && s.ends_with("/podman/podman.sock"))
        || s.starts_with("/run/user/") && s.ends_with("/podman.sock")
    {
        return Some("the container engine's socket");
    }
    if s.is_empty() {
        return Some("the host's root directory");
    }
    if s == "/tmp" || s.starts_with("/tmp/") {
        return Some("the host's /tmp");
    }
    let home_var = ["$HOME", "${HOME}", "${HOME:-"]
        .iter()
        .any(|h| s.starts_with(h));
    if s.starts_with('~')
        || home_var
        || s.starts_with("/home/")
        || s == "/root"
        || s.starts_with("/root/")
    {
        return Some("a home directory");
    }
    if s.starts_with('/') && !Path::new(s).starts_with(root) {
        return Some("an absolute host path");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_homes_and_absolute_paths_are_named() {
        let root = Path::new("/work/repo");
        assert_eq!(
            kind("/var/run/docker.sock", root),
            Some("the container engine's socket")
        );
        assert_eq!(
            kind("/run/podman/podman.sock", root),
            Some("the container engine's socket")
        );
        assert_eq!(kind("/", root), Some("the host's root directory"));
        assert_eq!(kind("/tmp", root), Some("the host's /tmp"));
        assert_eq!(
            kind("~/.jitsi-meet-cfg/web", root),
            Some("a home directory")
        );
        assert_eq!(kind("${HOME}/.aws", root), Some("a home directory"));
        assert_eq!(kind("/root", root), Some("a home directory"));
        assert_eq!(kind("/srv/data", root), Some("an absolute host path"));
        assert_eq!(kind("/work/repo/data", root), None);
        assert_eq!(kind("./data", root), None);
        assert_eq!(kind("${PWD}/data", root), None);
    }
}
