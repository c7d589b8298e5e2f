//! Aligned tables that fit the terminal: widths come from the data, as display widths
//! (`unicode-width`, so `dépôt` and `日本` line up). When a table is wider than the terminal,
//! room is taken from the least important columns first: folding columns fold between phrases
//! (`never pushed,` / `3 unpushed`), then droppable ones are left out, then cells are cut with
//! `…`, and last, folding columns fold between words (never mid-word).
//! Styles are applied after the layout, so colour codes never count as width, and only where
//! stdout may be coloured.

use std::io::IsTerminal;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{Style, paint_out};

/// Room between columns.
const GAP: usize = 2;
/// Cut columns no wider than this (states like `never pushed`) are never cut; wider ones are
/// cut down to [`MIN`] (or their header's width).
const KEEP: usize = 12;
const MIN: usize = 10;

/// How a column gives up room when the table is wider than the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Folds between words onto more lines: loses nothing, never cuts a word.
    Fold,
    /// Cut with `…` (a name, a branch), after every fold and drop.
    Cut,
    /// Left out whole when folding is not enough (its data is in `--json` and `status`).
    Drop,
}

/// A column: its header, how it fits, and its rank (0 the most important); room is taken
/// from the least important first.
#[derive(Clone, Copy, Debug)]
pub struct Column<'a> {
    pub header: &'a str,
    pub fit: Fit,
    pub rank: usize,
}

/// The width to fit: `COLUMNS` if set, else the terminal's when stdout is one, else none
/// (piped output keeps whole cells for scripts).
pub fn width_limit() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(c);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size().map(|(w, _)| usize::from(w.0))
}

/// Lays out `rows` under `header` within `limit` columns, as before columns had fits: the
/// last column folds, the others are cut (the later ones first).
pub fn render(
    header: &[&str],
    rows: &[Vec<String>],
    limit: Option<usize>,
    style: &dyn Fn(&str, &str) -> Option<Style>,
) -> Vec<String> {
    let n = header.len();
    let columns: Vec<Column> = header
        .iter()
        .enumerate()
        .map(|(i, h)| Column {
            header: h,
            fit: if i + 1 == n { Fit::Fold } else { Fit::Cut },
            rank: i,
        })
        .collect();
    render_columns(&columns, rows, limit, style).0
}

/// Lays out `rows` under `columns` within `limit`; `style(column header, cell)` picks a
/// cell's colour. Returns the lines and the headers of the columns left out.
pub fn render_columns(
    columns: &[Column],
    rows: &[Vec<String>],
    limit: Option<usize>,
    style: &dyn Fn(&str, &str) -> Option<Style>,
) -> (Vec<String>, Vec<String>) {
    let n = columns.len();
    let cell = |r: &Vec<String>, i: usize| r.get(i).cloned().unwrap_or_default();
    let natural: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .map(|r| cell(r, i).width())
                .fold(columns[i].header.width(), usize::max)
        })
        .collect();
    let floors: Vec<Floor> = (0..n)
        .map(|i| floor(&columns[i], rows, i, natural[i]))
        .collect();
    let shown = layout(columns, &natural, &floors, limit);
    let kept: Vec<usize> = (0..n).filter(|&i| shown[i].is_some()).collect();
    let widths: Vec<usize> = kept.iter().filter_map(|&i| shown[i]).collect();
    let headers: Vec<&str> = kept.iter().map(|&i| columns[i].header).collect();
    let fits: Vec<Fit> = kept.iter().map(|&i| columns[i].fit).collect();
    let bold = |_: &str, c: &str| Some(Style::Bold).filter(|_| !c.is_empty());
    let head: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let mut out = vec![line(&head, &widths, &fits, &bold, &headers)];
    for r in rows {
        let cells: Vec<String> = kept.iter().map(|&i| cell(r, i)).collect();
        out.push(line(&cells, &widths, &fits, style, &headers));
    }
    let dropped = (0..n)
        .filter(|&i| shown[i].is_none())
        .map(|i| columns[i].header.to_string())
        .collect();
    (out, dropped)
}

/// How narrow a column may become: `soft` before any column is dropped, `hard` after.
#[derive(Clone, Copy, Debug)]
struct Floor {
    soft: usize,
    hard: usize,
}

/// A folding column: its longest phrase (`never pushed,`), then its longest word (never cut
/// mid-word); a cut one [`MIN`] unless it is short anyway; a dropped one whole.
fn floor(column: &Column, rows: &[Vec<String>], i: usize, natural: usize) -> Floor {
    let header = column.header.width();
    let longest = |units: &dyn Fn(&str) -> Vec<String>| {
        rows.iter()
            .filter_map(|r| r.get(i))
            .flat_map(|c| units(c))
            .map(|w| w.width())
            .fold(header, usize::max)
    };
    let same = |w| Floor { soft: w, hard: w };
    match column.fit {
        Fit::Fold => Floor {
            soft: longest(&fold_units),
            hard: longest(&|c: &str| c.split(' ').map(String::from).collect()),
        },
        Fit::Cut if natural <= KEEP => same(natural),
        Fit::Cut => same(header.max(MIN).min(natural)),
        Fit::Drop => same(natural),
    }
}

/// Each column's width, `None` when it is left out: the widths the data asks for; when that is
/// too wide, folding columns fold between phrases (least important first); if that is not
/// enough, the least important droppable column is left out and the layout starts again from
/// the data's widths; with none left to drop, cut columns are cut (least important first), and
/// last, folding columns fold between words.
fn layout(
    columns: &[Column],
    natural: &[usize],
    floors: &[Floor],
    limit: Option<usize>,
) -> Vec<Option<usize>> {
    let Some(limit) = limit else {
        return natural.iter().map(|&w| Some(w)).collect();
    };
    let total = |w: &[Option<usize>]| {
        let shown: Vec<usize> = w.iter().flatten().copied().collect();
        shown.iter().sum::<usize>() + GAP * shown.len().saturating_sub(1)
    };
    let mut least_first: Vec<usize> = (0..columns.len()).collect();
    least_first.sort_by_key(|&i| std::cmp::Reverse(columns[i].rank));
    let narrow = |widths: &mut Vec<Option<usize>>, fit: Fit, hard: bool| {
        for &i in &least_first {
            let over = total(widths).saturating_sub(limit);
            let floor = if hard { floors[i].hard } else { floors[i].soft };
            if let Some(w) = widths[i].as_mut().filter(|_| columns[i].fit == fit) {
                *w -= over.min(w.saturating_sub(floor));
            }
        }
    };
    let mut shown = vec![true; columns.len()];
    loop {
        let mut widths: Vec<Option<usize>> = (0..columns.len())
            .map(|i| Some(natural[i]).filter(|_| shown[i]))
            .collect();
        narrow(&mut widths, Fit::Fold, false);
        if total(&widths) <= limit {
            return widths;
        }
        match least_first
            .iter()
            .find(|&&i| shown[i] && columns[i].fit == Fit::Drop)
        {
            Some(&i) => shown[i] = false,
            None => {
                narrow(&mut widths, Fit::Cut, true);
                narrow(&mut widths, Fit::Fold, true);
                return widths;
            }
        }
    }
}

/// One row, on several lines when a folding cell folds; every other cell on the first line.
fn line(
    cells: &[String],
    widths: &[usize],
    fits: &[Fit],
    style: &dyn Fn(&str, &str) -> Option<Style>,
    header: &[&str],
) -> String {
    let pieces: Vec<Vec<String>> = cells
        .iter()
        .zip(widths.iter().zip(fits))
        .map(|(c, (&w, &fit))| match fit {
            Fit::Fold => wrap(c, w),
            _ => vec![cut(c, w)],
        })
        .collect();
    let height = pieces.iter().map(Vec::len).max().unwrap_or(1);
    let mut lines = Vec::with_capacity(height);
    for k in 0..height {
        let mut text = String::new();
        for (i, p) in pieces.iter().enumerate() {
            let piece = p.get(k).map(String::as_str).unwrap_or("");
            text.push_str(&painted(style(header[i], &cells[i]), piece));
            if i + 1 < pieces.len() {
                text.push_str(&" ".repeat(widths[i] - piece.width() + GAP));
            }
        }
        lines.push(text.trim_end().to_string());
    }
    lines.join("\n")
}

fn painted(style: Option<Style>, text: &str) -> String {
    match style {
        Some(s) if !text.is_empty() => paint_out(s, text),
        _ => text.to_string(),
    }
}

/// `text` cut to `width` display columns, ending in `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in text.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(ch);
        used += w;
    }
    out.push('…');
    out
}

/// The units a folding cell breaks between: its comma-separated phrases (`never pushed,` /
/// `3 unpushed`), else its words (`web=8001` / `api=8002`).
fn fold_units(text: &str) -> Vec<String> {
    if text.contains(", ") {
        let parts: Vec<&str> = text.split(", ").collect();
        let last = parts.len() - 1;
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if i < last {
                    format!("{p},")
                } else {
                    p.to_string()
                }
            })
            .collect()
    } else {
        text.split(' ')
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect()
    }
}

/// `text` split into lines of at most `width` columns: between its fold units, and a unit
/// wider than a line between its words (a word is never cut: the column is never narrower).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let put = |piece: &str, lines: &mut Vec<String>| match lines.last_mut() {
        Some(l) if l.width() + 1 + piece.width() <= width => {
            l.push(' ');
            l.push_str(piece);
        }
        _ => lines.push(cut(piece, width)),
    };
    for unit in fold_units(text) {
        if unit.width() <= width {
            put(&unit, &mut lines);
        } else {
            for word in unit.split(' ').filter(|w| !w.is_empty()) {
                put(word, &mut lines);
            }
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_tables_fit_and_non_ascii_aligns() {
        let rows = vec![
            vec!["dépôt-ü".to_string(), "日本語".into(), "a, b".into()],
            vec![
                "x".repeat(60),
                "y".into(),
                "port 1, port 2, port 3, port 4".into(),
            ],
        ];
        let out = render(&["NAME", "BRANCH", "PORTS"], &rows, Some(40), &|_, _| None);
        for l in out.iter().flat_map(|l| l.lines()) {
            assert!(l.width() <= 40, "{l:?} is {} wide", l.width());
        }
        let col = |l: &str| {
            let at = l.find("BRANCH").or_else(|| l.find("日本語")).unwrap_or(0);
            l[..at].width()
        };
        assert_eq!(col(&out[0]), col(&out[1]), "{out:#?}");
        assert!(out[2].contains('…'), "{out:#?}");
        assert!(
            out[2].lines().count() > 1,
            "the last column wraps: {out:#?}"
        );
    }

    fn list_like(limit: Option<usize>) -> (Vec<String>, Vec<String>) {
        let col = |header, fit, rank| Column { header, fit, rank };
        let columns = [
            col("NAME", Fit::Cut, 0),
            col("SLOT", Fit::Drop, 7),
            col("BRANCH", Fit::Cut, 2),
            col("CHANGES", Fit::Fold, 4),
            col("PUSH", Fit::Fold, 3),
            col("SERVICES", Fit::Drop, 6),
            col("PORTS", Fit::Fold, 5),
        ];
        let row = |name: &str, push: &str| -> Vec<String> {
            [name, "12", name, "3 staged, 1 untracked", push, "down"]
                .iter()
                .map(|s| s.to_string())
                .chain(["web=18001 api=18002 db=18003".to_string()])
                .collect()
        };
        let rows = vec![
            row("login-page", "never pushed, 3 unpushed"),
            row("fix-typo", "pushed 2 h ago, +1 -0 origin/fix"),
        ];
        render_columns(&columns, &rows, limit, &|_, _| None)
    }

    #[test]
    fn narrow_tables_fold_and_drop_before_they_cut() {
        // Wide enough: one line per row, nothing left out, widths from the data.
        let (out, dropped) = list_like(Some(200));
        assert!(dropped.is_empty() && out.len() == 3, "{out:#?}");
        assert!(out[1].contains("never pushed, 3 unpushed"), "{out:#?}");
        for limit in [80, 60] {
            let (out, dropped) = list_like(Some(limit));
            let text = out.join("\n");
            for l in text.lines() {
                assert!(l.width() <= limit, "{limit}: {l:?} is {} wide", l.width());
            }
            assert!(!text.contains('…'), "{limit}: nothing cut: {text}");
            // Push state folds between its phrases (or words), never inside a word.
            for phrase in ["never pushed,", "3 unpushed", "origin/fix"] {
                assert!(text.contains(phrase), "{limit}: {phrase}: {text}");
            }
            for port in ["web=18001", "api=18002", "db=18003"] {
                assert!(text.contains(port), "{limit}: ports fold whole: {text}");
            }
            // Folding is enough at 80; at 60 the slot and services go, least important first.
            let expected: &[&str] = if limit == 60 {
                &["SLOT", "SERVICES"]
            } else {
                &[]
            };
            assert_eq!(dropped, expected, "{limit}: {text}");
        }
    }
}
