//! `seed [NAME] [--from main|local-prod] [--reset|--undo]`, the seed step of `up` (`new
//! --up`), and `volumes [NAME]`: the sandbox's side (its uuid, rendered model, project) and
//! the source's (main's or local-prod's project) turned into [`crate::seed`] jobs.

use std::process::Stdio;

use anyhow::Result;

use crate::cli::{SeedArgs, SeedFrom, VolumesArgs};
use crate::commands::Ctx;
use crate::compose::{self, owner};
use crate::config::{Config, Seed};
use crate::error::UserError;
use crate::git::Repo;
use crate::registry::{Instance, Kind};
use crate::seed::progress::Mode;
use crate::seed::volumes::{self, Origin, Target};
use crate::seed::{self as domain, Existing, Job, Outcome};
use crate::{json, target, ui};

pub fn seed(ctx: &Ctx, args: SeedArgs) -> Result<i32> {
    crate::interrupt::catch();
    let (repo, cfg) = ctx.repo_config()?;
    let inst = ctx.sandbox(&repo, &ctx.reg.load()?, args.name.as_deref())?;
    if cfg.seed == Seed::Keys(Vec::new()) {
        return Err(UserError::new(
            "nothing to seed: .sandbox.toml's [compose] seed names no volume",
        )
        .hint("add `seed = [\"<volume key>\"]` or `seed = \"all\"` under [compose]")
        .into());
    }
    let (job, targets) = prepare(ctx, &repo, &cfg, &inst, Mode::pick(args.json))?;
    let (origin_label, outcomes) = if args.undo {
        ("saved".to_string(), undo(&job, &targets)?)
    } else {
        let origin = origin(ctx, &repo, &cfg, args.from)?;
        let existing = if args.reset {
            Existing::Replace
        } else {
            Existing::Refuse
        };
        // Every source found before anything is written.
        let sources = (targets.iter())
            .map(|t| volumes::source(&origin, &t.key))
            .collect::<Result<Vec<_>>>()?;
        let mut all = Vec::new();
        for (t, from) in targets.iter().zip(&sources) {
            all.push(domain::one(&job, t, from, &origin.label, existing)?);
        }
        (origin.label, all)
    };
    if args.json {
        let out = json::seed::Seed {
            version: json::Version,
            sandbox: inst.name.clone(),
            from: origin_label,
            volumes: outcomes.into_iter().map(seeded).collect(),
        };
        ui::out(&serde_json::to_string_pretty(&out)?);
    }
    Ok(0)
}

/// `up`'s seed step (also `new --up`): the volumes `[compose] seed` names that do not exist
/// yet are copied from the main checkout's stack; nothing else is touched.
pub fn before_up(
    repo: &Repo,
    cfg: &Config,
    inst: &Instance,
    model: &std::path::Path,
) -> Result<()> {
    if inst.kind != Kind::Sandbox || cfg.seed == Seed::Keys(Vec::new()) || owner::legacy(inst) {
        return Ok(());
    }
    let reg = crate::registry::Registry::locate()?;
    let job = job(&reg, inst, Mode::pick(false))?;
    let targets = volumes::chosen(volumes::of_model(model, &job.project)?, &cfg.seed)?;
    let missing: Vec<&Target> = targets
        .iter()
        .filter(|t| {
            volumes::inspect(&t.name)
                .map(|o| o.is_none())
                .unwrap_or(false)
                || stale(&job, t)
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    crate::interrupt::catch();
    let origin = main_origin(repo, cfg);
    for t in missing {
        // Nothing to copy (main's stack never ran): the stack starts, this volume empty.
        let from = match volumes::source(&origin, &t.key) {
            Ok(f) => f,
            Err(e) => {
                ui::warn(&format!(
                    "{e:#}; {} starts empty (`git sandbox seed {} --reset` copies it later)",
                    t.key, inst.name
                ));
                continue;
            }
        };
        domain::one(&job, t, &from, &origin.label, Existing::Keep)?;
    }
    Ok(())
}

/// Whether `t` holds a copy a killed seed cut short.
fn stale(job: &Job, t: &Target) -> bool {
    domain::record::get(&job.dir, &t.name)
        .ok()
        .flatten()
        .is_some_and(|r| r.state == domain::record::State::Copying && r.uuid == job.uuid)
}

/// The job and the volumes to seed: the model rendered now, `[compose] seed`'s keys.
fn prepare(
    ctx: &Ctx,
    repo: &Repo,
    cfg: &Config,
    inst: &Instance,
    mode: Mode,
) -> Result<(Job, Vec<Target>)> {
    let path = target::verify(repo, inst)?;
    let job = job(&ctx.reg, inst, mode)?;
    let tool = compose::Tool::detect()?;
    let rendered = compose::render::render(&tool, cfg, inst, &path)?;
    let targets = volumes::chosen(volumes::of_model(&rendered.file, &job.project)?, &cfg.seed)?;
    Ok((job, targets))
}

fn job(reg: &crate::registry::Registry, inst: &Instance, mode: Mode) -> Result<Job> {
    let uuid = match (&inst.uuid, owner::legacy(inst)) {
        (Some(u), false) => u.clone(),
        _ => {
            return Err(UserError::new(format!(
                "{} was made by an older git-sandbox and carries no identity on the engine: a seed cannot prove which volumes are its",
                inst.name
            ))
            .hint("make a new sandbox for it (`git sandbox new`), which has one")
            .into());
        }
    };
    Ok(Job {
        name: inst.name.clone(),
        uuid,
        project: owner::project(inst),
        dir: reg.dir().to_path_buf(),
        mode,
        compose_version: compose_version(),
    })
}

/// Where `--from` reads.
fn origin(ctx: &Ctx, repo: &Repo, cfg: &Config, from: SeedFrom) -> Result<Origin> {
    if from == SeedFrom::Main {
        return Ok(main_origin(repo, cfg));
    }
    let data = ctx.reg.load()?;
    let lp = data
        .of_repo(&repo.root)
        .find(|i| i.kind == Kind::LocalProd)
        .cloned()
        .ok_or_else(|| {
            UserError::new(format!("{} has no local-prod to seed from", repo.root.display()))
                .hint("seed from the main checkout (`--from main`), or make one with `git sandbox local-prod new`")
        })?;
    Ok(Origin {
        label: "local-prod".into(),
        project: owner::project(&lp),
        uuid: lp.uuid.clone().filter(|_| !owner::legacy(&lp)),
    })
}

/// The main checkout's stack: compose's project for the directory of its compose file.
fn main_origin(repo: &Repo, cfg: &Config) -> Origin {
    let dir = compose::find_file(&repo.root, cfg)
        .ok()
        .and_then(|f| f.parent().map(std::path::Path::to_path_buf))
        .unwrap_or_else(|| repo.root.clone());
    Origin {
        label: "main".into(),
        project: volumes::main_project(&dir),
        uuid: None,
    }
}

/// `--undo`: each volume's newest saved copy copied back (the current data saved in turn).
fn undo(job: &Job, targets: &[Target]) -> Result<Vec<Outcome>> {
    let mut out = Vec::new();
    for t in targets {
        let saved = domain::saved_copies(&job.uuid, &t.name)?;
        let Some(newest) = saved.last() else {
            return Err(
                UserError::new(format!("volume {} has no saved copy to put back", t.name))
                    .hint("`git sandbox seed --reset` saves one before it replaces the data")
                    .into(),
            );
        };
        out.push(domain::one(job, t, newest, "saved", Existing::Replace)?);
        let _ = domain::docker(&["volume", "rm", newest]);
    }
    Ok(out)
}

fn seeded(o: Outcome) -> json::seed::Seeded {
    json::seed::Seeded {
        key: o.key,
        volume: o.volume,
        source: o.from,
        result: o.result,
        bytes: o.bytes,
        seconds: o.seconds,
        paused: o.paused,
        paused_ms: o.paused_ms,
        saved: o.saved,
    }
}

/// compose's version for the label it reads back (`com.docker.compose.version`).
fn compose_version() -> String {
    let asks: [&[&str]; 2] = [
        &["docker-compose", "version", "--short"],
        &["docker", "compose", "version", "--short"],
    ];
    asks.iter()
        .find_map(|a| {
            let o = std::process::Command::new(a[0])
                .args(&a[1..])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()?;
            let v = String::from_utf8_lossy(&o.stdout)
                .trim()
                .trim_start_matches('v')
                .to_string();
            (o.status.success() && !v.is_empty()).then_some(v)
        })
        .unwrap_or_else(|| "unknown".into())
}

pub fn volumes(ctx: &Ctx, args: VolumesArgs) -> Result<i32> {
    let (repo, _) = ctx.repo_config()?;
    let inst = ctx.sandbox(&repo, &ctx.reg.load()?, args.name.as_deref())?;
    let job = job(&ctx.reg, &inst, Mode::Lines)?;
    let list = domain::listing::of(&job)?;
    if args.json {
        let out = json::seed::Volumes {
            version: json::Version,
            sandbox: inst.name.clone(),
            volumes: list,
        };
        ui::out(&serde_json::to_string_pretty(&out)?);
        return Ok(0);
    }
    if list.is_empty() {
        ui::info(&format!("{} has no volumes on the engine", inst.name));
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|v| {
            let from = match (&v.seeded_from, &v.saved_from) {
                (Some(f), _) => f.clone(),
                (None, Some(s)) => format!("(saved from {s})"),
                _ => "-".into(),
            };
            vec![
                v.name.clone(),
                v.size.clone().unwrap_or_else(|| "?".into()),
                v.state.clone(),
                from,
                v.seeded_at
                    .map(domain::listing::when)
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    for line in ui::table(&["VOLUME", "SIZE", "STATE", "FROM", "WHEN"], &rows) {
        ui::out(&line);
    }
    Ok(0)
}
