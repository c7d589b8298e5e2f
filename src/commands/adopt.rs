//! `adopt PATH [--name N]`: register a worktree made by hand (or by Codex) as a sandbox; adopting
//! one that already is a sandbox says so and succeeds.

use anyhow::Result;

use std::path::Path;

use super::new::{consent, print_created, report_made, set_up};
use crate::commands::Ctx;
use crate::config::Config;
use crate::error::UserError;
use crate::git::{self, Repo};
use crate::names;
use crate::sandbox;
use crate::ui;

/// `adopt PATH [--name N]`: register a worktree made by hand. Without `--name` the name comes
/// from the directory's (the `REPO--` of a sandbox's path dropped) and, when a sandbox of
/// this repo has it, gets the first free `-2`, `-3`…: agents' worktrees often share a
/// basename (every Codex worktree is `…/<id>/<repo>`), and each must become a sandbox, also
/// when their setups run at once (a lost race chooses again).
pub fn run(ctx: &Ctx, args: crate::cli::AdoptArgs) -> Result<i32> {
    let (repo, mut cfg) = ctx.repo_config()?;
    crate::trust::settle(&mut cfg, &repo, &ctx.reg, consent(args.setup));
    let path = ctx.cwd.join(&args.path);
    if let Some(inst) = adopted_at(ctx, &repo, &path)? {
        return already_adopted(&cfg, inst, &args);
    }
    let created = match &args.name {
        Some(n) => {
            let name = names::slugify(n)?;
            if name == "local-prod" {
                return Err(UserError::usage("the name local-prod is reserved")
                    .hint("pass another --name")
                    .into());
            }
            sandbox::adopt(&repo, &cfg, &ctx.reg, &path, &name)?
        }
        None => adopt_derived(ctx, &repo, &cfg, &path)?,
    };
    report_made(&created, "adopted");
    print_created(&cfg, &created, args.json)?;
    Ok(
        if set_up(&repo, &cfg, &ctx.reg, &created.instance, args.setup) {
            0
        } else {
            1
        },
    )
}

/// The ready sandbox of this repo already registered at `path` (adopting it again is a no-op).
fn adopted_at(ctx: &Ctx, repo: &Repo, path: &Path) -> Result<Option<crate::registry::Instance>> {
    let Ok(real) = git::canonical(path) else {
        return Ok(None);
    };
    let data = ctx.reg.load()?;
    let found = data.of_repo(&repo.root).find(|i| {
        i.path == real
            && i.kind == crate::registry::Kind::Sandbox
            && i.state == crate::registry::State::Ready
    });
    Ok(found.cloned())
}

/// `adopt` of a worktree that is already the sandbox `inst`: success, its path (or JSON) as a
/// fresh adoption prints it; another `--name` is refused (`mv` renames).
fn already_adopted(
    cfg: &Config,
    inst: crate::registry::Instance,
    args: &crate::cli::AdoptArgs,
) -> Result<i32> {
    if let Some(n) = &args.name
        && names::slugify(n)? != inst.name
    {
        return Err(UserError::new(format!(
            "{} is already the sandbox {}",
            inst.path.display(),
            inst.name
        ))
        .hint(format!("rename it with git sandbox mv {} {n}", inst.name))
        .into());
    }
    ui::info(&format!(
        "{} is already the sandbox {}; nothing to do",
        inst.path.display(),
        inst.name
    ));
    let created = sandbox::Created {
        instance: inst,
        skipped: Default::default(),
        warnings: Vec::new(),
    };
    print_created(cfg, &created, args.json)?;
    Ok(0)
}

/// `adopt` without `--name`: the directory's name, suffixed until no sandbox of this repo has
/// it.
fn adopt_derived(ctx: &Ctx, repo: &Repo, cfg: &Config, path: &Path) -> Result<sandbox::Created> {
    let base = derived_name(repo, path)?;
    let held = |name: &str| -> Result<bool> {
        let data = ctx.reg.load()?;
        Ok(name == "local-prod" || data.of_repo(&repo.root).any(|i| i.name == name))
    };
    let mut n = 1u32;
    loop {
        let name = match n {
            1 => base.clone(),
            n => format!("{base}-{n}"),
        };
        n += 1;
        if n > 1000 {
            return Err(UserError::new(format!(
                "every name from {base} to {base}-999 is taken by sandboxes of this repo"
            ))
            .hint("pass --name")
            .into());
        }
        if held(&name)? {
            continue;
        }
        match sandbox::adopt(repo, cfg, &ctx.reg, path, &name) {
            // Another adopt took the name between the look and the lock: the next one.
            Err(_) if held(&name)? && !registered_at(ctx, path)? => continue,
            done => return done,
        }
    }
}

/// The name a worktree's directory suggests (`shop--login` → `login`, `shop` → `shop`).
fn derived_name(repo: &Repo, path: &Path) -> Result<String> {
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let plain = format!("{}--", names::id_part(&repo.name));
    let base = base
        .strip_prefix(&format!("{}--", repo.name))
        .or_else(|| base.strip_prefix(&plain))
        .unwrap_or(&base)
        .to_string();
    names::slugify(&base)
}

/// Whether the worktree at `path` is registered (by anyone).
fn registered_at(ctx: &Ctx, path: &Path) -> Result<bool> {
    let real = git::canonical(path).unwrap_or_else(|_| path.to_path_buf());
    Ok(ctx.reg.load()?.instances.iter().any(|i| i.path == real))
}
