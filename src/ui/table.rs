//! Aligned tables that fit the terminal: widths are display widths (`unicode-width`, so
//! `dépôt` and `日本` line up), and when a table is wider than the terminal the widest cells are
//! cut with `…`, except the last column, which wraps onto continuation lines. Styles are
//! applied after the layout, so colour codes never count as width, and only where stdout may
//! be coloured.

use std::io::IsTerminal;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{Style, paint_out};

/// Room between columns.
const GAP: usize = 2;
/// Columns no wider than this (states like `never pushed`) are never cut; wider ones are cut
/// down to [`MIN`] (or their header's width).
const KEEP: usize = 12;
const MIN: usize = 10;
/// The last column wraps down to this width before any other is cut.
const WRAP_MIN: usize = 18;

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

/// Lays out `rows` under `header` within `limit` columns; `style(column header, cell)` picks a
/// cell's colour.
pub fn render(
    header: &[&str],
    rows: &[Vec<String>],
    limit: Option<usize>,
    style: &dyn Fn(&str, &str) -> Option<Style>,
) -> Vec<String> {
    let n = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.width());
        }
    }
    if let Some(limit) = limit {
        shrink(&mut widths, header, limit);
    }
    let mut out = vec![line(
        &header.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        &widths,
        &|_, c: &str| Some(Style::Bold).filter(|_| !c.is_empty()),
        header,
    )];
    for r in rows {
        let mut cells: Vec<String> = r.iter().take(n).cloned().collect();
        cells.resize(n, String::new());
        out.push(line(&cells, &widths, style, header));
    }
    out
}

/// Narrows the table until it fits or cannot shrink: first the last column, which wraps and
/// so loses nothing, down to [`WRAP_MIN`]; then the widest of the others, one step at a time.
fn shrink(widths: &mut [usize], header: &[&str], limit: usize) {
    let total = |w: &[usize]| w.iter().sum::<usize>() + GAP * w.len().saturating_sub(1);
    let Some(last) = widths.len().checked_sub(1) else {
        return;
    };
    let over = total(widths).saturating_sub(limit);
    let last_floor = header[last].width().max(WRAP_MIN).min(widths[last]);
    widths[last] -= over.min(widths[last] - last_floor);
    let natural = widths.to_vec();
    let floor = |i: usize| {
        if natural[i] <= KEEP {
            natural[i]
        } else {
            header[i].width().max(MIN)
        }
    };
    while total(widths) > limit {
        let Some(i) = (0..last)
            .filter(|&i| widths[i] > floor(i))
            .max_by_key(|&i| widths[i])
        else {
            return;
        };
        widths[i] -= 1;
    }
}

/// One row, possibly several lines when its last cell wraps.
fn line(
    cells: &[String],
    widths: &[usize],
    style: &dyn Fn(&str, &str) -> Option<Style>,
    header: &[&str],
) -> String {
    let n = cells.len();
    let mut first = String::new();
    for (i, c) in cells.iter().enumerate().take(n.saturating_sub(1)) {
        let cut = cut(c, widths[i]);
        let pad = widths[i] - cut.width() + GAP;
        first.push_str(&painted(style(header[i], c), &cut));
        first.push_str(&" ".repeat(pad));
    }
    let Some(last) = cells.last() else {
        return first;
    };
    let indent: usize = widths[..n - 1].iter().map(|w| w + GAP).sum();
    let pieces = wrap(last, widths[n - 1]);
    let s = style(header[n - 1], last);
    let mut text = first;
    for (k, piece) in pieces.iter().enumerate() {
        if k > 0 {
            text.push('\n');
            text.push_str(&" ".repeat(indent));
        }
        text.push_str(&painted(s, piece));
    }
    text.trim_end().to_string()
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

/// `text` split into lines of at most `width` columns, between words.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        match lines.last_mut() {
            Some(l) if l.width() + 1 + word.width() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(cut(word, width)),
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
}
