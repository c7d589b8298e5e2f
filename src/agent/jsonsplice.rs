//! Byte splices into a JSON text: one element put first or last in a list or object, in the
//! container's own spacing (a pretty container gets a pretty element, indented as its
//! siblings; a compact one a compact element), and the cuts that could take such an element
//! out again. The texts are valid JSON already (the caller parsed them); callers prove every
//! splice by parsing its result, and every cut by splicing back to the text they started from.

use std::ops::Range;

use serde::Serialize;
use serde_json::Value;

/// Where an element goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    First,
    Last,
}

/// One element of a container: its bytes (a member's from its key), and a member's key.
pub struct Element {
    pub span: Range<usize>,
    pub key: Option<String>,
    /// Where a member's value starts.
    pub value: usize,
}

/// Just past the opening bracket of the value at `path` (keys from the root object; the last
/// member of a repeated key, as parsers read it). `None` if there is none, or it is not an
/// object or a list.
pub fn open_of(text: &str, path: &[&str]) -> Option<usize> {
    let s = text.as_bytes();
    let mut at = ws(s, 0);
    for key in path {
        if s.get(at) != Some(&b'{') {
            return None;
        }
        at = elements(text, at + 1)
            .into_iter()
            .rfind(|e| e.key.as_deref() == Some(key))?
            .value;
    }
    matches!(s.get(at), Some(b'{') | Some(b'[')).then_some(at + 1)
}

/// The elements of the container whose opening bracket ends at `open`.
pub fn elements(text: &str, open: usize) -> Vec<Element> {
    let s = text.as_bytes();
    let is_object = s.get(open.wrapping_sub(1)) == Some(&b'{');
    let mut out = Vec::new();
    let mut i = ws(s, open);
    while i < s.len() && !matches!(s[i], b']' | b'}') {
        let start = i;
        let (key, value) = if is_object {
            let k = string(s, i);
            let key = serde_json::from_str(&text[k.clone()]).ok();
            (key, ws(s, ws(s, k.end) + 1))
        } else {
            (None, i)
        };
        let end = skip(s, value);
        out.push(Element {
            span: start..end,
            key,
            value,
        });
        i = ws(s, end);
        if s.get(i) == Some(&b',') {
            i = ws(s, i + 1);
        }
    }
    out
}

/// `text` with `value` (under `key` in an object) put first or last in the container whose
/// opening bracket ends at `open`.
pub fn insert(text: &str, open: usize, key: Option<&str>, value: &Value, place: Place) -> String {
    let els = elements(text, open);
    let s = text.as_bytes();
    let Some(last) = els.last() else {
        let item = render(text, "", key, value, &els);
        return super::files::splice(text, open, &item);
    };
    let before = |e: &Element| {
        let from = text[..e.span.start]
            .trim_end_matches(|c: char| c.is_ascii_whitespace())
            .len();
        text[from..e.span.start].to_string()
    };
    match place {
        Place::First => {
            let w = &text[open..ws(s, open)];
            let item = render(text, w, key, value, &els);
            super::files::splice(text, open, &format!("{w}{item},"))
        }
        Place::Last => {
            let w = before(last);
            let item = render(text, &w, key, value, &els);
            super::files::splice(text, last.span.end, &format!(",{w}{item}"))
        }
    }
}

/// The texts without element `index` of the container at `open`, as each `insert` could
/// have put it there.
pub fn cuts(text: &str, open: usize, index: usize) -> Vec<String> {
    let els = elements(text, open);
    let s = text.as_bytes();
    let Some(e) = els.get(index) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if els.len() == 1 {
        out.push(super::files::cut(text, e.span.start, e.span.len()));
    }
    if index == 0 && els.len() > 1 {
        let comma = ws(s, e.span.end);
        out.push(super::files::cut(text, open, comma + 1 - open));
    }
    if index > 0 {
        let from = els[index - 1].span.end;
        out.push(super::files::cut(text, from, e.span.end - from));
    }
    out
}

/// The element's text: pretty and indented as its siblings when `w` (the spacing before an
/// element) holds a newline, else compact; a member's colon as the container's first has it.
fn render(text: &str, w: &str, key: Option<&str>, value: &Value, els: &[Element]) -> String {
    let body = match w.rfind('\n') {
        Some(nl) => {
            let base = &w[nl + 1..];
            // A CRLF file's lines end in CRLF, ours too.
            let eol = if w[..nl].ends_with('\r') {
                "\r\n"
            } else {
                "\n"
            };
            let mut out = Vec::new();
            let unit = indent_unit(text);
            let fmt = serde_json::ser::PrettyFormatter::with_indent(unit.as_bytes());
            let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
            let _ = value.serialize(&mut ser);
            String::from_utf8_lossy(&out).replace('\n', &format!("{eol}{base}"))
        }
        None => value.to_string(),
    };
    let Some(key) = key else {
        return body;
    };
    let colon = els
        .first()
        .and_then(|e| {
            let k = string(text.as_bytes(), e.span.start);
            text.get(k.end..e.value)
        })
        .unwrap_or(if w.contains('\n') { ": " } else { ":" });
    format!("{}{colon}{body}", Value::String(key.into()))
}

/// The indentation of the text's first indented line (two spaces if none).
pub fn indent_unit(text: &str) -> String {
    text.lines()
        .skip(1)
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .find(|ws| !ws.is_empty())
        .unwrap_or("  ")
        .to_string()
}

fn ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The string starting at `i`, quotes included.
fn string(s: &[u8], i: usize) -> Range<usize> {
    let mut j = i + 1;
    while j < s.len() && s[j] != b'"' {
        j += if s[j] == b'\\' { 2 } else { 1 };
    }
    i..(j + 1).min(s.len())
}

/// Just past the value starting at `i`.
fn skip(s: &[u8], i: usize) -> usize {
    match s.get(i) {
        Some(b'"') => string(s, i).end,
        Some(b'[') | Some(b'{') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < s.len() {
                match s[j] {
                    b'"' => j = string(s, j).end - 1,
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            j
        }
        _ => {
            let mut j = i;
            while j < s.len() && !b",]} \t\r\n".contains(&s[j]) {
                j += 1;
            }
            j
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_and_last_in_the_containers_own_spacing() {
        let pretty = "{\n  \"a\": [\n    1\n  ]\n}\n";
        let open = open_of(pretty, &["a"]).expect("a");
        assert_eq!(
            insert(pretty, open, None, &json!({"x": 1}), Place::Last),
            "{\n  \"a\": [\n    1,\n    {\n      \"x\": 1\n    }\n  ]\n}\n"
        );
        let compact = "{\"a\": 1, \"b\": [2]}";
        let root = open_of(compact, &[]).expect("root");
        let added = insert(compact, root, Some("c"), &json!([3]), Place::Last);
        assert_eq!(added, "{\"a\": 1, \"b\": [2], \"c\": [3]}");
        assert!(cuts(&added, root, 2).contains(&compact.to_string()));
        let first = insert(compact, root, Some("c"), &json!(3), Place::First);
        assert_eq!(first, "{\"c\": 3,\"a\": 1, \"b\": [2]}");
        assert!(cuts(&first, root, 0).contains(&compact.to_string()));
        let empty = "{\"a\": []}";
        let a = open_of(empty, &["a"]).expect("a");
        let one = insert(empty, a, None, &json!("x"), Place::Last);
        assert_eq!(one, "{\"a\": [\"x\"]}");
        assert_eq!(cuts(&one, a, 0), [empty]);
        let crlf = "{\r\n  \"a\": 1\r\n}\r\n";
        let root = open_of(crlf, &[]).expect("root");
        let added = insert(crlf, root, Some("b"), &json!({"x": [1]}), Place::Last);
        assert_eq!(
            added,
            "{\r\n  \"a\": 1,\r\n  \"b\": {\r\n    \"x\": [\r\n      1\r\n    ]\r\n  }\r\n}\r\n"
        );
        assert!(cuts(&added, root, 1).contains(&crlf.to_string()));
    }
}
