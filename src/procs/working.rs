//! Every process and container working in a directory: the processes of our own mount
//! namespace whose cwd, root or open files are in it (or in a bind mount of it elsewhere in
//! our namespace), and each other mount namespace the kernel's tables show reaching it
//! ([`super::mounts`]), named by its engine where one answers ([`super::engine`]). The
//! engines are asked only when there is something to name or something the kernel would not
//! show; a root engine's containers a user cannot read are matched by their bind sources.

use std::fs;
use std::path::Path;

use super::{Container, Proc, comm, engine, mounts};

/// How far the look for containers could see.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// Processes whose mount namespace could not be read.
    pub unreadable: Vec<u32>,
    /// The container engines that answered (their containers are seen through them too).
    pub engines: Vec<String>,
}

impl Check {
    /// What the plan says when a container could have been missed.
    pub fn partial(&self) -> Option<String> {
        if self.unreadable.is_empty() || !self.engines.is_empty() {
            return None;
        }
        let n = self.unreadable.len();
        let some: Vec<String> = self
            .unreadable
            .iter()
            .take(3)
            .map(|p| format!("pid {p} {}", comm(*p)))
            .collect();
        Some(format!(
            "could not look into {n} process(es) ({}{}) and no container engine answered: a container among them writing in it would not be seen",
            some.join(", "),
            if n > 3 { ", …" } else { "" }
        ))
    }
}

/// The sandbox's own services: proven by its uuid label, or (an instance an older release
/// made, whose containers carry no uuid) by its compose project.
#[derive(Clone, Copy, Debug)]
pub struct Own<'a> {
    pub uuid: Option<&'a str>,
    pub project: &'a str,
}

impl Own<'_> {
    fn owns(&self, c: &engine::Running) -> bool {
        match self.uuid {
            Some(uuid) => c.instance.as_deref() == Some(uuid),
            None => c.project.as_deref() == Some(self.project),
        }
    }
}

/// Every process and container working in `dir`, which was at `was` before a rename (the
/// engines name bind sources by the old path), and how far the look could see. The
/// sandbox's `own` containers (its services, which `rm` stops itself) are left out.
pub fn working_in(dir: &Path, was: &Path, own: Option<Own>) -> (Vec<Proc>, Check) {
    let look = mounts::look(dir, &super::ancestors());
    let aliases = mounts::aliases(dir);
    let dirs: Vec<&Path> = std::iter::once(dir)
        .chain(aliases.iter().map(|a| a.as_path()))
        .collect();
    let mut out = super::inside(&dirs);
    let mut check = Check {
        unreadable: look.unreadable.clone(),
        engines: Vec::new(),
    };
    if look.found.is_empty() && look.unreadable.is_empty() {
        return (out, check);
    }
    let mut engines = engine::running();
    // Its own services are told apart only by an engine that names them.
    let (theirs, others): (Vec<_>, Vec<_>) = std::mem::take(&mut engines.running)
        .into_iter()
        .partition(|c| own.is_some_and(|o| o.owns(c)));
    engines.running = others;
    check.engines = engines.asked.iter().map(|e| e.to_string()).collect();
    let found_ns: Vec<mounts::Namespace> = look
        .found
        .into_iter()
        .filter(|ns| !theirs.iter().any(|c| ns.pids.contains(&c.pid)))
        .collect();
    let mut found = named(&found_ns, &engines.running);
    found.extend(unseen(dir, was, &engines.running, &found));
    out.retain(|p| !found.iter().any(|f| f.pids.contains(&p.pid)));
    out.extend(found);
    out.sort_by_key(|p| p.pid);
    (out, check)
}

/// The namespaces the mount tables found, each named by the container whose main process is
/// in it.
fn named(found: &[mounts::Namespace], running: &[engine::Running]) -> Vec<Proc> {
    found
        .iter()
        .map(|ns| {
            // The container whose main process is one of the namespace's.
            let c = running.iter().find(|c| ns.pids.contains(&c.pid));
            let pid = c.map_or(ns.pids.first().copied().unwrap_or(0), |c| c.pid);
            let mut pids = vec![pid];
            pids.extend(ns.pids.iter().filter(|p| **p != pid));
            Proc {
                pid,
                name: comm(pid),
                holds: ns.holds.clone(),
                container: c.map(container),
                ns: Some(ns.id.clone()),
                pids,
            }
        })
        .collect()
}

/// Containers the kernel could not be asked about (their namespace is unreadable) whose
/// engine says a bind source is inside `dir` (or `was`).
fn unseen(dir: &Path, was: &Path, running: &[engine::Running], found: &[Proc]) -> Vec<Proc> {
    let inside = |src: &Path| {
        let real = fs::canonicalize(src).unwrap_or_else(|_| src.to_path_buf());
        [src, real.as_path()]
            .iter()
            .any(|s| s.starts_with(dir) || s.starts_with(was))
    };
    running
        .iter()
        .filter(|c| c.pid == 0 || mounts::ns_of(c.pid).is_none())
        .filter(|c| {
            !found
                .iter()
                .any(|f| f.container.as_ref().is_some_and(|x| x.id == c.id))
        })
        .filter_map(|c| {
            let (src, dest) = c.binds.iter().find(|(s, _)| inside(s))?;
            Some(Proc {
                pid: c.pid,
                name: comm(c.pid),
                holds: format!("bind mount of {} at {dest}", src.display()),
                container: Some(container(c)),
                // Its namespace cannot be read: the container stands for it.
                ns: Some(format!("container {}", c.id)),
                pids: vec![c.pid],
            })
        })
        .collect()
}

fn container(c: &engine::Running) -> Container {
    Container {
        engine: c.engine.to_string(),
        id: c.id.clone(),
        name: c.name.clone(),
        image: c.image.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// What the check costs here: `GIT_SANDBOX_CHECK_DIR=<dir> cargo test --bins
    /// check_cost -- --ignored --nocapture` (the figures in the report of issue 18).
    #[test]
    #[ignore]
    fn check_cost() {
        let dir = std::env::var_os("GIT_SANDBOX_CHECK_DIR").map_or_else(
            || std::env::current_dir().expect("cwd"),
            std::path::PathBuf::from,
        );
        let mut times: Vec<Duration> = (0..20)
            .map(|_| {
                let start = Instant::now();
                let (found, _) = working_in(&dir, &dir, None);
                std::hint::black_box(found);
                start.elapsed()
            })
            .collect();
        times.sort();
        let (found, check) = working_in(&dir, &dir, None);
        println!(
            "working_in: min {:?}, median {:?}; found {}, unreadable {}, engines {:?}",
            times[0],
            times[10],
            found.len(),
            check.unreadable.len(),
            check.engines
        );
    }

    #[test]
    fn a_partial_check_is_said_only_when_no_engine_answered() {
        let mut c = Check {
            unreadable: vec![1],
            engines: Vec::new(),
        };
        assert!(c.partial().is_some_and(|n| n.contains("pid 1")));
        c.engines.push("docker".into());
        assert_eq!(c.partial(), None);
        assert_eq!(Check::default().partial(), None);
    }
}
