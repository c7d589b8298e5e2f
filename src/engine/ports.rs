//! Busy ports on an engine's host. A local engine's are this machine's (the bind probe of
//! [`crate::env::port_free`], unchanged). A remote engine's are the host ports its containers
//! publish (`docker ps`, asked once per run) and whatever answers a TCP connect to the engine's
//! host address (another program there). `refuse_busy`: `up`'s refusal of a stack whose ports
//! are taken there. `compose_up`: compose's `up`, whose "port is already allocated" on a remote
//! engine is explained (a listener on the engine host's loopback cannot be probed from here).

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::Engine;
use crate::config::Config;
use crate::error::UserError;
use crate::registry::Instance;

/// How long a connect to the engine's host may take before the port counts as free.
const PROBE: Duration = Duration::from_millis(400);

static PUBLISHED: Mutex<Option<HashMap<Engine, BTreeSet<u32>>>> = Mutex::new(None);

/// Before a stack that is not running starts: its ports must be free on the engine's host.
pub fn refuse_busy(cfg: &Config, inst: &Instance, engine: &Engine) -> anyhow::Result<()> {
    let running = crate::compose::owner::running()
        .map_err(|e| {
            UserError::new(format!("cannot start the services of {}: {e}", inst.name))
                .hint("start Docker (or point DOCKER_HOST at it) and try again")
        })?
        .has(inst);
    if !running {
        let busy = crate::env::busy_ports(cfg, inst.slot, engine);
        if !busy.is_empty() {
            let list: Vec<String> = busy
                .iter()
                .map(|p| format!("{} ({})", p.port, p.label()))
                .collect();
            let on = if engine.is_local() {
                String::new()
            } else {
                format!(" on {} (engine {})", engine.url_host(), engine.shown())
            };
            return Err(UserError::new(format!(
                "port(s) of {} are taken by another program{on}: {}",
                inst.name,
                list.join(", ")
            ))
            .hint("stop what listens there (e.g. `ss -ltnp`), or remove this sandbox and make a new one on a free slot")
            .into());
        }
    }
    Ok(())
}

/// Runs compose `up` (`cmd`) for `name`; a failure is an error. On a remote engine its stderr
/// is passed through line by line and watched: a host port compose found taken gets a hint.
pub fn compose_up(cmd: &mut Command, engine: &Engine, name: &str) -> anyhow::Result<()> {
    let run = if engine.is_local() {
        cmd.status().map(|s| (s, false))
    } else {
        run_watching(cmd)
    };
    let (status, port_taken) =
        run.map_err(|e| UserError::new(format!("cannot run docker compose: {e}")))?;
    if status.success() {
        return Ok(());
    }
    let mut err = UserError::new(format!("docker compose up failed for {name} ({status})"));
    if port_taken {
        err = err.hint(format!(
            "a port of {name} is taken on {}, the host of engine {}: the port plan probes that host's address from here, but a listener on its loopback (127.0.0.1) cannot be seen from here; free the port there, or remove this sandbox and make a new one on another slot",
            engine.url_host(),
            engine.shown()
        ));
    }
    Err(err.into())
}

/// `cmd` with its stderr copied to ours as it comes; whether it said a port was taken.
fn run_watching(cmd: &mut Command) -> std::io::Result<(ExitStatus, bool)> {
    let mut child = cmd.stderr(Stdio::piped()).spawn()?;
    let mut taken = false;
    if let Some(err) = child.stderr.take() {
        let mut out = std::io::stderr();
        for line in BufReader::new(err).split(b'\n') {
            let Ok(line) = line else { break };
            taken |= says_port_taken(&String::from_utf8_lossy(&line));
            let _ = out.write_all(&line);
            let _ = out.write_all(b"\n");
        }
    }
    Ok((child.wait()?, taken))
}

/// Whether a line of compose's is docker refusing a host port that is taken.
pub fn says_port_taken(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    l.contains("port is already allocated") || l.contains("address already in use")
}

/// Whether nothing holds `port` on the engine's host.
pub fn free_on(engine: &Engine, port: u32) -> bool {
    if engine.is_local() {
        return crate::env::port_free(port);
    }
    let published = published_cached(engine);
    !published.contains(&port) && !answers(engine, port)
}

/// The host ports the engine's running containers publish; empty when it does not answer.
pub fn published(engine: &Engine) -> Result<BTreeSet<u32>, String> {
    let out = engine
        .docker()
        .args(["ps", "--format", "{{.Ports}}"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "engine {} does not answer ({})",
            engine.shown(),
            crate::compose::removal::first_line(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .flat_map(parse_ports)
        .collect())
}

fn published_cached(engine: &Engine) -> BTreeSet<u32> {
    let Ok(mut cache) = PUBLISHED.lock() else {
        return published(engine).unwrap_or_default();
    };
    cache
        .get_or_insert_with(HashMap::new)
        .entry(engine.clone())
        .or_insert_with(|| published(engine).unwrap_or_default())
        .clone()
}

/// Whether something accepts a TCP connection on the engine's host at `port`.
fn answers(engine: &Engine, port: u32) -> bool {
    let (Some(host), Ok(port)) = (engine.host(), u16::try_from(port)) else {
        return false;
    };
    let Ok(addrs) = (host.as_str(), port).to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|a| TcpStream::connect_timeout(&a, PROBE).is_ok())
}

/// The host ports of one `{{.Ports}}` cell: `0.0.0.0:8080->80/tcp, :::8000-8001->80-81/tcp`
/// gives 8080, 8000, 8001; an exposed, unpublished `80/tcp` gives nothing.
pub fn parse_ports(cell: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in cell.split(',').map(str::trim) {
        let Some((host, _)) = entry.split_once("->") else {
            continue;
        };
        let ports = host.rsplit(':').next().unwrap_or_default();
        let (lo, hi) = ports.split_once('-').unwrap_or((ports, ports));
        if let (Ok(lo), Ok(hi)) = (lo.parse::<u32>(), hi.parse::<u32>())
            && lo <= hi
            && hi - lo < 65536
        {
            out.extend(lo..=hi);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ports_of_a_cell() {
        assert_eq!(
            parse_ports("0.0.0.0:8080->80/tcp, :::8080->80/tcp"),
            vec![8080]
        );
        assert_eq!(
            parse_ports("127.0.0.1:8000-8002->8000-8002/tcp, 9000/tcp"),
            vec![8000, 8001, 8002]
        );
        assert_eq!(parse_ports("[::]:5432->5432/tcp"), vec![5432]);
        assert!(parse_ports("80/tcp").is_empty());
        assert!(parse_ports("").is_empty());
    }

    #[test]
    fn compose_saying_a_port_is_taken() {
        assert!(says_port_taken(
            "ERROR: for web  Cannot start service web: driver failed programming external connectivity on endpoint x: Bind for 0.0.0.0:8080 failed: port is already allocated"
        ));
        assert!(says_port_taken(
            "Error starting userland proxy: listen tcp4 0.0.0.0:21601: bind: address already in use"
        ));
        assert!(!says_port_taken("Creating network x_default"));
    }
}
