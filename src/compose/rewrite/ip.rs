//! Addresses and subnets for the rewrite's moved subnets ([`super::subnets`]): [`Net`], the
//! [`pick`] of a free subnet of one length (IPv4 from the private ranges, 10/8 first, since the
//! engine's own default pools are in 172.17-31 and 192.168; IPv6 from the unique-local
//! fd00::/8), first drawn from a seed, then probed past what is taken; and [`Moves`], every
//! address in a moved subnet moved by its offset wherever it is written. Pure.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A subnet (or one address, as a /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    v6: bool,
    base: u128,
    len: u32,
}

impl Net {
    /// `10.1.2.0/24`, `fd00::/64`, or one address. `None` when it is neither.
    pub fn parse(s: &str) -> Option<Net> {
        let s = s.trim();
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u32>().ok()?)),
            None => (s, None),
        };
        let (v6, value) = match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => (false, u128::from(u32::from(a))),
            IpAddr::V6(a) => (true, u128::from(a)),
        };
        let bits = if v6 { 128 } else { 32 };
        let len = len.unwrap_or(bits);
        (len <= bits).then_some(Net {
            v6,
            base: value & mask(bits, len),
            len,
        })
    }

    fn bits(&self) -> u32 {
        if self.v6 { 128 } else { 32 }
    }

    fn contains(&self, value: u128, v6: bool) -> bool {
        v6 == self.v6 && value & mask(self.bits(), self.len) == self.base
    }

    /// Whether the two share an address.
    pub fn overlaps(&self, other: &Net) -> bool {
        let shorter = if self.len <= other.len { self } else { other };
        let longer = if self.len <= other.len { other } else { self };
        shorter.contains(longer.base, longer.v6)
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", show(self.base, self.v6), self.len)
    }
}

/// The network part of a `bits`-wide address `len` bits long.
fn mask(bits: u32, len: u32) -> u128 {
    let all = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    if len == 0 { 0 } else { all & !(all >> len) }
}

fn show(value: u128, v6: bool) -> String {
    if v6 {
        Ipv6Addr::from(value).to_string()
    } else {
        Ipv4Addr::from(value as u32).to_string()
    }
}

/// Where IPv4 subnets are drawn from, in order.
const V4_POOLS: [(u32, u32); 3] = [
    (0x0a00_0000, 8),  // 10.0.0.0/8
    (0xac10_0000, 12), // 172.16.0.0/12
    (0xc0a8_0000, 16), // 192.168.0.0/16
];

/// How many candidates are probed per pool before the next.
const TRIES: u128 = 4096;

/// A subnet of `old`'s family and length that overlaps nothing in `taken`, first drawn from
/// `seed`; `None` when none is free (or `old` is too wide for a private range).
pub fn pick(old: &Net, taken: &[Net], seed: &str) -> Option<Net> {
    let start = hash(seed);
    let pools: Vec<(u128, u32)> = if old.v6 {
        vec![(0xfd << 120, 8)]
    } else {
        V4_POOLS.iter().map(|&(b, l)| (u128::from(b), l)).collect()
    };
    for (base, plen) in pools {
        if old.len < plen {
            continue;
        }
        let room = old.len - plen;
        let count = if room >= 127 {
            u128::MAX
        } else {
            1u128 << room
        };
        for i in 0..TRIES.min(count) {
            let n = start.wrapping_add(i) % count;
            let cand = Net {
                v6: old.v6,
                base: base | (n << (old.bits() - old.len)),
                len: old.len,
            };
            if !taken.iter().any(|t| t.overlaps(&cand)) {
                return Some(cand);
            }
        }
    }
    None
}

/// FNV-1a, twice over, to 128 bits: stable across runs and releases.
fn hash(seed: &str) -> u128 {
    let fnv = |salt: u8| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in std::iter::once(salt).chain(seed.bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    (u128::from(fnv(1)) << 64) | u128::from(fnv(2))
}

/// The subnets moved in one rendering: old → new.
#[derive(Clone, Debug, Default)]
pub struct Moves(pub Vec<(Net, Net)>);

impl Moves {
    /// The address `s` (or subnet, `a.b.c.d/n`) moved, when it lies in a moved subnet.
    pub fn addr(&self, s: &str) -> Option<String> {
        let (a, tail) = match s.split_once('/') {
            Some((a, l)) => (a, format!("/{l}")),
            None => (s, String::new()),
        };
        let (value, v6) = match a.parse::<IpAddr>().ok()? {
            IpAddr::V4(x) => (u128::from(u32::from(x)), false),
            IpAddr::V6(x) => (u128::from(x), true),
        };
        let (old, new) = self.0.iter().find(|(old, _)| old.contains(value, v6))?;
        let host = value & !mask(old.bits(), old.len);
        Some(format!("{}{tail}", show(new.base | host, v6)))
    }

    /// `text` with every address in a moved subnet moved (`http://172.16.238.10:80`,
    /// `[fd00::10]:80`, `172.16.238.0/24`); `None` when none is in it.
    pub fn text(&self, text: &str) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let mut out = String::new();
        let mut changed = false;
        let mut rest = text;
        while let Some((before, token, after)) = next_token(rest) {
            out.push_str(before);
            // A wider subnet holding a moved one (`10.197.0.0/16`) is not that subnet: kept,
            // and named by [`Moves::covering`].
            let wider = self.wider(token, after).is_some();
            match self.token(token).filter(|_| !wider) {
                Some(moved) => {
                    out.push_str(&moved);
                    changed = true;
                }
                None => out.push_str(token),
            }
            rest = after;
        }
        out.push_str(rest);
        changed.then_some(out)
    }
}

impl Moves {
    /// The subnets written in `text` that hold a moved subnet and are wider than it
    /// (`ALLOWED=10.197.0.0/16` around a moved `10.197.3.0/24`): not rewritten, to be said.
    pub fn covering(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some((_, token, after)) = next_token(rest) {
            if let Some(net) = self.wider(token, after) {
                out.push(net);
            }
            rest = after;
        }
        out
    }

    /// `token` followed by `/len` in `after`, when that subnet is wider than a moved one it
    /// holds: the subnet as written.
    fn wider(&self, token: &str, after: &str) -> Option<String> {
        let len: String = after
            .strip_prefix('/')?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let written = format!("{token}/{len}");
        let net = Net::parse(&written)?;
        self.0
            .iter()
            .any(|(old, _)| net.len < old.len && net.overlaps(old))
            .then_some(written)
    }

    /// One run of address characters moved: an address, or an IPv4 address and its `:port`.
    fn token(&self, token: &str) -> Option<String> {
        self.addr(token).or_else(|| {
            let (a, port) = token.rsplit_once(':')?;
            let v4 = !a.contains(':') && port.bytes().all(|b| b.is_ascii_digit());
            v4.then(|| self.addr(a).map(|m| format!("{m}:{port}")))?
        })
    }
}

/// The next run of address characters in `s` that stands alone (no letter, digit or `_`
/// either side): (before, run, after).
fn next_token(s: &str) -> Option<(&str, &str, &str)> {
    let is_addr = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while from < s.len() {
        let start = from + s[from..].find(is_addr)?;
        let len = s[start..].find(|c| !is_addr(c)).unwrap_or(s.len() - start);
        let end = start + len;
        let alone = !s[..start].chars().next_back().is_some_and(is_word)
            && !s[end..].chars().next().is_some_and(is_word);
        // Trailing `.`/`:` belong to the sentence or the port, not the address.
        let token = s[start..end].trim_end_matches('.');
        let token = if token.ends_with("::") {
            token
        } else {
            token.trim_end_matches(':')
        };
        if alone && !token.is_empty() {
            let end = start + token.len();
            return Some((&s[..start], &s[start..end], &s[end..]));
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod covering_tests {
    use super::*;

    #[test]
    fn a_wider_subnet_around_a_moved_one_is_kept_and_named() {
        let net = |s| Net::parse(s).expect("net");
        let moves = Moves(vec![(net("10.197.0.0/24"), net("10.44.1.0/24"))]);
        assert_eq!(moves.text("ALLOWED=10.197.0.0/16"), None);
        assert_eq!(
            moves.covering("a 10.197.0.0/16, 10.0.0.0/8"),
            vec!["10.197.0.0/16".to_string(), "10.0.0.0/8".to_string()]
        );
        assert_eq!(
            moves.text("10.197.0.0/24 10.197.0.5").as_deref(),
            Some("10.44.1.0/24 10.44.1.5")
        );
        assert!(moves.covering("10.197.0.0/24 192.168.0.0/16").is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Net {
        Net::parse(s).expect("net")
    }

    #[test]
    fn a_pick_keeps_the_length_avoids_what_is_taken_and_is_stable() {
        let old = net("172.16.238.0/24");
        let a = pick(&old, &[old], "uuid-a/back/0").expect("free");
        assert_eq!(a.len, 24);
        assert!(a.to_string().starts_with("10."), "{a}");
        assert_eq!(pick(&old, &[old], "uuid-a/back/0"), Some(a));
        // What is taken is probed past, whole ranges too.
        let b = pick(&old, &[old, a], "uuid-a/back/0").expect("free");
        assert_ne!(a, b);
        let c = pick(&old, &[net("10.0.0.0/8")], "uuid-a/back/0").expect("free");
        assert!(
            c.to_string().starts_with("172.") && !c.overlaps(&old),
            "{c}"
        );
        assert_eq!(pick(&net("10.0.0.0/7"), &[], "s"), None);
        let six = pick(&net("fd00:dead:beef::/48"), &[], "s").expect("free");
        assert_eq!(six.len, 48);
        assert!(six.to_string().starts_with("fd"), "{six}");
    }

    #[test]
    fn addresses_in_a_moved_subnet_move_by_its_offset_wherever_written() {
        let moves = Moves(vec![
            (net("172.16.238.0/24"), net("10.9.8.0/24")),
            (net("fd00:dead:beef::/64"), net("fd12:3456:789a:1::/64")),
        ]);
        assert_eq!(moves.addr("172.16.238.10").as_deref(), Some("10.9.8.10"));
        assert_eq!(moves.addr("172.16.239.10"), None);
        assert_eq!(
            moves
                .text("http://172.16.238.10:80/x, 172.16.238.0/24.")
                .as_deref(),
            Some("http://10.9.8.10:80/x, 10.9.8.0/24.")
        );
        assert_eq!(
            moves.text("[fd00:dead:beef::10]:80").as_deref(),
            Some("[fd12:3456:789a:1::10]:80")
        );
        assert_eq!(moves.text("v172.16.238.10 and 1172.16.238.1"), None);
        assert_eq!(moves.text("db:5432"), None);
        assert!(net("10.0.0.0/8").overlaps(&net("10.3.0.0/16")));
        assert!(!net("10.0.0.0/16").overlaps(&net("10.1.0.0/16")));
    }
}
