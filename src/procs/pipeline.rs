//! The processes of our own pipeline (`git sandbox rm | tail`, `yes | git sandbox rm`): the
//! user's own command line, not work going on in the directory, so never counted as a process
//! working in it.
//!
//! A pipeline mate is a process of our own process group (the shell puts one pipeline in one
//! group) joined to us through pipes: its stdin or stdout is a pipe end we hold on stdin or
//! stdout, or one a mate already found holds (`rm | grep x | tail`). A process of the group
//! that no pipe joins to us (a job a script started with `&`) is not a mate.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// The pids of our pipeline's other processes (never ours or an ancestor's: those are left out
/// anyway).
pub fn mates(skip: &[u32]) -> Vec<u32> {
    let Some(group) = group_of("self") else {
        return Vec::new();
    };
    let mut pipes: BTreeSet<String> = ends("self").into_iter().collect();
    if pipes.is_empty() {
        return Vec::new();
    }
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    // The group's other processes with their stdin/stdout pipes.
    let mut group_procs: Vec<(u32, Vec<String>)> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| !skip.contains(pid))
        .filter(|pid| group_of(&pid.to_string()) == Some(group))
        .map(|pid| (pid, ends(&pid.to_string())))
        .filter(|(_, e)| !e.is_empty())
        .collect();
    let mut out = Vec::new();
    // Joined through pipes, transitively: each round takes in those touching a known pipe.
    loop {
        let (joined, rest): (Vec<_>, Vec<_>) = group_procs
            .into_iter()
            .partition(|(_, e)| e.iter().any(|p| pipes.contains(p)));
        if joined.is_empty() {
            break;
        }
        for (pid, e) in joined {
            out.push(pid);
            pipes.extend(e);
        }
        group_procs = rest;
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

/// The pipes on stdin and stdout of `/proc/<pid>` (`pipe:[inode]`).
fn ends(pid: &str) -> Vec<String> {
    ["0", "1"]
        .iter()
        .filter_map(|fd| fs::read_link(Path::new("/proc").join(pid).join("fd").join(fd)).ok())
        .map(|t| t.to_string_lossy().into_owned())
        .filter(|t| t.starts_with("pipe:"))
        .collect()
}
