//! The in-process walks against git itself, on a random history with merges, octopus merges,
//! skewed clocks and commits newer than the commit-graph file.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use git2::Oid;

use super::{Graph, count_excluding, counts_excluding, merge_base};
use crate::git::test_git;

/// A small deterministic generator (no dependency for one test).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// `count` commits on top of `marks` (their marks), each with 1 to 3 parents picked among the
/// recent ones; committer dates jump backwards now and then (a skewed clock).
fn history(rng: &mut Lcg, marks: &mut Vec<usize>, count: usize) -> String {
    let mut s = String::new();
    for _ in 0..count {
        let mark = marks.len() + 1;
        let when = 1_700_000_000 + mark * 60 - rng.below(4) * 3_600;
        s.push_str(&format!(
            "commit refs/heads/b{}\nmark :{mark}\ncommitter T <t@e> {when} +0000\ndata 2\nc\n",
            rng.below(6)
        ));
        if !marks.is_empty() {
            let pick = |rng: &mut Lcg| marks[marks.len() - 1 - rng.below(marks.len().min(40))];
            s.push_str(&format!("from :{}\n", pick(rng)));
            for _ in 0..[0, 0, 0, 1, 2][rng.below(5)] {
                s.push_str(&format!("merge :{}\n", pick(rng)));
            }
        }
        s.push_str(&format!(
            "M 644 inline f{}\ndata 2\n{}\n\n",
            mark % 7,
            mark % 10
        ));
        marks.push(mark);
    }
    s
}

fn import(dir: &Path, stream: &str) {
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet", "--force"])
        .args([
            "--import-marks-if-exists=.git/marks",
            "--export-marks=.git/marks",
        ])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("fast-import");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("stream");
    assert!(child.wait().expect("wait").success());
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("git");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn all_commits(dir: &Path) -> Vec<String> {
    git_out(dir, &["rev-list", "--all"])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_walks_agree_with_git_on_random_histories() {
    for seed in [7, 11, 29, 43, 61] {
        walks_agree(seed);
    }
}

fn walks_agree(seed: u64) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    test_git(dir, &["init", "-q"]);
    let (mut rng, mut marks) = (Lcg(seed), Vec::new());
    import(dir, &history(&mut rng, &mut marks, 250));
    test_git(dir, &["commit-graph", "write", "--reachable"]);
    // Newer than the file: read through libgit2.
    import(dir, &history(&mut rng, &mut marks, 60));
    let repo = git2::Repository::open(dir).expect("open");
    let graph = Graph::open(&repo, &dir.join(".git")).expect("the graph is trusted");
    let commits = all_commits(dir);
    assert!(commits.len() > 150, "{} commits", commits.len());
    let (mut counted, mut bases, mut ambiguous) = (0, 0, 0);
    for round in 0..60 {
        let pick = |rng: &mut Lcg| commits[rng.below(commits.len())].clone();
        let (tip, a, b) = (pick(&mut rng), pick(&mut rng), pick(&mut rng));
        // The definition, not `rev-list --count tip --not a b`: git's limited walk stops by
        // commit dates and over-counts under a skewed clock (seen here: 3 where the truth is 0).
        let reach = |c: &str| -> std::collections::HashSet<String> {
            git_out(dir, &["rev-list", c])
                .lines()
                .map(str::to_string)
                .collect()
        };
        let (from_a, from_b) = (reach(&a), reach(&b));
        let want = reach(&tip)
            .iter()
            .filter(|c| !from_a.contains(*c) && !from_b.contains(*c))
            .count() as u32;
        let oid = |h: &str| Oid::from_str(h).expect("oid");
        let got = count_excluding(&graph, &repo, oid(&tip), &[oid(&a), oid(&b)]);
        assert_eq!(got, Some(want), "round {round}: {tip} --not {a} {b}");
        // On one walk: without `b`, then with it (a `b` outside `a`'s history is what a local
        // branch ahead of its remote is to `rm`'s two counts).
        let only_a = reach(&tip).iter().filter(|c| !from_a.contains(*c)).count() as u32;
        let nested = counts_excluding(&graph, &repo, oid(&tip), &[&[oid(&a)], &[oid(&a), oid(&b)]]);
        assert_eq!(
            nested,
            Some(vec![only_a, want]),
            "round {round}: nested {tip} {a} {b}"
        );
        counted += 1;
        let all = git_out(dir, &["merge-base", "--all", &tip, &a]);
        let all: Vec<&str> = all.lines().collect();
        match (merge_base(&graph, &repo, oid(&tip), oid(&a)), &all[..]) {
            (Some(Some(got)), [one]) => {
                assert_eq!(got.to_string(), *one, "round {round}: {tip} {a}");
                bases += 1;
            }
            (Some(None), []) => bases += 1,
            (None, [_, _, ..]) => ambiguous += 1,
            (got, _) => panic!("round {round}: merge-base {tip} {a}: ours {got:?}, git {all:?}"),
        }
    }
    assert_eq!(counted, 60);
    assert!(
        bases > 30,
        "seed {seed}: {bases} single merge bases, {ambiguous} ambiguous"
    );
}

/// A repository of `count` random commits (from `seed`), its commit-graph written.
fn graphed(seed: u64, count: usize) -> (tempfile::TempDir, git2::Repository) {
    let tmp = tempfile::tempdir().expect("tmp");
    test_git(tmp.path(), &["init", "-q"]);
    let (mut rng, mut marks) = (Lcg(seed), Vec::new());
    import(tmp.path(), &history(&mut rng, &mut marks, count));
    test_git(tmp.path(), &["commit-graph", "write", "--reachable"]);
    let repo = git2::Repository::open(tmp.path()).expect("open");
    (tmp, repo)
}

#[test]
fn a_history_git_reads_differently_is_left_to_git() {
    let (tmp, repo) = graphed(3, 20);
    let dir = tmp.path();
    assert!(Graph::open(&repo, &dir.join(".git")).is_some());
    // A replaced commit: git walks the replacement's parents.
    let commits = all_commits(dir);
    test_git(dir, &["replace", &commits[0], &commits[5]]);
    assert!(
        Graph::open(&repo, &dir.join(".git")).is_none(),
        "replace refs"
    );
    test_git(dir, &["replace", "-d", &commits[0]]);
    assert!(Graph::open(&repo, &dir.join(".git")).is_some());
    std::fs::write(dir.join(".git/shallow"), format!("{}\n", commits[3])).expect("shallow");
    assert!(Graph::open(&repo, &dir.join(".git")).is_none(), "shallow");
    std::fs::remove_file(dir.join(".git/shallow")).expect("rm");
    test_git(dir, &["config", "core.commitGraph", "false"]);
    assert!(Graph::open(&repo, &dir.join(".git")).is_none(), "graph off");
    test_git(dir, &["config", "core.commitGraph", "true"]);
    // A damaged file (cut short) is never read.
    let file = dir.join(".git/objects/info/commit-graph");
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&file, &bytes[..bytes.len() / 2]).expect("cut");
    assert!(Graph::open(&repo, &dir.join(".git")).is_none(), "cut short");
}

/// A file whose levels say a parent sits above its child (damaged, or written by a broken
/// tool): the walk never answers with the wrong number, it leaves the question to git.
#[test]
fn levels_out_of_order_are_left_to_git() {
    let (tmp, repo) = graphed(5, 40);
    let dir = tmp.path();
    let commits = all_commits(dir);
    let (tip, root) = (&commits[0], &commits[commits.len() - 1]);
    let graph = Graph::open(&repo, &dir.join(".git")).expect("graph");
    let oid = |h: &str| Oid::from_str(h).expect("oid");
    let pos = graph.find(oid(root)).expect("in the graph") as usize;
    let want = count_excluding(&graph, &repo, oid(tip), &[]).expect("count");
    // Raise the root's level far above every commit that descends from it.
    let file = dir.join(".git/objects/info/commit-graph");
    let mut bytes = std::fs::read(&file).expect("read");
    let cdat = u32::from_be_bytes(*b"CDAT");
    let at = (0..usize::from(bytes[6]))
        .find(|i| {
            u32::from_be_bytes(bytes[8 + i * 12..12 + i * 12].try_into().expect("id")) == cdat
        })
        .map(|i| u64::from_be_bytes(bytes[12 + i * 12..20 + i * 12].try_into().expect("off")))
        .expect("CDAT") as usize
        + pos * 36
        + 28;
    bytes[at..at + 4].copy_from_slice(&(1000u32 << 2).to_be_bytes());
    std::fs::write(&file, &bytes).expect("write");
    let graph = Graph::open(&repo, &dir.join(".git")).expect("still readable");
    assert_eq!(
        count_excluding(&graph, &repo, oid(tip), &[]),
        None,
        "git answers; ours was {want}"
    );
    assert_eq!(merge_base(&graph, &repo, oid(tip), oid(root)), None);
}
