//! The words of rm's refusal: the reasons, and a hint for each kind (an own pipeline writing
//! inside, what `--force` cannot override, work to keep on a branch or a detached HEAD,
//! processes, a lock), and a refusal after the confirmation (in the JSON too).

use std::path::Path;

use crate::error::UserError;
use crate::json::{self, rm::Outcome};
use crate::registry::Instance;
use crate::removal::plan;
use crate::safety::Report;

use super::Options;

pub(super) fn refusal(
    inst: &Instance,
    report: &Report,
    r: &plan::Refusal,
    path: &Path,
) -> anyhow::Error {
    let mut err = UserError::refused(format!(
        "refusing to remove {}: {}",
        inst.name,
        r.reasons.join("; ")
    ));
    if r.hard
        && r.reasons
            .iter()
            .any(|s| s.contains("own pipeline writes in it"))
    {
        err = err.hint(format!(
            "run `git sandbox rm {}` again without a pipeline stage that writes into the sandbox (e.g. `| tee /tmp/rm.log`)",
            inst.name
        ));
    } else if r.hard {
        err = err.hint(
            "move that out of the sandbox (or unmount it) first; --force does not override this",
        );
    } else {
        // Only processes stand in the way: there is no work to commit or stash.
        let only_processes = r.reasons.iter().all(|s| s.starts_with("process(es)"));
        let detached = r.reasons.iter().any(|s| s.contains("detached"));
        let keep = if detached {
            format!(
                "commit or stash the work, give HEAD's commits a branch (`git -C {} switch -c NAME`) and push it",
                path.display()
            )
        } else {
            "commit or stash the work and push the branch".to_string()
        };
        if !only_processes {
            err = err.hint(format!("{keep} first; or `--force` removes it anyway: its work is saved under refs/sandbox/trash and its other files kept in a trash directory (`git sandbox restore` brings it all back)"));
        }
        if !report.processes.is_empty() {
            err = err.hint("`--kill` stops the processes still running in it (containers through their engine's `stop`)");
        }
    }
    if report.locked.is_some() {
        err = err.hint(format!(
            "unlock with `git worktree unlock {}`",
            path.display()
        ));
    }
    err.into()
}

/// A removal refused after the confirmation (the tree changed, a process would not stop):
/// with `--json`, its JSON says so too.
pub(super) fn late(facts: &json::rm::Facts, opts: &Options, e: anyhow::Error) -> anyhow::Error {
    let refused = e
        .chain()
        .find_map(|c| c.downcast_ref::<UserError>())
        .filter(|u| u.code == crate::error::EXIT_REFUSED);
    if let (true, Some(u)) = (opts.json, refused) {
        let mut reasons = vec![u.message.clone()];
        reasons.extend(u.hints.iter().cloned());
        let refusal = json::rm::Refusal {
            hard: false,
            reasons,
        };
        if let Err(p) = super::json_out(facts, opts, Outcome::Refused, Some(refusal)) {
            return p;
        }
    }
    e
}
