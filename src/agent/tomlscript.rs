//! One line put at the start or the end of a TOML string's value as a byte splice, in each
//! of TOML's four quotings: multi-line (`'''`/`"""`: the line and a newline), literal
//! (`'…'`: joined with `; `, as it cannot hold a newline) and basic (`"…"`: escaped, joined
//! with `\n`). `insertion` says where and what for a script as it is; `insertions` every
//! place and run of bytes an earlier `insertion` could have left, for removing it.

use std::ops::Range;

/// A script as written: the string's bytes (quotes included) and its value.
pub struct Script {
    pub span: Range<usize>,
    pub value: String,
}

/// The string's quoting: multi-line or not, literal (`'`) or basic (`"`).
fn quoting(token: &str) -> (bool, bool) {
    let multi = token.starts_with("'''") || token.starts_with("\"\"\"");
    (multi, token.starts_with('\''))
}

/// Where to insert, what, and the script's value after.
pub fn insertion(text: &str, sc: &Script, line: &str, first: bool) -> (usize, String, String) {
    let v = &sc.value;
    let ends_line = v.is_empty() || v.ends_with('\n');
    let Form {
        at, insert, raw, ..
    } = forms(text, sc, line, first)
        .into_iter()
        .find(|f| f.ends_line.is_none_or(|e| e == ends_line))
        .unwrap_or_default();
    let value = if first {
        format!("{raw}{v}")
    } else {
        format!("{v}{raw}")
    };
    (at, insert, value)
}

/// Every place and run of bytes an earlier `add` could have put into this script (one at the
/// end now sits just before the closing quote).
pub fn insertions(text: &str, sc: &Script, line: &str, first: bool) -> Vec<(usize, String)> {
    forms(text, sc, line, first)
        .into_iter()
        .filter_map(|f| {
            let at = if first {
                f.at
            } else {
                f.at.checked_sub(f.insert.len())?
            };
            Some((at, f.insert))
        })
        .collect()
}

/// One way our line goes into a script.
#[derive(Default)]
struct Form {
    /// Where, in the text without it.
    at: usize,
    /// The bytes (escaped for a basic string).
    insert: String,
    /// What they add to the script's value.
    raw: String,
    /// At the end of a multi-line string: whether the form is for a value whose last line is
    /// ended (`\n` then goes after our line) or not.
    ends_line: Option<bool>,
}

/// The ways our line goes into a script of this quoting.
fn forms(text: &str, sc: &Script, line: &str, first: bool) -> Vec<Form> {
    let (multi, literal) = quoting(&text[sc.span.clone()]);
    // A CRLF file's script lines end in CRLF; the value holds what the parser makes of one.
    let eol = super::files::eol(text);
    let value_eol = value_eol(eol);
    let escaped = line.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = Vec::new();
    let mut push = |at: usize, insert: String, raw: String, ends_line: Option<bool>| {
        out.push(Form {
            at,
            insert,
            raw,
            ends_line,
        });
    };
    if first {
        let at = start(text, sc, multi);
        match (multi, literal) {
            (true, _) => push(
                at,
                format!("{line}{eol}"),
                format!("{line}{value_eol}"),
                None,
            ),
            (false, true) => push(at, format!("{line}; "), format!("{line}; "), None),
            (false, false) => push(at, format!("{escaped}\\n"), format!("{line}\n"), None),
        }
        return out;
    }
    let end = sc.span.end - if multi { 3 } else { 1 };
    match (multi, literal) {
        (true, _) => {
            let (a, b) = (format!("{line}{eol}"), format!("{eol}{line}"));
            let (ra, rb) = (format!("{line}{value_eol}"), format!("{value_eol}{line}"));
            push(end, a, ra, Some(true));
            push(end, b, rb, Some(false));
        }
        (false, true) => push(end, format!("; {line}"), format!("; {line}"), None),
        (false, false) => push(end, format!("\\n{escaped}"), format!("\n{line}"), None),
    }
    out
}

/// What a line end written as `eol` in a multi-line string becomes in its value, as this
/// TOML parser reads it.
pub fn value_eol(eol: &str) -> &'static str {
    if eol != "\r\n" {
        return "\n";
    }
    match toml::from_str::<toml::Table>("s = '''\r\na\r\nb'''") {
        Ok(t) if t.get("s").and_then(|v| v.as_str()) == Some("a\r\nb") => "\r\n",
        _ => "\n",
    }
}

/// Where a script's value starts: after the quote, and for a multi-line string after the
/// newline that directly follows it (TOML trims that one).
fn start(text: &str, sc: &Script, multi: bool) -> usize {
    if !multi {
        return sc.span.start + 1;
    }
    let at = sc.span.start + 3;
    let rest = &text[at..];
    at + if rest.starts_with("\r\n") {
        2
    } else if rest.starts_with('\n') {
        1
    } else {
        0
    }
}
