//! Which engine `up` starts a stack on, and recording it.
//!
//! The choice: `--engine X`; else the shell's engine when the shell names one explicitly
//! (`DOCKER_HOST` or `DOCKER_CONTEXT` set); else the one recorded at the last `up`; else the
//! shell's (docker's current context, or local). A stack that runs on its recorded engine is
//! never moved: `up` on another engine is refused with the fix (`down` first). A stopped stack
//! whose volumes are on the old engine is not moved either (they would drop out of `rm`, the
//! trash and `restore`) unless `--force`. An engine that does not answer is never recorded.

use anyhow::Result;

use super::Engine;
use crate::error::UserError;
use crate::registry::{Instance, Registry};

/// The engine `up` of `inst` uses (selected for the rest of the run), after refusing a move
/// of a running stack.
pub fn for_up(inst: &Instance, requested: Option<&str>, force: bool) -> Result<Engine> {
    let chosen = match requested {
        Some(x) => super::named(x)?,
        None if super::shell_is_explicit() => super::shell()?,
        None => match &inst.engine {
            Some(e) => e.clone(),
            None => super::shell()?,
        },
    };
    if inst.engine.as_ref() != Some(&chosen) {
        refuse_silent(&chosen)?;
    }
    if let Some(old) = inst.engine.as_ref().filter(|old| **old != chosen) {
        check_move(inst, old, &chosen, force)?;
        crate::ui::info(&format!(
            "moving the stack of {} from engine {} to {}",
            inst.name,
            old.shown(),
            chosen.shown()
        ));
    }
    super::select(&chosen);
    Ok(chosen)
}

/// An engine that does not answer is never recorded (a typo, a context pointing nowhere).
fn refuse_silent(engine: &Engine) -> Result<()> {
    let out = engine
        .docker()
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdin(std::process::Stdio::null())
        .output();
    let why = match out {
        Ok(o) if o.status.success() => return Ok(()),
        Ok(o) => crate::compose::removal::first_line(&o.stderr),
        Err(e) => e.to_string(),
    };
    Err(UserError::new(format!(
        "the Docker engine cannot be reached: engine {} does not answer ({why}); nothing was started or recorded",
        engine.shown()
    ))
    .hint("start it, or check the name (`docker context ls`) or the endpoint")
    .hint("or run it here: `--engine local`")
    .into())
}

/// A stack that runs on `old` cannot start on `new`; nor one whose volumes are on `old`,
/// unless `force`.
fn check_move(inst: &Instance, old: &Engine, new: &Engine, force: bool) -> Result<()> {
    super::select(old);
    let running = crate::compose::owner::running();
    let volumes = volumes_on(inst, old);
    super::select(new);
    let up = match running {
        Ok(r) => r.has(inst),
        // The old engine does not answer: nothing of the stack can be stopped there now.
        Err(e) => {
            crate::ui::warn(&format!(
                "engine {} (where {} last ran) does not answer ({e}); whatever runs there keeps running",
                old.shown(),
                inst.name
            ));
            false
        }
    };
    if up {
        return Err(running_refusal(inst, old, new));
    }
    match volumes {
        Some(v) if !v.is_empty() && !force => Err(volumes_refusal(inst, old, new, &v)),
        Some(v) if !v.is_empty() => {
            crate::ui::warn(&format!(
                "volumes left on engine {} (--force; no longer seen by rm or restore, yours to delete): {}",
                old.shown(),
                v.join(", ")
            ));
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The volumes on `engine` carrying `inst`'s uuid; `None` when it cannot say.
fn volumes_on(inst: &Instance, engine: &Engine) -> Option<Vec<String>> {
    let uuid = inst.uuid.as_ref()?;
    let out = engine
        .docker()
        .args(["volume", "ls", "-q", "--filter"])
        .arg(format!("label={}={uuid}", crate::compose::owner::LABEL))
        .stdin(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
    )
}

fn running_refusal(inst: &Instance, old: &Engine, new: &Engine) -> anyhow::Error {
    UserError::new(format!(
        "the stack of {} runs on engine {}; it cannot start on {} while it runs there",
        inst.name,
        old.shown(),
        new.shown()
    ))
    .hint(format!(
        "`git sandbox down {}` first, then `git sandbox up {} --engine {}`",
        inst.name, inst.name, new.name
    ))
    .hint(format!(
        "or keep it where it is: `git sandbox up {} --engine {}`",
        inst.name, old.name
    ))
    .into()
}

fn volumes_refusal(
    inst: &Instance,
    old: &Engine,
    new: &Engine,
    volumes: &[String],
) -> anyhow::Error {
    UserError::new(format!(
        "the volumes of {} are on engine {} ({}); on {} its stack would start empty, and rm and restore would no longer see them",
        inst.name,
        old.shown(),
        volumes.join(", "),
        new.shown()
    ))
    .hint(format!(
        "keep it where its data is: `git sandbox up {} --engine {}`",
        inst.name, old.name
    ))
    .hint(format!(
        "or move anyway, leaving them there for you to delete: `git sandbox up {} --engine {} --force`",
        inst.name, new.name
    ))
    .into()
}

/// Records `engine` as `inst`'s, before its stack starts (so `down`/`rm` find what a failed
/// `up` left there too). Returns the instance as recorded.
pub fn record(inst: &Instance, engine: &Engine) -> Result<Instance> {
    if inst.engine.as_ref() == Some(engine) {
        return Ok(inst.clone());
    }
    let reg = Registry::locate()?;
    let mut out = inst.clone();
    reg.update(|data| {
        if let Some(i) = data.find_mut(&inst.id) {
            i.engine = Some(engine.clone());
            out = i.clone();
        }
        Ok(())
    })?;
    Ok(out)
}
