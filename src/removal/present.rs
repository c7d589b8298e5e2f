//! The loss report and the plan as lines for the user (stderr), the same for `--dry-run`, the
//! confirmation and a forced removal that does not ask.

use crate::procs::Proc;
use crate::safety::{Report, human_bytes};

use super::plan::Plan;

/// What the removal would touch, one item per line (empty when there is nothing to say).
pub fn report_lines(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let s = &r.status;
    let list = |what: &str, files: &[String], out: &mut Vec<String>| {
        if files.is_empty() {
            return;
        }
        out.push(format!("  {} {what}:", files.len()));
        for f in files.iter().take(20) {
            out.push(format!("    {f}"));
        }
        if files.len() > 20 {
            out.push(format!("    … and {} more", files.len() - 20));
        }
    };
    list("staged", &s.staged, &mut out);
    list("unstaged", &s.unstaged, &mut out);
    list("conflicted", &s.conflicted, &mut out);
    list("untracked", &s.untracked, &mut out);
    list(
        "hidden by --assume-unchanged/--skip-worktree",
        &r.hidden,
        &mut out,
    );
    commit_lines(r, &mut out);
    if let Some(op) = &r.operation {
        out.push(format!(
            "  {op} in progress (its state is saved with the work)"
        ));
    }
    if let Some(reason) = &r.locked {
        out.push(if reason.is_empty() {
            "  locked".into()
        } else {
            format!("  locked: {reason}")
        });
    }
    let f = &r.found;
    list("populated submodule(s)", &f.submodules, &mut out);
    list("nested repositor(ies)", &f.nested_repos, &mut out);
    list("other worktree(s) inside", &f.worktrees, &mut out);
    list("sandbox(es) inside", &r.instances_inside, &mut out);
    list("mount point(s) inside", &f.mounts, &mut out);
    let procs: Vec<String> = r.processes.iter().map(Proc::describe).collect();
    list("process(es) running in it", &procs, &mut out);
    if let Some(note) = r.process_check.partial() {
        out.push(format!("  {note}"));
    }
    list(
        "special file(s) git cannot store (kept in the trash directory)",
        &f.specials,
        &mut out,
    );
    ignored_lines(r, &mut out);
    out
}

fn commit_lines(r: &Report, out: &mut Vec<String>) {
    let s = &r.status;
    if s.branch.is_none() {
        // Detached: no branch to have pushed; the commits are on none.
        let at = s.head.as_deref().map_or("?", |h| &h[..h.len().min(7)]);
        out.push(if r.unpushed > 0 {
            format!(
                "  HEAD is detached at {at} with {} commit(s) on no branch and no remote",
                r.unpushed
            )
        } else {
            format!("  HEAD is detached at {at}")
        });
    } else if r.unpushed > 0 {
        out.push(format!(
            "  {} commit(s) on no remote{}",
            r.unpushed,
            if r.never_pushed {
                " (the branch was never pushed)"
            } else {
                ""
            }
        ));
    } else if r.never_pushed {
        out.push(if r.at_base {
            "  the branch was never pushed (it has no commits of its own)".into()
        } else {
            "  the branch was never pushed under its name (its commits are on a remote already)"
                .into()
        });
    }
    if s.upstream.is_none() && !r.remote_refs.is_empty() {
        out.push(format!(
            "  pushed to {} (no upstream set)",
            r.remote_refs.join(", ")
        ));
    }
    if !r.reflog_only.is_empty() {
        out.push(format!(
            "  {} commit(s) only in the worktree's HEAD reflog (kept in the trash state)",
            r.reflog_only.len()
        ));
    }
    if let Some(p) = &r.pushed {
        out.push(format!(
            "  last pushed {} to {} {}",
            p.at, p.remote, p.remote_ref
        ));
    }
    if s.upstream.is_some() && s.ahead > 0 {
        out.push(format!(
            "  {} commit(s) ahead of {}",
            s.ahead,
            s.upstream.as_deref().unwrap_or("")
        ));
    }
}

fn ignored_lines(r: &Report, out: &mut Vec<String>) {
    let (kept, disposable): (Vec<_>, Vec<_>) = r.ignored.iter().partition(|i| !i.disposable);
    let sum = |v: &[&crate::safety::Ignored]| {
        v.iter()
            .fold((0, 0), |(c, b), i| (c + i.files, b + i.bytes))
    };
    if !kept.is_empty() {
        let (c, b) = sum(&kept);
        out.push(format!(
            "  (information) {c} ignored file(s), {}, kept in the trash (`git sandbox restore` puts them back):",
            human_bytes(b)
        ));
        for i in kept.iter().take(10) {
            out.push(format!("    {} ({})", i.path, human_bytes(i.bytes)));
        }
    }
    if !disposable.is_empty() {
        let (c, b) = sum(&disposable);
        let names: Vec<&str> = disposable.iter().map(|i| i.path.as_str()).collect();
        out.push(format!(
            "  (information) {c} disposable ignored file(s), {}, deleted: {}",
            human_bytes(b),
            names.join(", ")
        ));
    }
}

/// The steps of `plan`, as lines.
pub fn steps(plan: &Plan, path: &str, services: Option<&str>, slot: u32) -> Vec<String> {
    let mut out = Vec::new();
    if !plan.kill.is_empty() {
        let names: Vec<String> = plan.kill.iter().map(Proc::describe).collect();
        out.push(format!("stop {} (TERM, then KILL)", names.join(", ")));
    }
    if let Some(s) = services {
        out.push(s.to_string());
    }
    if !plan.remove_worktree {
        out.push(format!("leave {path} and its branch in place"));
        out.push(format!("free slot {slot}"));
        return out;
    }
    out.push(if plan.save_snapshot {
        "save its uncommitted work (byte for byte) and its commits under refs/sandbox/trash/"
            .to_string()
    } else {
        "record its commits under refs/sandbox/trash/".to_string()
    });
    out.push(format!(
        "move {path} into a trash directory beside it and check it again"
    ));
    if !plan.keep.is_empty() {
        out.push(format!(
            "keep {} path(s) git cannot hold in that trash directory",
            plan.keep.len()
        ));
    }
    if !plan.dispose.is_empty() {
        out.push(format!("delete {}", plan.dispose.join(", ")));
    }
    out.push("delete the rest of the tree (its work is in the trash state)".into());
    if let Some((b, _)) = &plan.delete_branch {
        out.push(format!("delete branch {b}"));
    }
    out.push(format!("free slot {slot}"));
    out
}
