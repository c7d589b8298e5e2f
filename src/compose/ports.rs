//! One `ports:` entry of a compose service, in either syntax: the short string
//! (`"[ip:]host[-end]:container[-end][/proto]"`, where `host` may be `${VAR:-8000}`) and the
//! long map (`{ target, published, host_ip, protocol }`). Read by `init`, the lint and the
//! renderer; the renderer writes entries back in the long form.

use yaml_rust2::Yaml;
use yaml_rust2::yaml::Hash;

/// The host side of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// No host port: compose picks a free one.
    Ephemeral,
    /// A literal port, or a range `start..=end`.
    Ports(u32, u32),
    /// Read from a variable, with its default (`${WEB_PORT:-8000}`).
    Var(String, Option<u32>),
    /// Anything else (a variable without a default, a range of variables).
    Other(String),
}

/// One published port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub ip: Option<String>,
    pub host: Host,
    /// The container port or range, as written (`80`, `9000-9001`).
    pub target: String,
    pub protocol: Option<String>,
    /// Other keys of the long form (`mode`, `name`, `app_protocol`), kept as they are.
    pub rest: Vec<(Yaml, Yaml)>,
}

impl Entry {
    /// The entry of a `ports:` list item; `None` for what it cannot read.
    pub fn parse(item: &Yaml) -> Option<Entry> {
        match item {
            Yaml::Integer(i) => Some(Entry::plain(i.to_string())),
            Yaml::String(s) => parse_short(s),
            Yaml::Hash(h) => parse_long(h),
            _ => None,
        }
    }

    fn plain(target: String) -> Entry {
        Entry {
            ip: None,
            host: Host::Ephemeral,
            target,
            protocol: None,
            rest: Vec::new(),
        }
    }

    /// The literal host ports it publishes (with a variable's default, `with_defaults`).
    pub fn host_ports(&self, with_defaults: bool) -> Vec<u32> {
        match &self.host {
            Host::Ports(a, b) => (*a..=*b).collect(),
            Host::Var(_, Some(p)) if with_defaults => vec![*p],
            _ => Vec::new(),
        }
    }

    /// The form compose reads back: the short string (which every compose version reads with
    /// a host IP; v1 refuses `host_ip` in the long form), or the long form when it carries
    /// other keys.
    pub fn to_yaml(&self) -> Yaml {
        if self.rest.is_empty() {
            return Yaml::String(self.short());
        }
        let mut h = Hash::new();
        let s = |v: &str| Yaml::String(v.to_string());
        let target = match self.target.parse::<i64>() {
            Ok(n) => Yaml::Integer(n),
            Err(_) => s(&self.target),
        };
        h.insert(s("target"), target);
        match &self.host {
            Host::Ephemeral => {}
            Host::Ports(a, b) if a == b => {
                h.insert(s("published"), Yaml::Integer(i64::from(*a)));
            }
            Host::Ports(a, b) => {
                h.insert(s("published"), s(&format!("{a}-{b}")));
            }
            Host::Var(v, Some(d)) => {
                h.insert(s("published"), s(&format!("${{{v}:-{d}}}")));
            }
            Host::Var(v, None) => {
                h.insert(s("published"), s(&format!("${{{v}}}")));
            }
            Host::Other(o) => {
                h.insert(s("published"), s(o));
            }
        }
        if let Some(ip) = &self.ip {
            h.insert(s("host_ip"), s(ip));
        }
        if let Some(p) = &self.protocol {
            h.insert(s("protocol"), s(p));
        }
        for (k, v) in &self.rest {
            h.insert(k.clone(), v.clone());
        }
        Yaml::Hash(h)
    }
}

impl Entry {
    /// `[ip:]host:target[/protocol]`, with an IPv6 address in brackets.
    fn short(&self) -> String {
        let host = match &self.host {
            Host::Ephemeral => String::new(),
            Host::Ports(a, b) if a == b => a.to_string(),
            Host::Ports(a, b) => format!("{a}-{b}"),
            Host::Var(v, Some(d)) => format!("${{{v}:-{d}}}"),
            Host::Var(v, None) => format!("${{{v}}}"),
            Host::Other(o) => o.clone(),
        };
        let mut s = match (&self.ip, host.is_empty()) {
            (Some(ip), _) if ip.contains(':') => format!("[{ip}]:{host}:"),
            (Some(ip), _) => format!("{ip}:{host}:"),
            (None, true) => String::new(),
            (None, false) => format!("{host}:"),
        };
        s.push_str(&self.target);
        if let Some(p) = &self.protocol {
            s.push('/');
            s.push_str(p);
        }
        s
    }
}

fn parse_long(h: &Hash) -> Option<Entry> {
    let key = |k: &str| h.get(&Yaml::String(k.to_string()));
    let text = |v: Option<&Yaml>| match v {
        Some(Yaml::Integer(i)) => Some(i.to_string()),
        Some(Yaml::String(s)) => Some(s.clone()),
        _ => None,
    };
    let target = text(key("target"))?;
    let host = match text(key("published")) {
        None => Host::Ephemeral,
        Some(p) if p.is_empty() => Host::Ephemeral,
        Some(p) => host(&p),
    };
    let known = ["target", "published", "host_ip", "protocol"];
    let rest = h
        .iter()
        .filter(|(k, _)| !k.as_str().is_some_and(|k| known.contains(&k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(Entry {
        ip: text(key("host_ip")).filter(|i| !i.is_empty()),
        host,
        target,
        protocol: text(key("protocol")),
        rest,
    })
}

/// The short form; colons inside `${…}` and IPv6 brackets do not split it.
fn parse_short(s: &str) -> Option<Entry> {
    let (body, protocol) = match s.rsplit_once('/') {
        Some((b, p)) if !p.contains(':') && !p.contains('}') => (b, Some(p.to_string())),
        _ => (s, None),
    };
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    let bytes = body.as_bytes();
    for (i, c) in body.char_indices() {
        match c {
            '{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            '[' => depth += 1,
            '}' | ']' if depth > 0 => depth -= 1,
            ':' if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    let target = parts.last()?.to_string();
    if target.is_empty() {
        return None;
    }
    let mut entry = Entry::plain(target);
    entry.protocol = protocol;
    match parts.len() {
        1 => {}
        2 => entry.host = host_or_ephemeral(parts[0]),
        _ => {
            let ip = parts[..parts.len() - 2].join(":");
            let ip = ip.trim_start_matches('[').trim_end_matches(']').to_string();
            entry.ip = (!ip.is_empty()).then_some(ip);
            entry.host = host_or_ephemeral(parts[parts.len() - 2]);
        }
    }
    Some(entry)
}

fn host_or_ephemeral(s: &str) -> Host {
    if s.trim().is_empty() {
        Host::Ephemeral
    } else {
        host(s)
    }
}

/// `8000`, `9000-9001` or `${VAR:-8000}`.
fn host(s: &str) -> Host {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
        && !inner.contains('$')
    {
        return match inner.split_once(":-").or_else(|| inner.split_once('-')) {
            Some((var, default)) => Host::Var(var.to_string(), default.trim().parse().ok()),
            None => Host::Var(inner.to_string(), None),
        };
    }
    let num = |t: &str| {
        t.trim()
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=65535).contains(p))
    };
    if let Some(p) = num(s) {
        return Host::Ports(p, p);
    }
    if let Some((a, b)) = s.split_once('-')
        && let (Some(a), Some(b)) = (num(a), num(b))
        && a <= b
    {
        return Host::Ports(a, b);
    }
    Host::Other(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(s: &str) -> Entry {
        Entry::parse(&Yaml::String(s.into())).expect("parses")
    }

    #[test]
    fn reads_every_short_form() {
        assert_eq!(short("8000:80").host, Host::Ports(8000, 8000));
        assert_eq!(short("80").host, Host::Ephemeral);
        let e = short("127.0.0.1:9000-9001:9000-9001/udp");
        assert_eq!(e.ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(e.host, Host::Ports(9000, 9001));
        assert_eq!(e.protocol.as_deref(), Some("udp"));
        let e = short("[::1]:5432:5432");
        assert_eq!(e.ip.as_deref(), Some("::1"));
        assert_eq!(e.host, Host::Ports(5432, 5432));
        let e = short("${WEB_PORT:-8000}:80/tcp");
        assert_eq!(e.host, Host::Var("WEB_PORT".into(), Some(8000)));
        assert_eq!(e.target, "80");
        assert_eq!(short("${P}:80").host, Host::Var("P".into(), None));
        assert_eq!(short("127.0.0.1::80").host, Host::Ephemeral);
    }

    #[test]
    fn long_form_round_trips_with_its_other_keys() {
        let docs = yaml_rust2::YamlLoader::load_from_str(
            "- {target: 53, published: 5353, protocol: udp, host_ip: 127.0.0.1, mode: host}\n",
        )
        .expect("yaml");
        let item = &docs[0][0];
        let e = Entry::parse(item).expect("parses");
        assert_eq!(e.host, Host::Ports(5353, 5353));
        assert_eq!(e.rest.len(), 1);
        assert_eq!(Entry::parse(&e.to_yaml()), Some(e.clone()));
        let plain = Entry {
            rest: Vec::new(),
            ..e
        };
        assert_eq!(plain.to_yaml().as_str(), Some("127.0.0.1:5353:53/udp"));
        assert_eq!(Entry::parse(&plain.to_yaml()), Some(plain));
        for s in [
            "[::1]:5432:5432",
            "127.0.0.1::80",
            "80",
            "9000-9001:9000-9001/tcp",
        ] {
            assert_eq!(short(s).to_yaml().as_str(), Some(s));
        }
    }
}
