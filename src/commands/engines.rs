//! `engines`: every Docker engine the registry's stacks run on (recorded at `up`; an entry
//! without one counts on the shell's engine), and the shell's own: each with its sandboxes,
//! whether their services run, and the host ports its containers publish. Works outside a
//! repo (the registry spans every repo).

use std::collections::BTreeMap;

use anyhow::Result;

use crate::cli::EnginesArgs;
use crate::commands::Ctx;
use crate::compose::owner::Running;
use crate::engine::{self, Engine};
use crate::json::engines::{EngineRow, EngineSandbox, Engines};
use crate::registry::Instance;
use crate::ui;

pub fn run(ctx: &Ctx, args: EnginesArgs) -> Result<i32> {
    let data = ctx.reg.load()?;
    let shell = engine::shell().ok();
    let mut by_engine: BTreeMap<String, (Engine, Vec<&Instance>)> = BTreeMap::new();
    if let Some(e) = &shell {
        by_engine.insert(e.key(), (e.clone(), Vec::new()));
    }
    for i in &data.instances {
        let e = engine::of(i);
        by_engine
            .entry(e.key())
            .or_insert_with(|| (e, Vec::new()))
            .1
            .push(i);
    }
    let rows: Vec<EngineRow> = std::thread::scope(|s| {
        let handles: Vec<_> = by_engine
            .values()
            .map(|(e, insts)| s.spawn(|| row(e, insts, shell.as_ref() == Some(e))))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    if args.json {
        crate::json::print(&Engines {
            version: crate::json::Version,
            engines: rows,
        })?;
        return Ok(0);
    }
    for r in &rows {
        show(r);
    }
    Ok(0)
}

/// One engine, asked for its running stacks and published ports (together, in parallel).
fn row(e: &Engine, insts: &[&Instance], shell: bool) -> EngineRow {
    let (running, published) = std::thread::scope(|s| {
        let running = s.spawn(|| crate::compose::owner::running_on(e));
        let published = engine::ports::published(e);
        (
            running
                .join()
                .unwrap_or_else(|_| Err("docker ps failed".into())),
            published,
        )
    });
    let error = running.as_ref().err().or(published.as_ref().err()).cloned();
    let up = |i: &Instance| running.as_ref().ok().map(|r: &Running| r.has(i));
    EngineRow {
        name: e.name.clone(),
        endpoint: e.endpoint.clone(),
        host: e.url_host(),
        local: e.is_local(),
        shell,
        error,
        busy_ports: published.unwrap_or_default().into_iter().collect(),
        sandboxes: insts
            .iter()
            .map(|i| EngineSandbox {
                name: i.name.clone(),
                id: i.id.clone(),
                parent_repo: i.parent_repo.display().to_string(),
                services_up: up(i),
                recorded: i.engine.is_some(),
            })
            .collect(),
    }
}

fn show(r: &EngineRow) {
    let mut head = if r.name == r.endpoint || r.local && r.name == engine::LOCAL {
        r.name.clone()
    } else {
        format!("{} ({})", r.name, r.endpoint)
    };
    if !r.local {
        head.push_str(&format!(", ports on {}", r.host));
    }
    if r.shell {
        head.push_str(", this shell's");
    }
    ui::out(&head);
    if let Some(e) = &r.error {
        ui::out(&format!("  does not answer: {e}"));
    }
    let names: Vec<String> = r
        .sandboxes
        .iter()
        .map(|s| match s.services_up {
            Some(true) => format!("{} (up)", s.name),
            Some(false) => format!("{} (down)", s.name),
            None => format!("{} (?)", s.name),
        })
        .collect();
    ui::out(&format!(
        "  sandboxes: {}",
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    ));
    let ports: Vec<String> = r.busy_ports.iter().map(u32::to_string).collect();
    ui::out(&format!(
        "  busy ports: {}",
        if ports.is_empty() {
            "none".into()
        } else {
            ports.join(", ")
        }
    ));
}
