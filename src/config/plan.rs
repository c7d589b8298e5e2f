//! The port plan: each slot's concrete ports, and the proof that no two collide.

use std::collections::HashMap;

use super::Config;

/// The most slots a plan is given when `max_slots` does not say (and the most it may say).
pub const MAX_SLOTS: u32 = 1000;

/// One named port or group of ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    pub name: String,
    pub base: u32,
    /// `None` for a single port.
    pub group: Option<Group>,
    /// The host port the compose file publishes for it, when not `base` (`init` moves
    /// privileged and crowded ports): the rendered compose file maps it to the slot's port.
    pub published: Option<u32>,
}

impl PortSpec {
    /// The compose file's host port this entry stands for (its first, for a group).
    pub fn origin(&self) -> u32 {
        self.published.unwrap_or(self.base)
    }

    /// How many ports it has.
    pub fn count(&self) -> u32 {
        self.group.map_or(1, |g| g.count)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    pub count: u32,
    pub stride: u32,
}

/// One concrete port of one slot.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Port {
    /// The service name from the config.
    pub service: String,
    /// Index within a group.
    pub index: Option<u32>,
    pub port: u32,
}

impl Port {
    /// `backend` or `workers[2]`.
    pub fn label(&self) -> String {
        match self.index {
            Some(i) => format!("{}[{i}]", self.service),
            None => self.service.clone(),
        }
    }
}

impl Config {
    /// The ports of one slot (slot 0 is local-prod's).
    pub fn ports_for(&self, slot: u32) -> Vec<Port> {
        let specs = if slot == 0 {
            &self.local_prod_ports
        } else {
            &self.ports
        };
        let mut out = Vec::new();
        for spec in specs {
            match spec.group {
                None => out.push(Port {
                    service: spec.name.clone(),
                    index: None,
                    port: spec.base + slot,
                }),
                Some(g) => {
                    for i in 0..g.count {
                        out.push(Port {
                            service: spec.name.clone(),
                            index: Some(i),
                            port: spec.base + slot * g.stride + i,
                        });
                    }
                }
            }
        }
        out
    }

    /// Proves the plan and sets [`Config::slot_limit`]. An explicit `max_slots` must hold
    /// for every slot `0..=max_slots`. Without it, a repo with no ports has no limit, and one
    /// with ports gets as many slots as fit (up to [`MAX_SLOTS`]): the last slot before the
    /// first collision or port out of range, whose reason is kept for `ports` to say.
    pub(super) fn prove_plan(&mut self) -> Result<(), String> {
        match self.max_slots {
            Some(m) => {
                let (_, stop) = self.fit(m);
                if let Some(e) = stop {
                    return Err(e);
                }
                self.slot_limit = Some(m);
            }
            None if self.ports.is_empty() && self.local_prod_ports.is_empty() => {
                self.slot_limit = None;
            }
            None => {
                let (last, stop) = self.fit(MAX_SLOTS);
                match stop {
                    Some(e) if last == 0 => return Err(e),
                    _ => {}
                }
                self.slot_limit = Some(last);
                self.limit_reason = stop;
            }
        }
        Ok(())
    }

    /// Walks slots `0..=up_to` and stops at the first whose ports leave 1024..=65535, take a
    /// port the compose file publishes, or take one an earlier slot holds: the last slot that
    /// fit (`0` when slot 1 does not) and why the walk stopped, if it did.
    fn fit(&self, up_to: u32) -> (u32, Option<String>) {
        let mut owners: HashMap<u32, String> = HashMap::new();
        // The compose file's own ports, which the main checkout's stack publishes: no
        // sandbox's may be one of them.
        let origins: HashMap<u32, &str> = self
            .ports
            .iter()
            .filter(|s| s.published.is_some())
            .flat_map(|s| (s.origin()..s.origin() + s.count()).map(|p| (p, s.name.as_str())))
            .collect();
        for slot in 0..=up_to {
            for p in self.ports_for(slot) {
                let who = if slot == 0 {
                    format!("local-prod's {}", p.label())
                } else {
                    format!("slot {slot}'s {}", p.label())
                };
                if let Some(e) = clash(&p, &who, slot, &origins, &owners) {
                    return (slot.saturating_sub(1), Some(e));
                }
                owners.insert(p.port, who);
            }
        }
        (up_to, None)
    }
}

/// Why one port of one slot cannot be planned, if it cannot.
fn clash(
    p: &Port,
    who: &str,
    slot: u32,
    origins: &HashMap<u32, &str>,
    owners: &HashMap<u32, String>,
) -> Option<String> {
    if !(1024..=65535).contains(&p.port) {
        let fix = if p.port < 1024 {
            "raise the base to 1024 or more (ports below 1024 need root)"
        } else {
            "lower the base or max_slots"
        };
        return Some(format!(
            "{who} would be port {}, outside 1024..=65535; {fix}",
            p.port
        ));
    }
    if slot > 0
        && let Some(owner) = origins.get(&p.port)
    {
        return Some(format!(
            "{who} would be port {}, which the compose file publishes for {owner} (the main checkout's stack takes it); move {}'s base, or lower max_slots",
            p.port, p.service
        ));
    }
    owners.get(&p.port).map(|other| {
        format!(
            "port {} is planned twice: {other} and {who}; move one base, or widen the stride",
            p.port
        )
    })
}
