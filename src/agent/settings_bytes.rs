//! Claude Code's `settings.json` edited as bytes: our two hook entries spliced in where
//! [`super::settings::install`] puts them (a group last in the event's list, an event last in
//! `hooks`, or `hooks` last in the file), each in its container's own spacing, so every other
//! byte stays, a compact file stays compact and a pretty one keeps its indentation. The result
//! must parse to exactly what `install` makes (keys in order). Removing cuts those bytes and
//! must give a text that adding them back turns into the file as it is: a file nobody
//! touched since `agent-setup` gets its original bytes back. Where no splice proves out (the
//! file was edited around our entries), `None`: the caller re-writes the value as before.

use serde_json::{Value, json};

use super::jsonsplice::{Place, cuts, elements, insert, open_of};
use super::settings::{Commands, install, uninstall};

/// Our group for an event's command, as `install` writes it.
fn group(command: &str) -> Value {
    json!({ "hooks": [{ "type": "command", "command": command }] })
}

/// Whether two values are the same, keys in the same order.
fn same(a: &Value, b: &Value) -> bool {
    // `==` on values ignores key order; their text does not.
    serde_json::to_string(a).ok() == serde_json::to_string(b).ok()
}

/// The text that turns `text` into `target` by adding or removing our entries, if a splice
/// proves out; `None` otherwise.
pub fn splice_to(text: &str, target: &Value, cmds: &Commands) -> Option<String> {
    let orig: Value = serde_json::from_str(text).ok()?;
    let mut added = orig.clone();
    if install(&mut added, std::path::Path::new(""), cmds).is_ok() && same(&added, target) {
        return with_hooks(text, cmds);
    }
    let mut removed = orig;
    uninstall(&mut removed);
    if same(&removed, target) {
        return without_hooks(text, cmds);
    }
    None
}

/// `text` with our entries spliced in, proved against `install`.
pub fn with_hooks(text: &str, cmds: &Commands) -> Option<String> {
    let mut want: Value = serde_json::from_str(text).ok()?;
    let (events, _) = install(&mut want, std::path::Path::new(""), cmds).ok()?;
    let mut cur = text.to_string();
    for event in events {
        let g = group(cmds.of(event));
        cur = if let Some(list) = open_of(&cur, &["hooks", event]) {
            insert(&cur, list, None, &g, Place::Last)
        } else if let Some(hooks) = open_of(&cur, &["hooks"]) {
            insert(&cur, hooks, Some(event), &json!([g]), Place::Last)
        } else {
            let root = open_of(&cur, &[])?;
            insert(
                &cur,
                root,
                Some("hooks"),
                &json!({ event: [g] }),
                Place::Last,
            )
        };
    }
    let got: Value = serde_json::from_str(&cur).ok()?;
    same(&got, &want).then_some(cur)
}

/// `text` without our entries: the first cut that adding them back turns into `text`.
pub fn without_hooks(text: &str, cmds: &Commands) -> Option<String> {
    let mut rest: Value = serde_json::from_str(text).ok()?;
    let events = uninstall(&mut rest);
    let mut candidates = Vec::new();
    if let Some(root) = open_of(text, &[]) {
        let members = elements(text, root);
        if let Some(i) = members
            .iter()
            .rposition(|e| e.key.as_deref() == Some("hooks"))
        {
            candidates.extend(cuts(text, root, i));
        }
    }
    candidates.extend(strip(text, &events, cmds));
    candidates
        .into_iter()
        .find(|c| with_hooks(c, cmds).as_deref() == Some(text))
}

/// Every text without our entries of `events`, last event first: each cut as its event
/// member, or as our group in its list.
fn strip(text: &str, events: &[&str], cmds: &Commands) -> Vec<String> {
    let Some((event, rest)) = events.split_last() else {
        return vec![text.to_string()];
    };
    let mut here = Vec::new();
    if let Some(hooks) = open_of(text, &["hooks"]) {
        let members = elements(text, hooks);
        if let Some(i) = members
            .iter()
            .rposition(|e| e.key.as_deref() == Some(*event))
        {
            here.extend(cuts(text, hooks, i));
        }
    }
    if let Some(list) = open_of(text, &["hooks", event]) {
        let ours = group(cmds.of(event));
        for (i, e) in elements(text, list).iter().enumerate() {
            if serde_json::from_str::<Value>(&text[e.span.clone()]).ok() == Some(ours.clone()) {
                here.extend(cuts(text, list, i));
            }
        }
    }
    here.iter().flat_map(|t| strip(t, rest, cmds)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(original: &str) {
        for cmds in [Commands::default(), Commands::new(Some("worktree-"))] {
            let added = with_hooks(original, &cmds).expect("spliced");
            let v: Value = serde_json::from_str(&added).expect("json");
            let last = v["hooks"]["WorktreeCreate"]
                .as_array()
                .and_then(|l| l.last());
            let command = last.map(|g| g["hooks"][0]["command"].clone());
            assert_eq!(command, Some(Value::from(cmds.create.clone())), "{added}");
            assert_eq!(
                without_hooks(&added, &cmds).as_deref(),
                Some(original),
                "{added}"
            );
        }
    }

    #[test]
    fn compact_pretty_and_partial_files_round_trip() {
        round_trip("{\"model\":\"opus\",\"permissions\":{\"allow\":[\"Bash(ls)\"]}}");
        round_trip("{\"model\": \"opus\", \"hooks\": {\"Stop\": []}}\n");
        round_trip(
            "{\n    \"hooks\": {\n        \"WorktreeCreate\": [\n            {\"hooks\": []}\n        ]\n    }\n}",
        );
        round_trip("{}");
        round_trip("{\n\t\"model\": \"opus\"\n}");
    }

    #[test]
    fn compact_stays_one_line() {
        let added = with_hooks("{\"model\":\"opus\"}", &Commands::default()).expect("spliced");
        assert!(!added.contains('\n'), "{added}");
        assert!(
            added.starts_with("{\"model\":\"opus\",\"hooks\":{"),
            "{added}"
        );
    }
}
