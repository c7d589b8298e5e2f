//! Variables in the project's compose files as written, before compose resolves them: each
//! `${VAR}`, `${VAR:-x}`, `${VAR:?err}` or `$VAR` reference (`$$` is a literal `$`), and where
//! each variable is used. A variable that sets a published host port and nothing else follows
//! the slot's port; one also used elsewhere (the container side of a port, an environment
//! value, a command, a URL to another service) keeps its value, and only the host side of the
//! published port moves ([`super::render`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use yaml_rust2::Yaml;

use super::ports::{Entry, Host};

/// One reference in a string: the variable's name and the byte range of the whole reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

fn name_at(b: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    i
}

/// The outermost references of `s`, in order (a default's own references are inside one).
pub fn refs(s: &str) -> Vec<Ref> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        match b[i + 1] {
            b'$' => i += 2,
            b'{' => {
                let end = name_at(b, i + 2);
                let Some(close) = closing(b, i + 1) else {
                    return out;
                };
                if end > i + 2 {
                    out.push(Ref {
                        name: s[i + 2..end].to_string(),
                        start: i,
                        end: close + 1,
                    });
                }
                i = close + 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = name_at(b, i + 1);
                out.push(Ref {
                    name: s[i + 1..end].to_string(),
                    start: i,
                    end,
                });
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// The `}` that closes the `{` at `open`.
fn closing(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Every variable `s` reads, those in defaults (`${A:-${B}}`) too.
pub fn names(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for r in refs(s) {
        let inner = &s[r.start..r.end];
        if let Some(body) = inner.strip_prefix("${").and_then(|b| b.strip_suffix('}')) {
            out.extend(names(&body[r.name.len()..]));
        }
        out.push(r.name);
    }
    out
}

/// `s` with each outermost reference whose variable `value` knows replaced by that value.
pub fn substitute(s: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut at = 0;
    for r in refs(s) {
        if let Some(v) = value(&r.name) {
            out.push_str(&s[at..r.start]);
            out.push_str(&v);
            at = r.end;
        }
    }
    out.push_str(&s[at..]);
    out
}

/// Where one variable is used in the compose files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// The services whose published host port it sets.
    pub host_ports: Vec<String>,
    /// Where it is the port of a loopback URL (`http://localhost:${PORT}`), in words: the
    /// host's own port, so it follows with the host port.
    pub host_urls: Vec<String>,
    /// Every other place, in words (`api's environment DATABASE_URL`).
    pub elsewhere: Vec<String>,
}

impl Usage {
    /// Sets a published host port and something else too: it keeps its value.
    pub fn mixed(&self) -> bool {
        !self.host_ports.is_empty() && !self.elsewhere.is_empty()
    }
}

/// Each variable the files read, and where (merge keys resolved, so a block an anchor reuses
/// counts where it is used; `x-` blocks only there).
pub fn usage(files: &[PathBuf]) -> BTreeMap<String, Usage> {
    let mut out: BTreeMap<String, Usage> = BTreeMap::new();
    for doc in files.iter().filter_map(|f| super::raw::load(f)) {
        let doc = super::merge_keys::resolve(doc);
        let Some(top) = doc.as_hash() else { continue };
        for (k, v) in top {
            match k.as_str() {
                Some("services") => {
                    for (name, svc) in v.as_hash().into_iter().flatten() {
                        service(name.as_str().unwrap_or_default(), svc, &mut out);
                    }
                }
                Some(k) if !k.starts_with("x-") => walk(v, k, &mut out),
                _ => {}
            }
        }
    }
    out
}

fn elsewhere(out: &mut BTreeMap<String, Usage>, s: &str, at: &str) {
    value(out, s, at, &[]);
}

/// The references of one value. A loopback URL's port (`http://localhost:${PORT}`), and a
/// value that is only a variable the service publishes its own host port from (and does not
/// listen on: not on the container side), are host uses: the host's own port, told.
fn value(out: &mut BTreeMap<String, Usage>, s: &str, at: &str, own: &[String]) {
    for r in refs(s) {
        let whole = &s[r.start..r.end];
        // A default (`${URL:-http://localhost:${PORT}}`) is a value of its own.
        if let Some(body) = whole.strip_prefix("${").and_then(|b| b.strip_suffix('}')) {
            value(out, &body[r.name.len()..], at, &[]);
        }
        let u = out.entry(r.name.clone()).or_default();
        let host = super::rewrite::urls::loopback_before(s, r.start)
            || (s.trim() == whole && own.contains(&r.name));
        let list = if host {
            &mut u.host_urls
        } else {
            &mut u.elsewhere
        };
        if !list.iter().any(|w| w == at) {
            list.push(at.to_string());
        }
    }
}

fn service(name: &str, svc: &Yaml, out: &mut BTreeMap<String, Usage>) {
    let Some(h) = svc.as_hash() else { return };
    let own = own_host_vars(svc);
    for (k, v) in h {
        let key = k.as_str().unwrap_or_default();
        match (key, v) {
            ("ports", Yaml::Array(list)) => list.iter().for_each(|p| port(name, p, out)),
            ("environment", Yaml::Hash(env)) => {
                for (var, v) in env {
                    let at = format!("{name}'s environment {}", var.as_str().unwrap_or_default());
                    match v {
                        Yaml::String(s) => value(out, s, &at, &own),
                        other => walk(other, &at, out),
                    }
                }
            }
            ("environment", Yaml::Array(env)) => {
                for item in env.iter().filter_map(Yaml::as_str) {
                    let (var, v) = item.split_once('=').unwrap_or((item, ""));
                    value(out, v, &format!("{name}'s environment {var}"), &own);
                }
            }
            _ => walk(v, &format!("{name}'s {key}"), out),
        }
    }
}

/// The variables a service publishes its host ports from and uses on no container side.
fn own_host_vars(svc: &Yaml) -> Vec<String> {
    let mut local = BTreeMap::new();
    for p in svc["ports"].as_vec().into_iter().flatten() {
        port("", p, &mut local);
    }
    local
        .into_iter()
        .filter(|(_, u)| u.elsewhere.is_empty())
        .map(|(n, _)| n)
        .collect()
}

/// One `ports:` item: a variable of its host side sets a host port; of anything else (the
/// container side, the address) is used elsewhere.
fn port(service: &str, item: &Yaml, out: &mut BTreeMap<String, Usage>) {
    let at = format!("the container side of {service}'s port");
    let host_names = match Entry::parse(item).map(|e| e.host) {
        Some(Host::Var(v, _)) => vec![v],
        Some(Host::Other(o)) => names(&o),
        _ => Vec::new(),
    };
    for n in &host_names {
        let u = out.entry(n.clone()).or_default();
        if !u.host_ports.iter().any(|s| s == service) {
            u.host_ports.push(service.to_string());
        }
    }
    let mut rest: Vec<String> = match item {
        Yaml::String(s) => names(s),
        Yaml::Hash(h) => h
            .iter()
            .filter(|(k, _)| k.as_str() != Some("published"))
            .flat_map(|(_, v)| v.as_str().map(names).unwrap_or_default())
            .collect(),
        _ => Vec::new(),
    };
    // A short form names each host variable once in its host side.
    for n in &host_names {
        if let Some(i) = rest.iter().position(|r| r == n) {
            rest.remove(i);
        }
    }
    for n in rest {
        elsewhere(out, &format!("${{{n}}}"), &at);
    }
}

fn walk(y: &Yaml, at: &str, out: &mut BTreeMap<String, Usage>) {
    match y {
        Yaml::String(s) => elsewhere(out, s, at),
        Yaml::Array(a) => a.iter().for_each(|v| walk(v, at, out)),
        Yaml::Hash(h) => h.values().for_each(|v| walk(v, at, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_in_every_form_and_escapes() {
        let s = "a ${A} $B ${C:-x} $$D ${E:-${F}} ${G:?no} $ ${}";
        let found: Vec<String> = refs(s).into_iter().map(|r| r.name).collect();
        assert_eq!(found, ["A", "B", "C", "E", "G"]);
        assert_eq!(names(s), ["A", "B", "C", "F", "E", "G"]);
        let v = |n: &str| (n == "E" || n == "B").then(|| "9".to_string());
        assert_eq!(substitute(s, &v), "a ${A} 9 ${C:-x} $$D 9 ${G:?no} $ ${}");
    }

    #[test]
    fn a_variable_on_both_sides_is_mixed_and_host_only_is_not() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("c.yml");
        std::fs::write(
            &f,
            "x-db: &db\n  ports: [\"${DB_PORT:-5432}:${DB_PORT:-5432}\"]\nservices:\n  db:\n    <<: *db\n  web:\n    ports: [{published: \"${WEB_PORT}\", target: 80}]\n    environment:\n      URL: http://localhost:${WEB_PORT}\n      DB: db:${DB_PORT}\n      OWN: ${WEB_PORT}\n      D: ${PUB:-http://localhost:${WEB_PORT}}\n    command: [\"$$HOME\", \"${CMD_ARG}\"]\n",
        )
        .expect("write");
        let u = usage(&[f]);
        assert!(u["DB_PORT"].mixed(), "{:?}", u["DB_PORT"]);
        assert_eq!(u["DB_PORT"].host_ports, ["db"]);
        assert!(
            u["DB_PORT"]
                .elsewhere
                .contains(&"the container side of db's port".to_string())
        );
        assert!(
            u["DB_PORT"]
                .elsewhere
                .contains(&"web's environment DB".to_string())
        );
        // A URL to the host's own published port is a host use too: it follows the slot.
        assert_eq!(u["WEB_PORT"].host_ports, ["web"]);
        assert_eq!(
            u["WEB_PORT"].host_urls,
            [
                "web's environment URL",
                "web's environment OWN",
                "web's environment D"
            ]
        );
        assert!(!u["WEB_PORT"].mixed());
        assert_eq!(u["CMD_ARG"].elsewhere, ["web's command"]);
        assert!(!u.contains_key("HOME"));
    }
}
