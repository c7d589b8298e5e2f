//! `ports`: the port plan's slots (local-prod's, the first ones, and every one this repo's
//! sandboxes hold), who holds each, whether its ports are busy now (on the engine's host: the
//! owner's engine, else the shell's, where `new` plans), and how many slots the repo may take
//! (`max_slots`, else as many as the plan fits, else no limit without ports).

use anyhow::Result;

use crate::cli::PortsArgs;
use crate::commands::Ctx;
use crate::config::Config;
use crate::json::{PlanPort, PlanSlot};
use crate::registry;
use crate::ui;

pub fn run(ctx: &Ctx, args: PortsArgs) -> Result<i32> {
    let (repo, cfg) = ctx.repo_config()?;
    let data = ctx.reg.load()?;
    // A free slot's ports are checked where `new` plans them: the shell's engine's host.
    let shell = crate::engine::shell().unwrap_or_else(|_| crate::engine::Engine::local());
    let slots: Vec<PlanSlot> = shown_slots(&cfg, &repo.root, &data)
        .into_iter()
        .map(|slot| {
            // Slot numbers are per repo (other repos are kept off this plan's ports).
            let owner = data
                .instances
                .iter()
                .find(|i| i.slot == slot && i.parent_repo == repo.root);
            let engine = owner.map_or_else(|| shell.clone(), crate::engine::of);
            PlanSlot {
                slot,
                owner: owner.map(|i| i.id.clone()),
                ports: cfg
                    .ports_for(slot)
                    .into_iter()
                    .map(|port| PlanPort {
                        busy: !crate::engine::ports::free_on(&engine, port.port),
                        port,
                    })
                    .collect(),
            }
        })
        .collect();
    if args.json {
        crate::json::print(&crate::json::Ports {
            version: crate::json::Version,
            slots,
            slot_limit: cfg.slot_limit,
        })?;
        return Ok(0);
    }
    if cfg.ports.is_empty() {
        ui::info("no ports are configured; add a [ports] table to .sandbox.toml");
    }
    ui::info(&limit_line(&cfg));
    let rows: Vec<Vec<String>> = slots.iter().map(table_row).collect();
    for l in ui::table(&["SLOT", "OWNER", "PORTS (* = busy now)"], &rows) {
        ui::out(&l);
    }
    Ok(0)
}

/// One row of the table: the slot (slot 0 named local-prod's), its owner, its ports.
fn table_row(s: &PlanSlot) -> Vec<String> {
    let ports: Vec<(String, u32, bool)> = s
        .ports
        .iter()
        .map(|p| (p.port.label(), p.port.port, p.busy))
        .collect();
    vec![
        if s.slot == 0 {
            "0 (local-prod)".to_string()
        } else {
            s.slot.to_string()
        },
        s.owner.clone().unwrap_or_else(|| "-".into()),
        ui::ports_line(&ports),
    ]
}

/// The slots `ports` lists: local-prod's, every one up to `max_slots` when the file sets it,
/// else the first ten the plan fits; and always every slot a sandbox of this repo holds.
fn shown_slots(cfg: &Config, root: &std::path::Path, data: &registry::Data) -> Vec<u32> {
    let upto = match (cfg.max_slots, cfg.slot_limit) {
        (Some(m), _) => m,
        (None, Some(l)) => l.min(10),
        (None, None) => 0,
    };
    let mut slots: Vec<u32> = (0..=upto).collect();
    slots.extend(
        data.instances
            .iter()
            .filter(|i| i.parent_repo == root && i.slot > upto)
            .map(|i| i.slot),
    );
    slots.sort_unstable();
    slots.dedup();
    slots
}

/// How many slots the repo may take, and what sets that.
fn limit_line(cfg: &Config) -> String {
    match (cfg.max_slots, cfg.slot_limit, &cfg.limit_reason) {
        (Some(m), _, _) => format!("{m} slot(s), as max_slots says"),
        (None, Some(l), Some(why)) => format!("{l} slot(s): the plan fits no more ({why})"),
        (None, Some(l), None) => format!("{l} slot(s), the most a plan is given"),
        (None, None, _) => "no slot limit: a repo without ports takes no port from anyone".into(),
    }
}
