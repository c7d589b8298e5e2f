//! Which engine `up` starts a stack on, and recording it.
//!
//! The choice: `--engine X`; else the shell's engine when the shell names one explicitly
//! (`DOCKER_HOST` or `DOCKER_CONTEXT` set); else the one recorded at the last `up`; else the
//! shell's (docker's current context, or local). A stack that runs on its recorded engine is
//! never moved: `up` on another engine is refused with the fix (`down` first). Moving a
//! stopped stack says what stays behind (its volumes on the old engine).

use anyhow::Result;

use super::Engine;
use crate::error::UserError;
use crate::registry::{Instance, Registry};

/// The engine `up` of `inst` uses (selected for the rest of the run), after refusing a move
/// of a running stack.
pub fn for_up(inst: &Instance, requested: Option<&str>) -> Result<Engine> {
    let chosen = match requested {
        Some(x) => super::named(x)?,
        None if super::shell_is_explicit() => super::shell()?,
        None => match &inst.engine {
            Some(e) => e.clone(),
            None => super::shell()?,
        },
    };
    if let Some(old) = inst.engine.as_ref().filter(|old| **old != chosen) {
        refuse_running_move(inst, old, &chosen)?;
        crate::ui::info(&format!(
            "moving the stack of {} from engine {} to {} (its volumes on {} stay there)",
            inst.name,
            old.shown(),
            chosen.shown(),
            old.shown()
        ));
    }
    super::select(&chosen);
    Ok(chosen)
}

/// A stack that runs on `old` cannot start on `new`.
fn refuse_running_move(inst: &Instance, old: &Engine, new: &Engine) -> Result<()> {
    super::select(old);
    let running = crate::compose::owner::running();
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
    if !up {
        return Ok(());
    }
    Err(UserError::new(format!(
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
    .into())
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
