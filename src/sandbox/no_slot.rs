//! The error when no slot is free: this repo's sandboxes holding slots, the slots other
//! repos' ports keep, and the free slots whose ports are busy (long form and one-line form).

use std::path::Path;

use crate::config::Config;
use crate::error::UserError;
use crate::registry;

use super::reserve::Skipped;

/// "All N slots are taken", naming this repo's sandboxes (other repos' slot numbers are their
/// own), the slots other repos' ports keep, and the free slots whose ports are busy.
pub(super) fn out_of_slots(
    cfg: &Config,
    parent: &std::path::Path,
    data: &registry::Data,
    skipped: &Skipped,
    clashing: &[u32],
) -> anyhow::Error {
    let mut holders: Vec<(u32, String)> = data
        .instances
        .iter()
        .filter(|i| i.slot > 0 && i.parent_repo == parent)
        .map(|i| {
            let line = format!("  slot {}: {} ({})", i.slot, i.id, i.path.display());
            (i.slot, line)
        })
        .collect();
    holders.sort();
    let lines: Vec<String> = holders.into_iter().map(|(_, l)| l).collect();
    let limit = cfg.slot_limit.unwrap_or_default();
    let raise = match (cfg.max_slots, &cfg.limit_reason) {
        (Some(_), _) => "or raise max_slots in .sandbox.toml".to_string(),
        (None, Some(why)) => format!("the port plan fits {limit} slots ({why})"),
        (None, None) => format!("the port plan fits at most {limit} slots"),
    };
    let (head, fix) = match lines.is_empty() {
        false => (
            format!("all {limit} slots are taken:\n{}", lines.join("\n")),
            "remove a sandbox you no longer need (`git sandbox rm NAME`)".to_string(),
        ),
        // Nothing of this repo's holds them: what does is the answer.
        true => (
            format!(
                "no free slot: this repo has no sandboxes, but none of its {limit} slots can be used:\n{}",
                blocked_lines(cfg, skipped, clashing).join("\n")
            ),
            "free those ports (stop what listens there, or remove the other repo's sandboxes that use them)"
                .to_string(),
        ),
    };
    let err = UserError::new(head)
        .hint(format!("{fix}; {raise}"))
        .short(short_out_of_slots(
            cfg, parent, data, limit, skipped, clashing,
        ));
    with_blocked_hints(err, skipped, clashing).into()
}

/// One hint for the slots other repos' ports keep, one per free slot whose ports are busy.
fn with_blocked_hints(mut err: UserError, skipped: &Skipped, clashing: &[u32]) -> UserError {
    if !clashing.is_empty() {
        let list: Vec<String> = clashing.iter().map(u32::to_string).collect();
        err = err.hint(format!(
            "slot(s) {} would use ports another repo's sandboxes hold",
            list.join(", ")
        ));
    }
    for (slot, busy) in skipped {
        let ports: Vec<String> = busy
            .iter()
            .map(|p| format!("{} ({})", p.port, p.label()))
            .collect();
        err = err.hint(format!(
            "slot {slot} is free but its ports are busy: {}",
            ports.join(", ")
        ));
    }
    err
}

/// One line per slot no sandbox of this repo holds, with what keeps it: another repo's
/// sandboxes' ports, or ports busy now.
fn blocked_lines(cfg: &Config, skipped: &Skipped, clashing: &[u32]) -> Vec<String> {
    let mut lines: Vec<(u32, String)> = clashing
        .iter()
        .map(|&slot| {
            let ports: Vec<String> = cfg
                .ports_for(slot)
                .iter()
                .map(|p| p.port.to_string())
                .collect();
            let line = format!(
                "  slot {slot}: its ports ({}) are held by another repo's sandboxes",
                ports.join(", ")
            );
            (slot, line)
        })
        .collect();
    for (slot, busy) in skipped {
        let ports: Vec<String> = busy
            .iter()
            .map(|p| format!("{} ({})", p.port, p.label()))
            .collect();
        lines.push((
            *slot,
            format!("  slot {slot}: port(s) busy: {}", ports.join(", ")),
        ));
    }
    lines.sort();
    lines.into_iter().map(|(_, l)| l).collect()
}

/// The one-line form: `no free slot: all N slots of this repo are taken (a, b, …); remove
/// one with git sandbox rm NAME or raise max_slots in .sandbox.toml` (the last part as the
/// limit allows; slots kept by busy ports or another repo's ports said too).
fn short_out_of_slots(
    cfg: &Config,
    parent: &Path,
    data: &registry::Data,
    limit: u32,
    skipped: &Skipped,
    clashing: &[u32],
) -> String {
    let mut held: Vec<(u32, &str)> = data
        .instances
        .iter()
        .filter(|i| i.slot > 0 && i.parent_repo == parent)
        .map(|i| (i.slot, i.name.as_str()))
        .collect();
    held.sort();
    let mut names: Vec<&str> = held.iter().take(6).map(|(_, n)| *n).collect();
    if held.len() > names.len() {
        names.push("…");
    }
    let raise = match (cfg.max_slots, &cfg.limit_reason) {
        (Some(_), _) | (None, None) => "raise max_slots in .sandbox.toml".to_string(),
        (None, Some(why)) => format!("change the port plan ({why})"),
    };
    // Slots no sandbox of this repo holds, said with what keeps them.
    let mut others = Vec::new();
    if !clashing.is_empty() {
        let list: Vec<String> = clashing.iter().map(u32::to_string).collect();
        others.push(format!(
            "slot(s) {} would use another repo's ports",
            list.join(", ")
        ));
    }
    if !skipped.is_empty() {
        let list: Vec<String> = skipped.iter().map(|(s, _)| s.to_string()).collect();
        others.push(format!("slot(s) {} have busy ports", list.join(", ")));
    }
    if held.is_empty() {
        return format!(
            "no free slot: this repo has no sandboxes, but {}; free those ports or {raise}",
            others.join("; ")
        );
    }
    let (what, others) = match others.is_empty() {
        true => ("of this repo are taken", String::new()),
        false => ("are taken or unusable", format!("; {}", others.join("; "))),
    };
    format!(
        "no free slot: all {limit} slots {what} ({}){others}; remove one with git sandbox rm \
         NAME or {raise}",
        names.join(", ")
    )
}
