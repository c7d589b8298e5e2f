//! Making room for a seed (step 1 of `mod.rs`): the target must be absent, or the sandbox's
//! own; a copy a killed seed cut short is deleted; `--reset`/`--undo` first check that no
//! running container uses the volume (a refusal changes nothing), then copy the data aside
//! into a saved volume (undoable), then delete the volume.

use anyhow::Result;

use super::volumes::{self, Target};
use super::{
    Existing, Job, SAVED_LABEL, copy, docker, failed, helper_image, record, remove_volume,
};
use crate::error::UserError;

pub(super) enum Cleared {
    Keep,
    Saved(Option<String>),
}

/// Step 1 (see the module doc).
pub(super) fn clear_target(job: &Job, t: &Target, existing: Existing) -> Result<Cleared> {
    let Some(owner) = volumes::inspect(&t.name)? else {
        return Ok(Cleared::Saved(None));
    };
    if owner != job.uuid {
        return Err(UserError::refused(format!(
            "volume {} exists and does not carry {}'s identity: a seed never writes into it",
            t.name, job.name
        ))
        .hint(format!(
            "it is someone else's; `docker volume inspect {}` shows whose",
            t.name
        ))
        .into());
    }
    let rec = record::get(&job.dir, &t.name)?;
    if rec
        .as_ref()
        .is_some_and(|r| r.state == record::State::Copying && r.uuid == job.uuid)
    {
        crate::ui::warn(&format!(
            "{}: a seed was cut short here; copying again",
            t.name
        ));
        drop_own(job, t)?;
        return Ok(Cleared::Saved(None));
    }
    match existing {
        Existing::Keep => Ok(Cleared::Keep),
        Existing::Refuse => Err(UserError::new(format!(
            "{} already has volume {}",
            job.name, t.name
        ))
        .hint(format!("`git sandbox seed {} --reset` replaces it with a fresh copy (the old data is kept, undoable)", job.name))
        .into()),
        Existing::Replace => {
            // Refused before anything is made: a refusal changes nothing (no saved copy per try).
            droppable(job, t)?;
            let saved = save_aside(job, t)?;
            if let Err(e) = drop_own(job, t) {
                // Something started using it meanwhile: the copy just made goes too.
                let _ = remove_volume(&saved);
                return Err(e);
            }
            Ok(Cleared::Saved(Some(saved)))
        }
    }
}

/// Refuses while a running container of the sandbox uses the volume, or any container
/// another owns mounts it; else the sandbox's stopped containers that mount it.
fn droppable(job: &Job, t: &Target) -> Result<Vec<String>> {
    let running = volumes::users(&t.name, true)?;
    if !running.is_empty() {
        return Err(UserError::refused(format!(
            "volume {} is in use by running container(s) {}",
            t.name,
            running.join(", ")
        ))
        .hint(format!(
            "stop the stack first: `git sandbox down {}`",
            job.name
        ))
        .into());
    }
    let stopped = volumes::users(&t.name, false)?;
    for c in &stopped {
        let format = format!(
            "{{{{index .Config.Labels \"{}\"}}}}",
            crate::compose::owner::LABEL
        );
        let owner = docker(&["inspect", "--format", &format, c]).unwrap_or_default();
        if owner.trim() != job.uuid {
            return Err(UserError::refused(format!(
                "container {c}, which is not {}'s, mounts volume {}",
                job.name, t.name
            ))
            .into());
        }
    }
    Ok(stopped)
}

/// [`droppable`]'s refusals; then removes the sandbox's stopped containers that mount the
/// volume (compose makes them again), then the volume.
fn drop_own(job: &Job, t: &Target) -> Result<()> {
    for c in droppable(job, t)? {
        docker(&["rm", &c])
            .map_err(|e| UserError::new(format!("cannot remove container {c}: {e}")))?;
    }
    remove_volume(&t.name)
        .map_err(|e| UserError::new(format!("cannot delete volume {}: {e}", t.name)))?;
    record::set(&job.dir, &t.name, None)
}

/// `--reset`'s undo: the old data copied into `<volume>.saved-<time>` (the sandbox's uuid,
/// no compose labels, so compose never takes it), kept with the sandbox like its volumes.
fn save_aside(job: &Job, t: &Target) -> Result<String> {
    let saved = Target {
        name: format!("{}.saved-{}", t.name, record::now()),
        labels: vec![(SAVED_LABEL.into(), t.name.clone())],
        ..t.clone()
    };
    let image = helper_image(t)?;
    let mut args = vec!["volume".to_string(), "create".into()];
    for (k, v) in [
        (crate::compose::owner::LABEL, job.uuid.as_str()),
        (SAVED_LABEL, t.name.as_str()),
    ] {
        args.extend(["--label".into(), format!("{k}={v}")]);
    }
    args.push(saved.name.clone());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    docker(&a).map_err(|e| UserError::new(format!("cannot create {}: {e}", saved.name)))?;
    let mut quiet = |_| {};
    if let Err(stop) = copy::volume(&image, &t.name, &saved.name, &job.uuid, &mut quiet) {
        let removed = remove_volume(&saved.name);
        return Err(failed(&saved, stop, removed));
    }
    crate::ui::info(&format!(
        "the old data of {} is kept in volume {}",
        t.name, saved.name
    ));
    Ok(saved.name)
}
