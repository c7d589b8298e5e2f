//! Output conventions: data on stdout, messages on stderr, colour only on a terminal and never
//! with `NO_COLOR` or `--color never`; a closed stdout (`| head`) stops the output quietly,
//! never the command: it goes on to its end (its locks released, its exit code its own).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

static COLOR_OUT: AtomicBool = AtomicBool::new(false);
static COLOR_ERR: AtomicBool = AtomicBool::new(false);
/// 0 quiet, 1 normal, 2 verbose.
static LEVEL: AtomicU8 = AtomicU8::new(1);
/// Why stdout took no more: 0 it did, 1 its reader is gone (a closed pipe), 2 another error.
static OUT_STOPPED: AtomicU8 = AtomicU8::new(0);
static OUT_ERROR: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets the colour choice (`auto`, `always`, `never`) and the verbosity.
pub fn init(color: crate::cli::Color, quiet: bool, verbose: bool) {
    use crate::cli::Color;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (out, err) = match color {
        Color::Never => (false, false),
        Color::Always => (true, true),
        Color::Auto if no_color => (false, false),
        Color::Auto => (
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
        ),
    };
    COLOR_OUT.store(out, Ordering::Relaxed);
    COLOR_ERR.store(err, Ordering::Relaxed);
    LEVEL.store(
        if quiet {
            0
        } else if verbose {
            2
        } else {
            1
        },
        Ordering::Relaxed,
    );
}

/// Styles for [`paint`].
#[derive(Clone, Copy)]
pub enum Style {
    Red,
    Yellow,
    Green,
    Bold,
    Dim,
}

fn code(style: Style) -> &'static str {
    match style {
        Style::Red => "\x1b[31m",
        Style::Yellow => "\x1b[33m",
        Style::Green => "\x1b[32m",
        Style::Bold => "\x1b[1m",
        Style::Dim => "\x1b[2m",
    }
}

/// Text for stderr, coloured when stderr may be.
pub fn paint_err(style: Style, text: &str) -> String {
    if COLOR_ERR.load(Ordering::Relaxed) {
        format!("{}{text}\x1b[0m", code(style))
    } else {
        text.to_string()
    }
}

/// Text for stdout, coloured when stdout may be.
pub fn paint_out(style: Style, text: &str) -> String {
    if COLOR_OUT.load(Ordering::Relaxed) {
        format!("{}{text}\x1b[0m", code(style))
    } else {
        text.to_string()
    }
}

/// A line of data on stdout. Once a write failed nothing more is written, and the command
/// goes on: exiting here skipped every guard's release (a refused `rm --dry-run | true` left
/// its index lock, and exited 0). [`out_failure`] says what went wrong, at the end.
pub fn out(line: &str) {
    out_raw(&format!("{line}\n"));
}

/// Text on stdout as it is (no newline added); see [`out`].
pub fn out_raw(text: &str) {
    if OUT_STOPPED.load(Ordering::Relaxed) != 0 {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        let closed = e.kind() == std::io::ErrorKind::BrokenPipe;
        if !closed {
            let _ = OUT_ERROR.set(e.to_string());
        }
        OUT_STOPPED.store(if closed { 1 } else { 2 }, Ordering::Relaxed);
    }
}

/// Why stdout could not be written, if it failed other than by its reader going away (a
/// closed pipe is no error: `| head` took what it wanted).
pub fn out_failure() -> Option<&'static str> {
    (OUT_STOPPED.load(Ordering::Relaxed) == 2).then(|| OUT_ERROR.get().map_or("", String::as_str))
}

/// A message on stderr (not with `-q`).
pub fn info(line: &str) {
    if LEVEL.load(Ordering::Relaxed) >= 1 {
        err_line(line);
    }
}

/// A detail on stderr (only with `-v`).
pub fn detail(line: &str) {
    if LEVEL.load(Ordering::Relaxed) >= 2 {
        err_line(&paint_err(Style::Dim, line));
    }
}

/// A warning on stderr (shown even with `-q`).
pub fn warn(line: &str) {
    err_line(&format!("{} {line}", paint_err(Style::Yellow, "warning:")));
}

/// A line on stderr. A closed stderr (`rm 2>&1 | head`, the reader gone) loses the message but
/// never stops the command midway: a removal runs to its end either way.
pub fn err_line(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Asks a yes/no question on the terminal; anything but y/yes is no.
pub fn confirm(question: &str) -> bool {
    let _ = write!(std::io::stderr(), "{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Whether long steps may show progress: stderr is a terminal and `-q` was not given.
pub fn progress() -> bool {
    LEVEL.load(Ordering::Relaxed) >= 1 && std::io::stderr().is_terminal()
}

/// Whether a person can answer questions.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

mod held;
pub mod table;

pub use held::hold_stderr;

/// Formats rows as aligned columns that fit the terminal (see [`table`]).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    table_styled(header, rows, &|_, _| None)
}

/// [`table()`], with `style(column header, cell)` colouring cells on a terminal.
pub fn table_styled(
    header: &[&str],
    rows: &[Vec<String>],
    style: &dyn Fn(&str, &str) -> Option<Style>,
) -> Vec<String> {
    table::render(header, rows, table::width_limit(), style)
}

/// A table whose columns say how they fit ([`table::Column`]), with `style(column header,
/// cell)` colouring cells on a terminal; the lines and the headers of columns left out.
pub fn table_columns(
    columns: &[table::Column],
    rows: &[Vec<String>],
    style: &dyn Fn(&str, &str) -> Option<Style>,
) -> (Vec<String>, Vec<String>) {
    table::render_columns(columns, rows, table::width_limit(), style)
}

/// Ports as one short cell: `backend=8001 workers=5026-5031*`, a run of a group's
/// consecutive ports folded into one range (`*` marks a busy one, the busy ones are listed).
pub fn ports_line(ports: &[(String, u32, bool)]) -> String {
    let split = |label: &str| -> Option<(String, u32)> {
        let (name, rest) = label.split_once('[')?;
        Some((name.to_string(), rest.strip_suffix(']')?.parse().ok()?))
    };
    let mut sorted: Vec<(String, Option<u32>, u32, bool)> = ports
        .iter()
        .map(|(l, p, b)| match split(l) {
            Some((name, i)) => (name, Some(i), *p, *b),
            None => (l.clone(), None, *p, *b),
        })
        .collect();
    sorted.sort();
    let mut out: Vec<String> = Vec::new();
    let mut k = 0;
    while k < sorted.len() {
        let (name, index, port, _) = &sorted[k];
        let mut end = k;
        while let (Some(i), Some((n2, Some(i2), p2, _))) = (index, sorted.get(end + 1)) {
            let step = u32::try_from(end + 1 - k).unwrap_or(u32::MAX);
            if n2 != name || *i2 != i + step || *p2 != port + step {
                break;
            }
            end += 1;
        }
        let busy: Vec<String> = sorted[k..=end]
            .iter()
            .filter(|s| s.3)
            .map(|s| s.2.to_string())
            .collect();
        let mark = if busy.is_empty() {
            String::new()
        } else if end == k {
            "*".into()
        } else {
            format!("*({})", busy.join(","))
        };
        out.push(match index {
            None => format!("{name}={port}{mark}"),
            Some(i) if end == k => format!("{name}[{i}]={port}{mark}"),
            Some(_) => format!("{name}={port}-{}{mark}", sorted[end].2),
        });
        k = end + 1;
    }
    out.join(" ")
}

/// Keeps stdout for one answer (an agent hook's path): from here on file descriptor 1 is
/// stderr, so no message and no child process (git, compose) can write to the caller's
/// stdout. Returns the real stdout, to write the answer to; `None` where this cannot be done,
/// and then [`out`] writes it.
#[cfg(target_os = "linux")]
pub fn reserve_stdout() -> Option<std::fs::File> {
    use std::os::fd::AsFd;
    let saved = rustix::io::fcntl_dupfd_cloexec(std::io::stdout().as_fd(), 0).ok()?;
    let _ = rustix::stdio::dup2_stdout(std::io::stderr().as_fd());
    Some(std::fs::File::from(saved))
}

#[cfg(not(target_os = "linux"))]
pub fn reserve_stdout() -> Option<std::fs::File> {
    None
}

/// Stderr pointed at `/dev/null` until the guard drops (then it is stderr again): a hook's
/// one line must be the only thing its caller reads, so the report and every child's output
/// of the step it wraps go nowhere.
#[cfg(target_os = "linux")]
pub struct Hushed(Option<std::os::fd::OwnedFd>);

#[cfg(target_os = "linux")]
pub fn hush_stderr() -> Hushed {
    use std::os::fd::AsFd;
    let saved = rustix::io::fcntl_dupfd_cloexec(std::io::stderr().as_fd(), 0).ok();
    let null = std::fs::OpenOptions::new().write(true).open("/dev/null");
    match (saved, null) {
        (Some(saved), Ok(null)) => {
            let _ = rustix::stdio::dup2_stderr(null.as_fd());
            Hushed(Some(saved))
        }
        _ => Hushed(None),
    }
}

#[cfg(target_os = "linux")]
impl Drop for Hushed {
    fn drop(&mut self) {
        if let Some(saved) = self.0.take() {
            let _ = rustix::stdio::dup2_stderr(&saved);
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub struct Hushed;

#[cfg(not(target_os = "linux"))]
pub fn hush_stderr() -> Hushed {
    Hushed
}
