//! YAML as compose 1.29 reads it (PyYAML): like `yaml_rust2`'s loader, but a mapping may repeat
//! the merge key (`<<: *a` then `<<: *b`), which `yaml_rust2` refuses as a duplicated key.
//! Repeated merge keys become one `<<` list that [`super::merge_keys`] reads with PyYAML's
//! precedence: a later `<<` wins over an earlier one (so it goes first in the list, where
//! earlier entries win). Any other duplicated key is refused, as before.

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{ScanError as Error, Yaml};

const MERGE: &str = "<<";

/// The documents of `text`.
pub fn load(text: &str) -> Result<Vec<Yaml>, Error> {
    let mut loader = Loader::default();
    Parser::new_from_str(text).load(&mut loader, true)?;
    match loader.error {
        Some(e) => Err(e),
        None => Ok(loader.docs),
    }
}

#[derive(Default)]
struct Loader {
    docs: Vec<Yaml>,
    /// Open nodes and their anchor ids.
    stack: Vec<(Yaml, usize)>,
    /// Per open mapping, the key waiting for its value.
    keys: Vec<Yaml>,
    anchors: BTreeMap<usize, Yaml>,
    error: Option<ScanError>,
}

impl MarkedEventReceiver for Loader {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_none()
            && let Err(e) = self.event(ev, mark)
        {
            self.error = Some(e);
        }
    }
}

impl Loader {
    fn event(&mut self, ev: Event, mark: Marker) -> Result<(), ScanError> {
        match ev {
            Event::DocumentEnd => {
                let doc = self.stack.pop().map_or(Yaml::BadValue, |n| n.0);
                self.docs.push(doc);
            }
            Event::SequenceStart(aid, _) => self.stack.push((Yaml::Array(Vec::new()), aid)),
            Event::MappingStart(aid, _) => {
                self.stack.push((Yaml::Hash(Hash::new()), aid));
                self.keys.push(Yaml::BadValue);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if matches!(ev, Event::MappingEnd) {
                    self.keys.pop();
                }
                let node = self.stack.pop().ok_or_else(|| unbalanced(mark))?;
                self.insert(node, mark)?;
            }
            Event::Scalar(v, style, aid, tag) => {
                let node = match tag {
                    _ if style != TScalarStyle::Plain => Yaml::String(v),
                    Some(t) if t.handle == "tag:yaml.org,2002:" => typed(&t.suffix, v),
                    Some(_) => Yaml::String(v),
                    None => plain(v),
                };
                self.insert((node, aid), mark)?;
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or(Yaml::BadValue);
                self.insert((node, 0), mark)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn insert(&mut self, node: (Yaml, usize), mark: Marker) -> Result<(), ScanError> {
        if node.1 > 0 {
            self.anchors.insert(node.1, node.0.clone());
        }
        let Some((parent, _)) = self.stack.last_mut() else {
            self.stack.push(node);
            return Ok(());
        };
        match parent {
            Yaml::Array(list) => list.push(node.0),
            Yaml::Hash(h) => {
                let key = self.keys.last_mut().ok_or_else(|| unbalanced(mark))?;
                if key.is_badvalue() {
                    *key = node.0;
                    return Ok(());
                }
                let key = std::mem::replace(key, Yaml::BadValue);
                if key.as_str() == Some(MERGE)
                    && let Some(earlier) = h.remove(&key)
                {
                    h.insert(key, merged(earlier, node.0));
                } else if h.insert(key.clone(), node.0).is_some() {
                    return Err(ScanError::new_string(
                        mark,
                        format!("{key:?}: duplicated key in mapping"),
                    ));
                }
            }
            _ => return Err(unbalanced(mark)),
        }
        Ok(())
    }
}

/// A repeated merge key's value after an `earlier` one: one list, the later first.
fn merged(earlier: Yaml, later: Yaml) -> Yaml {
    let list = |y: Yaml| match y {
        Yaml::Array(a) => a,
        other => vec![other],
    };
    let mut out = list(later);
    out.extend(list(earlier));
    Yaml::Array(out)
}

/// An untagged plain scalar, as PyYAML (YAML 1.1) resolves it where that differs from
/// `yaml_rust2` (YAML 1.2): digits after a leading zero are an octal number when all are 0-7
/// (`0440`), else a string. compose 1.29's `config` writes `name: 00…12799` unquoted (a string
/// to it), and read as the number 12799 it made the rendered file invalid.
fn plain(v: String) -> Yaml {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(&v);
    let leading_zero =
        digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit());
    if !leading_zero {
        return Yaml::from_str(&v);
    }
    match i64::from_str_radix(&digits[1..], 8) {
        Ok(n) if v.starts_with('-') => Yaml::Integer(-n),
        Ok(n) => Yaml::Integer(n),
        Err(_) => Yaml::String(v),
    }
}

/// A scalar with a core-schema tag (`!!int 5`).
fn typed(suffix: &str, v: String) -> Yaml {
    match suffix {
        "bool" => match v.as_str() {
            "true" | "True" | "TRUE" => Yaml::Boolean(true),
            "false" | "False" | "FALSE" => Yaml::Boolean(false),
            _ => Yaml::BadValue,
        },
        "int" => v.parse().map_or(Yaml::BadValue, Yaml::Integer),
        "float" => match v.parse::<f64>() {
            Ok(_) => Yaml::Real(v),
            Err(_) => Yaml::BadValue,
        },
        "null" if matches!(v.as_str(), "~" | "null") => Yaml::Null,
        "null" => Yaml::BadValue,
        _ => Yaml::String(v),
    }
}

fn unbalanced(mark: Marker) -> ScanError {
    ScanError::new(mark, "unbalanced YAML events")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_merge_keys_merge_with_the_later_winning_and_other_duplicates_refuse() {
        let text = "x-a: &a {image: a, user: ua, env: ea}\nx-b: &b {image: b, user: ub}\nx-c: &c {image: c, tty: true}\nservices:\n  s:\n    <<: *a\n    <<: *b\n    user: own\n  t:\n    <<: [*c, *a]\n    <<: *b\n";
        let doc = load(text).expect("loads").remove(0);
        let doc = crate::compose::merge_keys::resolve(doc);
        let s = &doc["services"]["s"];
        assert_eq!(s["image"].as_str(), Some("b"), "the later << wins");
        assert_eq!(
            s["user"].as_str(),
            Some("own"),
            "the mapping's own key wins"
        );
        assert_eq!(s["env"].as_str(), Some("ea"));
        let t = &doc["services"]["t"];
        assert_eq!(t["image"].as_str(), Some("b"));
        assert_eq!(t["tty"].as_bool(), Some(true));
        assert_eq!(t["env"].as_str(), Some("ea"));
        assert!(load("a: 1\na: 2\n").is_err());
        assert!(
            yaml_rust2::YamlLoader::load_from_str(text).is_err(),
            "the case"
        );
        let same = load("a: !!int 5\nb: '5'\nc: [1, x]\n")
            .expect("loads")
            .remove(0);
        assert_eq!(same["a"].as_i64(), Some(5));
        assert_eq!(same["b"].as_str(), Some("5"));
    }

    #[test]
    fn plain_numbers_with_a_leading_zero_resolve_as_pyyaml_resolves_them() {
        let doc = load("a: 0440\nb: 00012799\nc: '00012799'\nd: 0\ne: 12\nf: -017\ng: 0x1F\n")
            .expect("loads")
            .remove(0);
        assert_eq!(doc["a"].as_i64(), Some(0o440), "octal");
        assert_eq!(doc["b"].as_str(), Some("00012799"), "not octal: a string");
        assert_eq!(doc["c"].as_str(), Some("00012799"));
        assert_eq!(doc["d"].as_i64(), Some(0));
        assert_eq!(doc["e"].as_i64(), Some(12));
        assert_eq!(doc["f"].as_i64(), Some(-0o17));
        assert_eq!(doc["g"].as_i64(), Some(31));
    }
}
