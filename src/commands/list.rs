//! `list`, `status` and `path`: what each sandbox holds, gathered in parallel.
//!
//! Per sandbox: one `git status --porcelain=v2 --branch` (dirty counts and ahead/behind in one
//! spawn; for a small tree, a proof in-process that it is clean but for any untracked paths,
//! `git/clean.rs`)
//! and, unless HEAD is a remote-tracking tip, the unpushed count walked in-process on the
//! commit-graph while it runs (`list/look.rs`), on all sandboxes at once; plus one `docker ps`
//! for all of them when any has a compose file.

use std::path::Path;

use anyhow::Result;

use crate::cli::{ListArgs, NameArg, StatusArgs};
use crate::commands::Ctx;
use crate::error::UserError;
use crate::registry::{Instance, MadeBy, SETUP_INTERRUPTED, SETUP_RUNNING, State};

mod look;
mod rows;

use crate::target;
use crate::ui;
pub use rows::{Row, gather};

fn changes(r: &Row) -> String {
    if r.missing {
        return "MISSING DIRECTORY".into();
    }
    if r.invalid.is_some() {
        return "INVALID PATH".into();
    }
    match &r.dirty {
        None => "?".into(),
        Some(d) if d.staged + d.unstaged + d.untracked + d.conflicted == 0 => "clean".into(),
        Some(d) => {
            let mut parts = Vec::new();
            if d.staged > 0 {
                parts.push(format!("{} staged", d.staged));
            }
            if d.unstaged > 0 {
                parts.push(format!("{} unstaged", d.unstaged));
            }
            if d.untracked > 0 {
                parts.push(format!("{} untracked", d.untracked));
            }
            if d.conflicted > 0 {
                parts.push(format!("{} conflicted", d.conflicted));
            }
            parts.join(", ")
        }
    }
}

/// An RFC 3339 time as people read it in a table: `5 min ago`, `2 h ago`, `3 d ago`.
fn ago(at: &str) -> String {
    let Ok(then) = humantime::parse_rfc3339_weak(at) else {
        return at.to_string();
    };
    let secs = std::time::SystemTime::now()
        .duration_since(then)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match secs {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86400 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86400),
    }
}

fn push_state(r: &Row) -> String {
    let mut parts = Vec::new();
    if let Some(how) = &r.integrated {
        parts.push(match how.as_str() {
            "merged" => "merged".to_string(),
            "fast-forward" => "merged (ff)".to_string(),
            "squashed" => "merged (squash)".to_string(),
            _ => "merged (rebase)".to_string(),
        });
        // Its work is in the default branch: whether its own commits were pushed is noise.
        return parts.join(", ");
    }
    if r.never_pushed {
        parts.push("never pushed".to_string());
    } else if let Some(p) = &r.pushed {
        parts.push(format!("pushed {}", ago(&p.at)));
    }
    if let Some(n) = r.unpushed.filter(|n| *n > 0) {
        parts.push(format!("{n} unpushed"));
    }
    if let Some(u) = &r.upstream {
        if u.gone {
            parts.push(format!("upstream {} gone", u.name));
        } else if u.ahead > 0 || u.behind > 0 {
            parts.push(format!("+{} -{} {}", u.ahead, u.behind, u.name));
        } else if !r.never_pushed && r.pushed.is_none() {
            parts.push(format!("up to date with {}", u.name));
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The branch, or as git says it, `HEAD detached at 197a0d1`.
fn branch_text(r: &Row) -> String {
    match (&r.branch, &r.detached_at) {
        (Some(b), _) => b.clone(),
        (None, Some(at)) => format!("HEAD detached at {}", &at[..at.len().min(7)]),
        (None, None) => "(detached)".into(),
    }
}

/// What fixes a row that is not what the registry says, for the line under the table.
fn missing_hint(rows: &[Row]) -> Option<String> {
    let names: Vec<&str> = rows
        .iter()
        .filter(|r| r.missing)
        .map(|r| r.name.as_str())
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "MISSING DIRECTORY: the directory of {} is gone; `git sandbox prune` drops {} from the list",
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        )
    })
}

fn ports_text(r: &Row) -> String {
    if r.ports.is_empty() {
        return "-".into();
    }
    let ports: Vec<(String, u32, bool)> = r
        .ports
        .iter()
        .map(|(k, v)| (k.clone(), *v, false))
        .collect();
    match &r.engine {
        // A remote engine's ports are on its host, not this machine's.
        Some(e) => format!("{} on {}", ui::ports_line(&ports), e.url_host()),
        None => ui::ports_line(&ports),
    }
}

pub fn list(ctx: &Ctx, args: ListArgs) -> Result<i32> {
    let data = ctx.reg.load()?;
    let (insts, repo): (Vec<Instance>, _) = if args.all {
        (data.instances.clone(), ctx.repo().ok())
    } else {
        let repo = ctx.repo()?;
        crate::git::prefetch_graph(&repo);
        (data.of_repo(&repo.root).cloned().collect(), Some(repo))
    };
    let rows = gather(&insts, repo.as_ref());
    if args.json {
        let verdict = config_verdict(&rows);
        crate::json::print(&crate::json::List {
            version: crate::json::Version,
            sandboxes: rows,
        })?;
        return verdict;
    }
    if rows.is_empty() {
        let hint = ctx.repo().map_or(
            "make one with `git sandbox new <name>` in a repository",
            |r| r.first_sandbox_hint(),
        );
        ui::info(&format!("no sandboxes; {hint}"));
        return Ok(0);
    }
    let columns = columns(args.all);
    let table: Vec<Vec<String>> = rows.iter().map(|r| table_row(r, args.all)).collect();
    let (lines, dropped) = ui::table_columns(&columns, &table, &state_colour);
    for line in lines {
        ui::out(&line);
    }
    if !dropped.is_empty() {
        ui::info(&format!(
            "{} left out to fit {} columns (`git sandbox status NAME` or --json shows them)",
            dropped.join(", "),
            ui::table::width_limit().unwrap_or_default()
        ));
    }
    if let Some(hint) = missing_hint(&rows) {
        ui::info(&hint);
    }
    config_verdict(&rows)
}

/// One row of `list`'s table, with the repo's directory name first under `--all`.
fn table_row(r: &Row, all: bool) -> Vec<String> {
    let mut cells = vec![
        name_cell(r),
        r.slot.to_string(),
        branch_text(r),
        changes(r),
        push_state(r),
        match r.services_up {
            None => "-".into(),
            Some(true) => "up".into(),
            Some(false) => "down".into(),
        },
        ports_text(r),
    ];
    if all {
        let repo = Path::new(&r.parent_repo)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        cells.insert(0, repo);
    }
    cells
}

/// `list`'s columns in their order, each with how it gives up room on a narrow terminal and
/// its rank: the name and branch matter most and are cut last; push state, changes and ports
/// fold between words; the slot and services are left out before anything is cut.
fn columns(all: bool) -> Vec<ui::table::Column<'static>> {
    use ui::table::{Column, Fit};
    let col = |header, fit, rank| Column { header, fit, rank };
    let mut columns = vec![
        col("NAME", Fit::Cut, 0),
        col("SLOT", Fit::Drop, 7),
        col("BRANCH", Fit::Cut, 2),
        col("CHANGES", Fit::Fold, 4),
        col("PUSH", Fit::Fold, 3),
        col("SERVICES", Fit::Drop, 6),
        col("PORTS", Fit::Fold, 5),
    ];
    if all {
        columns.insert(0, col("REPO", Fit::Cut, 1));
    }
    columns
}

/// The NAME cell: the name, with an operation under way or a setup that did not finish.
fn name_cell(r: &Row) -> String {
    if r.state != State::Ready {
        return format!("{} ({:?})", r.name, r.state).to_lowercase();
    }
    match r.setup.as_deref() {
        Some(SETUP_RUNNING) => format!("{} (setting up)", r.name),
        Some(SETUP_INTERRUPTED) => format!("{} (setup interrupted)", r.name),
        _ => r.name.clone(),
    }
}

/// After the rows are out: a `.sandbox.toml` that does not parse is an error (exit 1), so its
/// sandboxes never pass for ones without ports.
fn config_verdict(rows: &[Row]) -> Result<i32> {
    let bad = rows
        .iter()
        .filter_map(|r| r.error.as_deref())
        .find(|e| e.contains(".sandbox.toml"));
    match bad {
        Some(e) => Err(UserError::new(e.to_string())
            .hint("fix .sandbox.toml (see the README's Configuration section); its ports are not shown until then")
            .into()),
        None => Ok(0),
    }
}

/// Prints one instance in detail (also used by `local-prod status`).
pub fn show(inst: &Instance, known: Option<&crate::git::Repo>, json: bool) -> Result<i32> {
    let rows = gather(std::slice::from_ref(inst), known);
    let Some(r) = rows.into_iter().next() else {
        return Ok(1);
    };
    if json {
        let verdict = config_verdict(std::slice::from_ref(&r));
        crate::json::print(&crate::json::Status {
            version: crate::json::Version,
            sandbox: r,
        })?;
        return verdict;
    }
    let mut lines = vec![
        ("name", r.name.clone()),
        ("id", r.id.clone()),
        ("kind", r.kind.as_str().to_string()),
        ("slot", r.slot.to_string()),
        ("path", r.path.clone()),
        ("repo", r.parent_repo.clone()),
        ("branch", branch_text(&r)),
        ("created", r.created_at.clone()),
        ("changes", changes(&r)),
        ("push", push_state(&r)),
        ("ports", ports_text(&r)),
    ];
    if let Some(up) = r.services_up {
        lines.push(("services", if up { "up".into() } else { "down".into() }));
    }
    if let Some(e) = &r.engine {
        lines.push(("engine", e.shown()));
    }
    push_notes(&r, &mut lines);
    for (k, v) in lines {
        ui::out(&format!("{:<9} {v}", format!("{k}:")));
    }
    config_verdict(std::slice::from_ref(&r))
}

/// `status`'s lines for what needs a word: a setup not done, who made it, an interrupted
/// operation, a missing directory, an invalid entry, an error.
fn push_notes(r: &Row, lines: &mut Vec<(&'static str, String)>) {
    if let Some(s) = r.setup.as_ref().filter(|s| *s != "done") {
        lines.push((
            "setup",
            if s == SETUP_RUNNING {
                s.clone()
            } else {
                format!("{s} (`git sandbox setup {}` runs it)", r.name)
            },
        ));
    }
    if r.made_by != MadeBy::User {
        lines.push(("made by", r.made_by.describe()));
    }
    if r.state != State::Ready {
        lines.push((
            "state",
            format!("{:?} (interrupted? run `git sandbox prune`)", r.state).to_lowercase(),
        ));
    }
    if r.missing {
        lines.push((
            "missing",
            "its directory is gone; `git sandbox prune` drops it from the list".to_string(),
        ));
    }
    if let Some(why) = &r.invalid {
        lines.push(("invalid", why.clone()));
    }
    if let Some(e) = &r.error {
        lines.push(("error", e.clone()));
    }
}

pub fn status(ctx: &Ctx, args: StatusArgs) -> Result<i32> {
    crate::timings::step("status: start");
    let repo = ctx.repo()?;
    crate::git::prefetch_graph(&repo);
    crate::timings::step("status: repo");
    let data = ctx.reg.load()?;
    crate::timings::step("status: reg load");
    let inst = target::resolve(&repo, &data, args.name.as_deref(), &ctx.cwd)?;
    crate::timings::step("status: resolve");
    let r = show(&inst, Some(&repo), args.json);
    crate::timings::step("status: show");
    r
}

pub fn path(ctx: &Ctx, args: NameArg) -> Result<i32> {
    let repo = ctx.repo()?;
    let data = ctx.reg.load()?;
    let inst = target::by_name(&repo, &data, &args.name)?;
    ui::out(&inst.path.display().to_string());
    Ok(0)
}

/// The colour of a state cell (on a terminal only; `ui` decides): what needs attention red or
/// yellow, running services green.
fn state_colour(column: &str, cell: &str) -> Option<ui::Style> {
    match column {
        "CHANGES" if cell.starts_with("MISSING") || cell.starts_with("INVALID") => {
            Some(ui::Style::Red)
        }
        "CHANGES" if cell != "clean" && cell != "?" => Some(ui::Style::Yellow),
        "PUSH" if cell.contains("never pushed") => Some(ui::Style::Red),
        "PUSH" if cell.contains("unpushed") => Some(ui::Style::Yellow),
        "SERVICES" if cell == "up" => Some(ui::Style::Green),
        _ => None,
    }
}
