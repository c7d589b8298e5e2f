//! `mv OLD NEW`: rename a sandbox. Its directory moves to the path for NEW (with
//! `git worktree move`); the branch, slot and instance id stay (see `sandbox/moving.rs`).

use anyhow::Result;

use crate::cli::MvArgs;
use crate::commands::Ctx;
use crate::error::UserError;
use crate::names;
use crate::registry::Instance;
use crate::sandbox;
use crate::ui;

pub fn run(ctx: &Ctx, args: MvArgs) -> Result<i32> {
    let (repo, mut cfg) = ctx.repo_config()?;
    crate::trust::settle(&mut cfg, &repo, &ctx.reg, crate::trust::Consent::default());
    let data = ctx.reg.load()?;
    let inst = ctx.sandbox(&repo, &data, Some(&args.name))?;
    let to_name = names::slugify(&args.new)?;
    if to_name == "local-prod" {
        return Err(
            UserError::usage("the name local-prod is reserved for the slot-0 singleton")
                .hint("pick another name")
                .into(),
        );
    }
    if to_name == inst.name {
        return Err(
            UserError::usage(format!("the sandbox is already named {to_name}"))
                .hint("`git sandbox list` shows the names")
                .into(),
        );
    }
    if ctx.cwd.starts_with(&inst.path) {
        return Err(UserError::new(format!(
            "you are inside {}; moving it would leave your shell in a directory that is gone",
            inst.path.display()
        ))
        .hint(format!(
            "run it from elsewhere (`cd {}`), then `cd \"$(git sandbox path NEW)\"`",
            repo.root.display()
        ))
        .into());
    }
    let others: Vec<Instance> = data.of_repo(&repo.root).cloned().collect();
    let plan = sandbox::plan_move(&repo, &cfg, &others, &inst, &to_name)?;
    let moved = sandbox::move_sandbox(&repo, &cfg, &ctx.reg, &plan)?;
    // git's untracked cache names the directory it was made in: made again for the new one
    // (else every `git status` there warns that it is disabled).
    crate::git::enable_untracked_cache(&moved.path, None);
    rerender(&cfg, &moved);
    let head = match crate::git::detached_at(&moved.path) {
        Some(at) => format!("HEAD detached at {}", &at[..at.len().min(7)]),
        None => format!("branch {}", moved.branch.as_deref().unwrap_or("-")),
    };
    ui::info(&format!(
        "{} {} to {} ({head} and id {} unchanged)",
        ui::paint_err(ui::Style::Green, "renamed"),
        plan.from_name,
        moved.name,
        moved.id
    ));
    ui::out(&moved.path.display().to_string());
    Ok(0)
}

/// The rendered compose file holds the old directory's absolute paths: rendered again, or
/// removed so the next compose command renders it (`down` then uses the project's files).
fn rerender(cfg: &crate::config::Config, moved: &Instance) {
    use crate::compose::{self, render};
    if render::existing(&moved.path).is_none() {
        return;
    }
    let again = compose::Tool::detect().and_then(|t| render::render(&t, cfg, moved, &moved.path));
    if let Err(e) = again {
        let _ = std::fs::remove_file(moved.path.join(render::REL));
        ui::warn(&format!(
            "its compose file was not rendered again ({e:#}); the next `up` renders it"
        ));
    }
}
