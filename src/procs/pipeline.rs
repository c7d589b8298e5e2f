//! The processes of our own pipeline (`git sandbox rm | tail`, `yes | git sandbox rm`): the
//! user's own command line, not work going on in the directory, so never counted as a process
//! working in it.
//!
//! A pipeline mate is a process of our own process group (the shell puts one pipeline in one
//! group) that is another stage of our pipeline: downstream, it reads the pipe we write
//! (`rm | tail`), or the pipe such a stage writes (`rm | grep x | tail`); upstream, it writes
//! the pipe we read (`yes | rm`), or the pipe such a stage reads. A process that merely shares
//! our end of a pipe (a job started with `&` inside `{ job & rm; } | head`) is not a stage: it
//! counts as any process does.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// The pids of our pipeline's other stages (never ours or an ancestor's: those are left out
/// anyway).
pub fn mates(skip: &[u32]) -> Vec<u32> {
    let Some(group) = group_of("self") else {
        return Vec::new();
    };
    let (stdin, stdout) = ends("self");
    let mut downstream: BTreeSet<String> = stdout.into_iter().collect();
    let mut upstream: BTreeSet<String> = stdin.into_iter().collect();
    if downstream.is_empty() && upstream.is_empty() {
        return Vec::new();
    }
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    // The group's other processes with their stdin/stdout pipes.
    let mut rest: Vec<(u32, Ends)> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| !skip.contains(pid))
        .filter(|pid| group_of(&pid.to_string()) == Some(group))
        .map(|pid| (pid, ends(&pid.to_string())))
        .filter(|(_, (i, o))| i.is_some() || o.is_some())
        .collect();
    let mut out = Vec::new();
    // Stage by stage, each direction on its own: a reader of a downstream pipe passes its own
    // stdout on; a writer of an upstream pipe passes its own stdin on.
    loop {
        let before = out.len();
        rest.retain(|(pid, (i, o))| {
            let down = i.as_ref().is_some_and(|p| downstream.contains(p));
            let up = o.as_ref().is_some_and(|p| upstream.contains(p));
            if down {
                downstream.extend(o.clone());
            }
            if up {
                upstream.extend(i.clone());
            }
            if down || up {
                out.push(*pid);
            }
            !(down || up)
        });
        if out.len() == before {
            break;
        }
    }
    out.sort_unstable();
    out
}

/// The process group of `/proc/<pid>` (`self` for ours).
fn group_of(pid: &str) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp …`: split after the last ')', comm may hold anything.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// A process's stdin and stdout pipes (`pipe:[inode]`), each if it is one.
type Ends = (Option<String>, Option<String>);

/// The pipes on stdin and stdout of `/proc/<pid>`.
fn ends(pid: &str) -> Ends {
    let pipe = |fd: &str| {
        fs::read_link(Path::new("/proc").join(pid).join("fd").join(fd))
            .ok()
            .map(|t| t.to_string_lossy().into_owned())
            .filter(|t| t.starts_with("pipe:"))
    };
    (pipe("0"), pipe("1"))
}
