//! The port plan: each slot's concrete ports, and the proof that no two collide.

use std::collections::HashMap;

use super::Config;

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

    /// Every port of every slot lies in 1024..=65535 and belongs to one owner only.
    pub(super) fn validate_plan(&self) -> Result<(), String> {
        let mut owners: HashMap<u32, (u32, String)> = HashMap::new();
        // The compose file's own ports, which the main checkout's stack publishes: no
        // sandbox's may be one of them.
        let origins: HashMap<u32, &str> = self
            .ports
            .iter()
            .filter(|s| s.published.is_some())
            .flat_map(|s| (s.origin()..s.origin() + s.count()).map(|p| (p, s.name.as_str())))
            .collect();
        for slot in 0..=self.max_slots {
            for p in self.ports_for(slot) {
                let who = if slot == 0 {
                    format!("local-prod's {}", p.label())
                } else {
                    format!("slot {slot}'s {}", p.label())
                };
                if !(1024..=65535).contains(&p.port) {
                    let fix = if p.port < 1024 {
                        "raise the base to 1024 or more (ports below 1024 need root)"
                    } else {
                        "lower the base or max_slots"
                    };
                    return Err(format!(
                        "{who} would be port {}, outside 1024..=65535; {fix}",
                        p.port
                    ));
                }
                if slot > 0
                    && let Some(owner) = origins.get(&p.port)
                {
                    return Err(format!(
                        "{who} would be port {}, which the compose file publishes for {owner} (the main checkout's stack takes it); move {}'s base, or lower max_slots",
                        p.port, p.service
                    ));
                }
                if let Some((_, other)) = owners.get(&p.port) {
                    return Err(format!(
                        "port {} is planned twice: {other} and {who}; move one base, or widen the stride",
                        p.port
                    ));
                }
                owners.insert(p.port, (slot, who));
            }
        }
        Ok(())
    }
}
