//! Printing: human text with optional colour (anstream honours `NO_COLOR` and pipes), JSON,
//! and the mapping from errors to exit codes.

use anstyle::{AnsiColor, Effects, Style};
use std::process::ExitCode;

/// Bad usage or bad input: printed with its message and exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Shorthand for returning a [`BadInput`].
pub fn bad_input<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(BadInput(msg.into()).into())
}

/// What a command returns: `Ok(code)` or an error (BadInput → 2, anything else → 1).
pub type CmdResult = anyhow::Result<ExitCode>;

pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn new(json: bool) -> Self {
        Out { json }
    }

    /// Print a JSON value (pretty) on stdout.
    pub fn json<T: serde::Serialize>(&self, value: &T) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(value)?;
        anstream::println!("{text}");
        Ok(())
    }
}

pub const HEADING: Style = Style::new().bold().underline();
pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().effects(Effects::DIMMED);
pub const GOOD: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
pub const WARN: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
pub const BAD: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .bold();
pub const ACCENT: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));

/// Wrap text in a style; anstream strips the escapes when colour is off.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// A text bar for a probability (0..=1), `width` cells wide.
pub fn bar(p: f64, width: usize) -> String {
    let filled = (p.clamp(0.0, 1.0) * width as f64).round() as usize;
    format!("{}{}", "█".repeat(filled), "·".repeat(width - filled))
}

/// Turn a command's result into the process exit code, printing errors on stderr.
pub fn finish(result: CmdResult) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            let code = if err.downcast_ref::<BadInput>().is_some() {
                2
            } else {
                1
            };
            print_err(&format!("{} {err:#}\n", paint(BAD, "error:")));
            ExitCode::from(code)
        }
    }
}

/// The narrowest width output is fitted to: below it most words would stand alone.
const MIN_WIDTH: usize = 40;
/// Paragraphs are wrapped at most this wide on a very wide terminal, for readability.
const MAX_PROSE: usize = 100;

/// The width human output is fitted to: `COLUMNS` when set, else the terminal's width when
/// standard output is a terminal, else 80. Never below 40.
pub fn width() -> usize {
    static WIDTH: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *WIDTH.get_or_init(|| {
        let terminal = terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0.into());
        width_from(std::env::var("COLUMNS").ok().as_deref(), terminal)
    })
}

/// [`width`] from its inputs: the `COLUMNS` value and the terminal's width, if any.
pub fn width_from(columns: Option<&str>, terminal: Option<usize>) -> usize {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or(terminal)
        .unwrap_or(80)
        .max(MIN_WIDTH)
}

/// The width paragraphs are wrapped to: the output width, at most 100.
pub fn prose_width() -> usize {
    width().min(MAX_PROSE)
}

/// Columns `s` takes on a terminal: escape sequences take none, wide characters two.
pub fn display_width(s: &str) -> usize {
    use unicode_width::UnicodeWidthChar;
    visible_chars(s).map(|c| c.width().unwrap_or(0)).sum()
}

/// `s` without escape sequences.
pub fn plain(s: &str) -> String {
    visible_chars(s).collect()
}

/// The characters of `s` a terminal shows: CSI escape sequences (ESC [ parameters, then a
/// final byte in 0x40..=0x7E) left out.
fn visible_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    let mut chars = s.chars();
    std::iter::from_fn(move || {
        loop {
            let c = chars.next()?;
            if c != '\u{1b}' {
                return Some(c);
            }
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        }
    })
}

/// Wrap `text` (one paragraph: its own line breaks are spaces) to the prose width, every line
/// prefixed by `indent`.
pub fn wrap(text: &str, indent: &str) -> String {
    wrap_hang(text, indent, indent)
}

/// Wrap `text` to the prose width: the first line starts with `first`, the others with `rest`
/// (a hanging indent). Lines break between words only; a word longer than a line stands alone.
pub fn wrap_hang(text: &str, first: &str, rest: &str) -> String {
    wrap_words(text, first, rest, prose_width())
}

fn wrap_words(text: &str, first: &str, rest: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut line_w = display_width(first);
    let mut empty = true;
    for word in text.split_whitespace() {
        let w = display_width(word);
        if !empty && line_w + 1 + w > width {
            out.push_str(&line);
            out.push('\n');
            line = rest.to_string();
            line_w = display_width(rest);
            empty = true;
        }
        if !empty {
            line.push(' ');
            line_w += 1;
        }
        line.push_str(word);
        line_w += w;
        empty = false;
    }
    if !empty {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Fit every line of `text` to [`width`]: a longer line is wrapped between words, its
/// continuation lines indented under the line's content (see [`hanging_indent`]). Spacing
/// inside a line (table columns) is kept; lines that fit are untouched.
pub fn fit(text: &str) -> String {
    fit_to(text, width())
}

/// [`fit`] to a given width.
pub fn fit_to(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if display_width(line) <= width {
            out.push_str(line);
        } else {
            let hang = hanging_indent(&plain(line), width);
            out.push_str(&fit_line(line, hang, width));
        }
    }
    out
}

/// Wrap one line to `width` between words, keeping its own spacing; continuation lines start
/// with `hang` spaces. A word longer than the room left stands alone on its line.
pub fn fit_line(line: &str, hang: usize, width: usize) -> String {
    let hang = hang.min(width / 2);
    let lead = line.len() - line.trim_start_matches(' ').len();
    let mut out = String::new();
    let mut cur = line[..lead].to_string();
    let mut cur_w = lead;
    let mut start_w = lead;
    let mut space = "";
    let mut rest = &line[lead..];
    while !rest.is_empty() {
        let spaces = rest.len() - rest.trim_start_matches(' ').len();
        if spaces > 0 {
            space = &rest[..spaces];
            rest = &rest[spaces..];
            continue;
        }
        let end = rest.find(' ').unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        let w = display_width(word);
        if cur_w > start_w && cur_w + space.len() + w > width {
            out.push_str(cur.trim_end());
            out.push('\n');
            cur = " ".repeat(hang);
            cur_w = hang;
            start_w = hang;
            space = "";
        }
        cur.push_str(space);
        cur_w += space.len();
        space = "";
        cur.push_str(word);
        cur_w += w;
    }
    out.push_str(&cur);
    out
}

/// Where the continuation lines of an over-long line start, read off the line's shape: under
/// the text after a list marker (`- `, `• `, `3. `), after a short label (`warning: `,
/// `Why: `), under the last column of a table row, else two columns in from the line's own
/// indent. At most half the width.
pub fn hanging_indent(plain: &str, width: usize) -> usize {
    let lead = plain.len() - plain.trim_start_matches(' ').len();
    let rest = &plain[lead..];
    let limit = width / 2;
    let at = |n: usize| (lead + n).min(limit);
    for marker in ["- ", "• ", "* ", "▶ ", "✗ ", "! ", "· ", "+ ", "= ", "~ "] {
        if let Some(after) = rest.strip_prefix(marker) {
            let extra = after.len() - after.trim_start_matches(' ').len();
            return at(display_width(marker) + extra);
        }
    }
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits > 0
        && let Some(after) = rest[digits..].strip_prefix(". ")
    {
        let extra = after.len() - after.trim_start_matches(' ').len();
        return at(digits + 2 + extra);
    }
    if let Some(pos) = rest.find(": ") {
        let label = &rest[..pos];
        if !label.is_empty()
            && !label.contains("  ")
            && display_width(label) <= 30
            && label.split_whitespace().count() <= 5
        {
            return at(display_width(label) + 2);
        }
    }
    // A table row: under the last column that starts within the first half.
    let mut best = None;
    let mut col = lead;
    let mut run = 0;
    for c in rest.chars() {
        if c == ' ' {
            run += 1;
        } else {
            if run >= 2 && col <= limit {
                best = Some(col);
            }
            run = 0;
        }
        col += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
    }
    best.unwrap_or_else(|| at(2))
}

/// Print human text on standard output, fitted to the width.
pub fn print_out(text: &str) {
    anstream::print!("{}", fit(text));
}

/// Print human text on standard error, fitted to the width.
pub fn print_err(text: &str) {
    anstream::eprint!("{}", fit(text));
}

/// `print!` for human text: fitted to the terminal (see [`fit`]), colour as the terminal allows.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::output::print_out(&format!($($arg)*)) };
}

/// `println!` for human text: fitted to the terminal, colour as the terminal allows.
#[macro_export]
macro_rules! sayln {
    () => { $crate::output::print_out("\n") };
    ($($arg:tt)*) => { $crate::output::print_out(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` for human text: fitted to the terminal, colour as the terminal allows.
#[macro_export]
macro_rules! esayln {
    ($($arg:tt)*) => { $crate::output::print_err(&format!("{}\n", format_args!($($arg)*))) };
}

/// A table: columns padded to their widest cell. When it is wider than the output, the columns
/// that do not fit are folded onto a second line under each row (`value · value`), with their
/// headers folded the same way under the header row.
pub struct Table {
    headers: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
    /// Spaces before every line.
    pub indent: usize,
    /// Paint the first cell of every row bold.
    pub bold_first: bool,
}

impl Table {
    /// A table with these column headers; a header starting with `>` is right-aligned.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers
                .iter()
                .map(|h| h.trim_start_matches('>').to_string())
                .collect(),
            right: headers.iter().map(|h| h.starts_with('>')).collect(),
            rows: Vec::new(),
            indent: 0,
            bold_first: false,
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table fitted to [`width`].
    pub fn render(&self) -> String {
        self.render_to(width())
    }

    /// The table fitted to `width` columns.
    pub fn render_to(&self, width: usize) -> String {
        const GAP: usize = 2;
        let n = self.headers.len();
        let cell = |r: &Vec<String>, i: usize| r.get(i).map_or("", String::as_str).to_string();
        let natural: Vec<usize> = (0..n)
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| display_width(&cell(r, i)))
                    .chain([display_width(&self.headers[i])])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        // How many leading columns fit on the first line.
        let mut kept = 0;
        let mut used = self.indent;
        for (i, w) in natural.iter().enumerate() {
            let add = if i == 0 { *w } else { GAP + w };
            if i > 0 && used + add > width {
                break;
            }
            used += add;
            kept = i + 1;
        }
        let pad = " ".repeat(self.indent);
        let fold_pad = " ".repeat(self.indent + 4);
        let line = |cells: &[String], first_style: Option<Style>| {
            let mut s = pad.clone();
            for (i, c) in cells.iter().enumerate().take(kept) {
                if i > 0 {
                    s.push_str(&" ".repeat(GAP));
                }
                let fill = natural[i].saturating_sub(display_width(c));
                let text = match first_style {
                    Some(st) if i == 0 => paint(st, c),
                    _ => c.clone(),
                };
                if self.right[i] {
                    s.push_str(&" ".repeat(fill));
                    s.push_str(&text);
                } else {
                    s.push_str(&text);
                    if i + 1 < kept {
                        s.push_str(&" ".repeat(fill));
                    }
                }
            }
            s.trim_end().to_string()
        };
        // The folded cells, `a · b · c`, wrapped between cells (a cell wider than the line is
        // wrapped between its words).
        let folded = |cells: &[String]| {
            let mut out = String::new();
            let mut cur = fold_pad.clone();
            for c in cells.iter().skip(kept).filter(|c| !c.is_empty()) {
                let sep = if cur.len() > fold_pad.len() {
                    " · "
                } else {
                    ""
                };
                if !sep.is_empty() && display_width(&cur) + 3 + display_width(c) > width {
                    out.push_str(&cur);
                    out.push('\n');
                    cur = fold_pad.clone();
                }
                if cur.len() > fold_pad.len() {
                    cur.push_str(" · ");
                }
                cur.push_str(c);
            }
            if cur.len() > fold_pad.len() {
                out.push_str(&fit_line(&cur, fold_pad.len(), width));
                out.push('\n');
            }
            out
        };
        let mut out = String::new();
        out.push_str(&paint(HEADING, line(&self.headers, None)));
        out.push('\n');
        if kept < n {
            out.push_str(&paint(DIM, folded(&self.headers).trim_end()));
            out.push('\n');
        }
        for r in &self.rows {
            let cells: Vec<String> = (0..n).map(|i| cell(r, i)).collect();
            out.push_str(&line(&cells, self.bold_first.then_some(BOLD)));
            out.push('\n');
            if kept < n {
                out.push_str(&folded(&cells));
            }
        }
        out
    }
}

/// Resolve `--device` to one model, or fail with the closest names (exit 2).
pub fn resolve_device(query: &str) -> anyhow::Result<(&'static str, Vec<&'static kb::Device>)> {
    match kb::kb().find_device(query) {
        kb::DeviceMatch::Found { name, variants } => Ok((name, variants)),
        kb::DeviceMatch::Ambiguous(names) => bad_input(format!(
            "`{query}` matches several devices: {}. Say which one (a name, a product type like iPhone10,3, or a board like d22ap).",
            names.join(", ")
        )),
        kb::DeviceMatch::NotFound(names) => bad_input(format!(
            "no device called `{query}`. Closest: {}. `restore-doctor devices` lists them all.",
            names.join(", ")
        )),
    }
}

/// The JSON shape of a device used across commands (built in `kb::report`).
pub use kb::report::DeviceJson;

/// Button names of a scheme, in words.
pub fn scheme_words(scheme: kb::ButtonScheme) -> &'static str {
    match scheme {
        kb::ButtonScheme::HomeButton => "Home button + Top/Side button",
        kb::ButtonScheme::VolumeDownSide => "Side/Top button + Volume Down",
        kb::ButtonScheme::VolumeUpDownSide => "Volume Up, Volume Down, then the Side button",
        kb::ButtonScheme::TopButtonIpad => {
            "Top button + the volume buttons (nearest, then farthest from the Top button)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_is_columns_then_the_terminal_then_80() {
        assert_eq!(width_from(Some("120"), Some(200)), 120);
        assert_eq!(width_from(None, Some(132)), 132);
        assert_eq!(width_from(None, None), 80);
        assert_eq!(width_from(Some("abc"), None), 80);
        assert_eq!(width_from(Some("0"), Some(90)), 90);
        assert_eq!(width_from(Some("10"), None), MIN_WIDTH);
    }

    #[test]
    fn escapes_take_no_columns_and_wide_characters_two() {
        let red = paint(BAD, "error:");
        assert_eq!(display_width(&red), 6);
        assert_eq!(plain(&red), "error:");
        assert_eq!(display_width("エラー"), 6);
        assert_eq!(display_width("█·—"), 3);
    }

    #[test]
    fn a_long_line_wraps_between_words_under_its_content() {
        let line = format!("  - {}", "word ".repeat(30).trim_end());
        let out = fit_to(&line, 40);
        for l in out.lines() {
            assert!(l.len() <= 40, "{l:?}");
        }
        assert!(
            out.lines().skip(1).all(|l| l.starts_with("    word")),
            "{out}"
        );
        assert_eq!(
            out.split_whitespace().collect::<Vec<_>>(),
            line.split_whitespace().collect::<Vec<_>>()
        );
        // A word longer than the line stands alone, unbroken.
        let long = format!("see {} now", "x".repeat(60));
        let out = fit_to(&long, 40);
        assert!(out.lines().any(|l| l.trim() == "x".repeat(60)), "{out}");
        // Lines that fit are left alone, their spacing included.
        assert_eq!(fit_to("a    b\n\n  c", 40), "a    b\n\n  c");
    }

    #[test]
    fn colour_codes_stay_with_their_words() {
        let line = format!("{} {}", paint(WARN, "warning:"), "long words ".repeat(10));
        let out = fit_to(line.trim_end(), 40);
        assert!(out.lines().all(|l| display_width(l) <= 40), "{out:?}");
        assert_eq!(
            plain(&out).lines().nth(1).map(|l| &l[..9]),
            Some("         ")
        );
    }

    #[test]
    fn continuation_lines_hang_after_a_marker_a_label_or_a_column() {
        assert_eq!(hanging_indent("  - item text", 80), 4);
        assert_eq!(hanging_indent("  12. step text", 80), 6);
        assert_eq!(hanging_indent("warning: text", 80), 9);
        assert_eq!(hanging_indent("  Why: because", 80), 7);
        assert_eq!(
            hanging_indent("      -18  storage_nand   A very old", 80),
            26
        );
        assert_eq!(hanging_indent("  plain sentence with no shape", 80), 4);
        // Never more than half the width.
        assert_eq!(hanging_indent(&format!("{}- x", " ".repeat(60)), 80), 40);
    }

    #[test]
    fn a_wide_table_folds_its_last_columns_under_each_row() {
        let mut t = Table::new(&["Name", "Product", ">Year", "Connector", "Buttons"]);
        t.row(vec![
            "iPhone X".into(),
            "iPhone10,3".into(),
            "2017".into(),
            "Lightning".into(),
            "volume_up_down_side".into(),
        ]);
        let wide = t.render_to(120);
        assert_eq!(wide.lines().count(), 2, "{wide}");
        assert!(
            wide.lines().nth(1).unwrap().contains("2017  Lightning"),
            "{wide}"
        );
        let narrow = t.render_to(40);
        let lines: Vec<&str> = narrow.lines().collect();
        assert_eq!(lines.len(), 4, "{narrow}");
        assert!(lines.iter().all(|l| display_width(l) <= 40), "{narrow}");
        assert_eq!(plain(lines[0]), "Name      Product     Year  Connector");
        assert_eq!(plain(lines[1]), "    Buttons");
        assert_eq!(lines[2], "iPhone X  iPhone10,3  2017  Lightning");
        assert_eq!(lines[3], "    volume_up_down_side");
        // Narrower still: two columns fold, and a separator never ends a line.
        let narrower = t.render_to(30);
        assert!(
            narrower.lines().all(|l| display_width(l) <= 30),
            "{narrower}"
        );
        assert!(narrower.lines().all(|l| !l.ends_with('·')), "{narrower}");
        assert!(
            narrower.contains("    Lightning\n    volume_up_down_side"),
            "{narrower}"
        );
    }
}
