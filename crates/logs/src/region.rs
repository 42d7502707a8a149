//! Reading one region of whole lines: the signature scan and the per-line parsers.
//!
//! A region is a run of complete lines cut from the decoded input by the analyser's splitter
//! (see [`crate::analyzer`]). Reading it needs nothing from the lines before it, so regions
//! can be read on any thread; what comes out ([`RegionReading`]) is folded into the log's
//! story strictly in input order. This module holds the expensive, pure half of the work:
//! one Aho-Corasick pass over every known signature, splitting out the lines that match
//! (joining wrapped continuations), normalising them, removing their prefixes and parsing
//! them into [`Signal`]s.

use crate::formats::{self, Family};
use crate::model::{Source, Tool};
use crate::prefix;
use crate::reference;
use crate::signal::Signal;
use crate::text::cut;
use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

/// Longest text kept per event.
pub(crate) const EVENT_TEXT: usize = 400;
/// Longest time prefix kept per event.
const EVENT_TIME: usize = 48;
/// A continuation line of a wrapped log starts with at least this many spaces.
const CONTINUATION_INDENT: usize = 15;
/// The longest line joined from a wrapped line and its continuations.
const JOIN_CAP: usize = crate::analyzer::BUFFER_CAP;

struct Matcher {
    /// The signatures' automaton as aho-corasick built it, stepped by [`Matcher::find`], the
    /// reference the scan over [`Matcher::table`] is tested against.
    #[cfg(test)]
    dfa: DFA,
    #[cfg(test)]
    start: StateID,
    /// Pattern id of "\n" + spaces (a wrapped line's continuation).
    continuation: usize,
    /// Parser family of each pattern id.
    families: Vec<Option<Family>>,
    /// The same automaton as a plain table, stepped by [`Matcher::scan`].
    table: Table,
}

/// The signatures' automaton copied into a table of its own: the same states and transitions
/// (so the same matches), with a byte class per byte that occurs in a signature and one for
/// all the others, match states numbered last, from [`FIRST_MATCH`] on (so one bit tells a
/// match, of one state or of several or-ed together), and each match state's first pattern
/// and its length at hand.
struct Table {
    /// `next[state + class]`; states are premultiplied by the number of classes.
    next: Box<[u32; TABLE_LEN]>,
    classes: [u8; 256],
    start: u32,
    /// Per match state (`(state - FIRST_MATCH) / stride`): its first pattern and its length.
    matches: Vec<(u32, u32)>,
    stride: u32,
}

/// States at or above this are match states: a power of two above every other state, so that
/// `a | b | c | d >= FIRST_MATCH` tells whether any of four states is one. The table's sizes
/// are constants so that the scan's loop compares and masks with immediates: its four walkers
/// need every register there is (with the sizes in registers, the slices' bases were spilled
/// and loaded again at every step).
const FIRST_MATCH: u32 = 1 << 18;
/// Entries of [`Table::next`]: the non-match states' rows below [`FIRST_MATCH`], the match
/// states' rows above it. A power of two: masking an index with it changes nothing and lets
/// the compiler drop the bounds check. The rows never stepped into stay zero and untouched
/// (their pages are never mapped).
const TABLE_LEN: usize = 1 << 19;

impl Table {
    fn new(dfa: &DFA, pats: &[String]) -> Table {
        let mut used = [false; 256];
        for p in pats {
            for &b in p.as_bytes() {
                used[usize::from(b)] = true;
            }
        }
        // A byte no signature holds leads every state back to the start state: all such
        // bytes share class 0 (when there is one); each byte a signature holds has a class
        // of its own. At most 256 classes, numbered from 0: they fit a byte.
        let mut classes = [0u8; 256];
        let mut representatives: Vec<u8> = (0..=255u8)
            .find(|&b| !used[usize::from(b)])
            .into_iter()
            .collect();
        for b in 0..=255u8 {
            if used[usize::from(b)] {
                classes[usize::from(b)] = representatives.len() as u8;
                representatives.push(b);
            }
        }
        let start = dfa
            .start_state(Anchored::No)
            .expect("an unanchored start state");
        // Every state reachable from the start state, in the order found, with its
        // transitions as indexes into `states`. (The automaton's own state ids index
        // `seen`: they are small.)
        let mut states = vec![start];
        let mut seen = vec![u32::MAX; start.as_usize() + 1];
        seen[start.as_usize()] = 0;
        let mut targets: Vec<u32> = Vec::new();
        let mut i = 0;
        while i < states.len() {
            let s = states[i];
            for &b in &representatives {
                let t = dfa.next_state(Anchored::No, s, b);
                if seen.len() <= t.as_usize() {
                    seen.resize(t.as_usize() + 1, u32::MAX);
                }
                if seen[t.as_usize()] == u32::MAX {
                    seen[t.as_usize()] = u32::try_from(states.len()).expect("u32 states");
                    states.push(t);
                }
                targets.push(seen[t.as_usize()]);
            }
            i += 1;
        }
        let is_match = |s: StateID| dfa.is_special(s) && dfa.is_match(s);
        // Non-match states first, then match states.
        let mut order: Vec<usize> = (0..states.len()).collect();
        order.sort_by_key(|&k| is_match(states[k]));
        let stride = representatives.len();
        // The non-match states' rows, then a gap up to `FIRST_MATCH`, then the match states'
        // rows.
        let plain = order.iter().filter(|&&k| !is_match(states[k])).count();
        let first_match = FIRST_MATCH as usize;
        assert!(
            plain * stride <= first_match
                && first_match + (states.len() - plain) * stride <= TABLE_LEN,
            "the signatures outgrew the scan's table: raise FIRST_MATCH and TABLE_LEN"
        );
        let mut number = vec![0u32; states.len()];
        for (n, &k) in order.iter().enumerate() {
            let row = if n < plain {
                n * stride
            } else {
                first_match + (n - plain) * stride
            };
            number[k] = u32::try_from(row).expect("table fits u32 ids");
        }
        let mut next: Box<[u32; TABLE_LEN]> = vec![0u32; TABLE_LEN]
            .into_boxed_slice()
            .try_into()
            .expect("TABLE_LEN entries");
        let mut matches = Vec::new();
        for &k in &order {
            let s = states[k];
            let row = number[k] as usize;
            for class in 0..stride {
                next[row + class] = number[targets[k * stride + class] as usize];
            }
            if is_match(s) {
                let pid = dfa.match_pattern(s, 0);
                matches.push((pid.as_u32(), dfa.pattern_len(pid) as u32));
            }
        }
        Table {
            next,
            classes,
            start: number[0],
            matches,
            stride: stride as u32,
        }
    }

    #[inline(always)]
    fn step(&self, state: u32, byte: u8) -> u32 {
        // Every state's row fits in the table: the mask changes no index (see `TABLE_LEN`).
        self.next[(state + u32::from(self.classes[usize::from(byte)])) as usize & (TABLE_LEN - 1)]
    }

    /// The first pattern of a match state and its length.
    fn matched(&self, state: u32) -> (usize, usize) {
        let (p, len) = self.matches[((state - FIRST_MATCH) / self.stride) as usize];
        (p as usize, len as usize)
    }
}

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        let mut pats: Vec<String> = Vec::new();
        let mut families: Vec<Option<Family>> = Vec::new();
        for (sig, fam) in formats::SIGNATURES {
            pats.push(sig.to_string());
            families.push(Some(*fam));
        }
        for label in reference::operation_labels() {
            if !pats.contains(&label) {
                pats.push(label);
                families.push(Some(Family::Idevicerestore));
            }
        }
        let continuation = pats.len();
        pats.push(format!("\n{}", " ".repeat(CONTINUATION_INDENT)));
        families.push(None);
        // Standard semantics: the search stops at the first signature that ends, which is
        // all we need to know that a line is worth reading.
        // No prefilter (the start state then is not special) and standard semantics.
        let dfa = aho_corasick::dfa::Builder::new()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(&pats)
            .expect("signature automaton builds");
        let table = Table::new(&dfa, &pats);
        Matcher {
            #[cfg(test)]
            start: dfa
                .start_state(Anchored::No)
                .expect("an unanchored start state"),
            #[cfg(test)]
            dfa,
            continuation,
            families,
            table,
        }
    })
}

impl Matcher {
    /// The first signature that ends in `hay[from..]`: its start and pattern id. The reference
    /// walkers of [`Matcher::scan`] are tested against.
    #[cfg(test)]
    fn find(&self, hay: &[u8], from: usize) -> Option<(usize, usize)> {
        let dfa = &self.dfa;
        let mut sid = self.start;
        for (i, &b) in hay.get(from..)?.iter().enumerate() {
            sid = dfa.next_state(Anchored::No, sid, b);
            if dfa.is_special(sid) && dfa.is_match(sid) {
                let pid = dfa.match_pattern(sid, 0);
                let end = from + i + 1;
                return Some((end - dfa.pattern_len(pid), pid.as_usize()));
            }
        }
        None
    }

    /// Every signature match the line-by-line reading can ask for, in input order, as (start,
    /// pattern id): after a match the search goes on from the end of its line (the rest of a
    /// line already worth reading is not scanned), after a continuation match from the byte
    /// after its `\n`. `found[k]` holds the matches of the region's part `k`.
    ///
    /// [`WALKERS`] walkers step the automaton ([`Table`]) through parts of the region
    /// in turn, in runs as long as the shortest part left, over slice iterators (no index to
    /// check per walker and step), until one of them matches.
    /// Each step waits for the load of the next state, so one walker leaves the CPU idle most
    /// of the time; independent walkers overlap their loads (two: about 1.5x the bytes per
    /// second of one; four: about 1.25x those of two on the real-log file). The parts meet at
    /// line starts that are not a continuation's indent: no signature holds a line terminator,
    /// except the continuation's leading `\n` before spaces, so no match crosses a split and
    /// each part can start from the start state.
    /// The region is cut into [`PARTS`] parts, more than there are walkers: a walker that
    /// reaches the end of its part takes the next part nobody has started, and once none is
    /// left it steps through [`IDLE`] bytes (never a match) while the others finish. A walker
    /// that meets many matches jumps ahead (to each line's end); with one part per walker
    /// the others then went on alone, one byte per state load.
    /// [`read_region`] reads the list as it would have called [`Matcher::find`] from each of
    /// its resume points (test `the_walkers_find_what_one_search_finds`).
    fn scan(&self, hay: &[u8], found: &mut [Vec<Found>; PARTS]) {
        found.iter_mut().for_each(Vec::clear);
        let bounds = split_points(hay);
        let t = &self.table;
        let start = t.start;
        let first_match = FIRST_MATCH;
        // A walker: the bytes it steps through, its position and end there, its state and its
        // part (`PARTS`: idle).
        let idle: (&[u8], usize, usize, u32, usize) = (&IDLE, 0, IDLE.len(), start, PARTS);
        let mut walkers = [idle; WALKERS];
        let mut next_part = 0;
        loop {
            let mut active = 0;
            for w in &mut walkers {
                if w.4 == PARTS || w.1 == w.2 {
                    *w = idle;
                    while next_part < PARTS {
                        let (from, to) = (bounds[next_part], bounds[next_part + 1]);
                        next_part += 1;
                        if from < to {
                            *w = (hay, from, to, start, next_part - 1);
                            break;
                        }
                    }
                }
                active += usize::from(w.4 < PARTS);
            }
            if active == 0 {
                break;
            }
            // Positions and states in locals (kept in registers: the loop is bound by the
            // state loads, and a state kept in memory would add a store and a load to each
            // step).
            let [
                (h0, mut a0, e0, mut s0, p0),
                (h1, mut a1, e1, mut s1, p1),
                (h2, mut a2, e2, mut s2, p2),
                (h3, mut a3, e3, mut s3, p3),
            ] = walkers;
            // Steps every walker can take before the first reaches its end; a match cuts the
            // run short (the walker jumps to its line's end).
            let run = (e0 - a0).min(e1 - a1).min(e2 - a2).min(e3 - a3);
            // The run's bytes of each walker, walked by slice iterators (no index to check).
            let bytes = h0[a0..a0 + run]
                .iter()
                .zip(&h1[a1..a1 + run])
                .zip(&h2[a2..a2 + run])
                .zip(&h3[a3..a3 + run]);
            let mut stepped = run;
            for (i, (((&b0, &b1), &b2), &b3)) in bytes.enumerate() {
                s0 = t.step(s0, b0);
                s1 = t.step(s1, b1);
                s2 = t.step(s2, b2);
                s3 = t.step(s3, b3);
                if (s0 | s1 | s2 | s3) >= first_match {
                    stepped = i + 1;
                    break;
                }
            }
            a0 += stepped;
            a1 += stepped;
            a2 += stepped;
            a3 += stepped;
            walkers = [
                (h0, a0, e0, s0, p0),
                (h1, a1, e1, s1, p1),
                (h2, a2, e2, s2, p2),
                (h3, a3, e3, s3, p3),
            ];
            if (s0 | s1 | s2 | s3) >= first_match {
                // Only a walker in a part matches (idle bytes lead nowhere).
                for w in &mut walkers {
                    if w.3 >= first_match {
                        w.1 = self.record(hay, w.1, w.3, &mut found[w.4]);
                        w.3 = start;
                    }
                }
            }
        }
    }

    /// A walker at `at` has just stepped past the last byte of a match (`state`): note the
    /// match, and return where the walker goes on (from its start state).
    #[inline]
    fn record(&self, hay: &[u8], at: usize, state: u32, found: &mut Vec<Found>) -> usize {
        let (pattern, len) = self.table.matched(state);
        let start = at - len;
        let (line_end, resume) = if pattern == self.continuation {
            (start, start + 1)
        } else {
            let end = line_end(hay, start);
            (end, end)
        };
        found.push(Found {
            start,
            pattern,
            line_end,
        });
        resume
    }
}

/// A signature match: where it starts, which pattern, and where its line ends (the index of the
/// line terminator or the region's end; for a continuation match, its start).
#[derive(Debug, Clone, Copy)]
struct Found {
    start: usize,
    pattern: usize,
    line_end: usize,
}

impl Found {
    /// The match `pattern` at `start` in `region`.
    #[cfg(test)]
    fn at(region: &[u8], start: usize, pattern: usize) -> Found {
        Found {
            start,
            pattern,
            line_end: line_end(region, start),
        }
    }
}

/// Regions shorter than this are scanned by one walker.
const SPLIT_MIN: usize = 4096;

/// Walkers stepping the automaton through a region in turn.
const WALKERS: usize = 4;

/// Parts a region is cut into for the walkers (see [`Matcher::scan`]).
const PARTS: usize = 16;

/// What an idle walker steps through: a byte no signature holds leads every state to the
/// start state, so it never matches (test `idle_bytes_never_match`).
static IDLE: [u8; 4096] = [0; 4096];

/// Where each of [`Matcher::scan`]'s parts starts, and the region's end: for each part, the
/// first line start at or after its share of `hay` that does not begin with a continuation's
/// indent (so that no continuation match, `\n` and that many spaces, crosses it), or the end
/// (fewer parts) for a short region or one without such a line. Indented pastes (a forum's
/// code block) split too.
fn split_points(hay: &[u8]) -> [usize; PARTS + 1] {
    let mut bounds = [hay.len(); PARTS + 1];
    bounds[0] = 0;
    if hay.len() < SPLIT_MIN {
        return bounds;
    }
    let indent = [b' '; CONTINUATION_INDENT];
    for k in 1..PARTS {
        let share = (hay.len() / PARTS * k).max(bounds[k - 1]);
        bounds[k] = memchr::memchr_iter(b'\n', &hay[share..])
            .map(|i| share + i + 1)
            .find(|&s| s < hay.len() && !hay[s..].starts_with(&indent))
            .unwrap_or(hay.len());
    }
    bounds
}

/// What one matching line said, ready to be folded.
#[derive(Debug, Clone)]
pub(crate) struct LineReading {
    /// 1-based line number counted from the region's first line.
    pub line: u64,
    pub kind: LineKind,
}

#[derive(Debug, Clone)]
pub(crate) enum LineKind {
    /// Nothing to fold (a redraw of idevicerestore's progress bar, or a line no parser
    /// understood): counted, nothing else.
    Counted,
    /// The unified-log export's trailer line.
    ExportTrailer,
    Parsed {
        /// The tool the line's prefix names, when the line said anything.
        tool: Option<Tool>,
        /// The parser family that read the line.
        family: Option<Family>,
        source: Source,
        /// The time prefix (cut to [`EVENT_TIME`]) in [`RegionReading::text`].
        time: Option<Range<usize>>,
        /// The message (cut to [`EVENT_TEXT`]) in [`RegionReading::text`].
        body: Range<usize>,
        /// The line's signals in [`RegionReading::signals`].
        signals: Range<usize>,
        /// A line only the start of a run prints ([`opens_run`]).
        opens_run: bool,
    },
}

/// Everything read from one region, in line order. Reusable: [`read_region`] clears it.
#[derive(Debug, Default)]
pub(crate) struct RegionReading {
    pub lines: Vec<LineReading>,
    pub signals: Vec<Signal>,
    /// Times and bodies of the lines, back to back.
    pub text: String,
    /// Line terminators (`\n`) in the region.
    pub newlines: u64,
}

/// A time or body of a [`LineReading`], given [`RegionReading::text`].
pub(crate) fn text_of<'a>(text: &'a str, r: &Range<usize>) -> &'a str {
    text.get(r.clone()).unwrap_or("")
}

impl RegionReading {
    fn clear(&mut self) {
        self.lines.clear();
        self.signals.clear();
        self.text.clear();
        self.newlines = 0;
    }

    fn push_text(&mut self, s: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(s);
        start..self.text.len()
    }
}

/// Scratch space one reader keeps between regions: the signature matches of the walkers
/// and the joined text of wrapped lines.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    found: [Vec<Found>; PARTS],
    join: Vec<u8>,
}

/// Read a region of whole lines: scan for signatures, split out the matching lines and parse
/// them. `out` is cleared first.
pub(crate) fn read_region(region: &[u8], scratch: &mut Scratch, out: &mut RegionReading) {
    let m = matcher();
    m.scan(region, &mut scratch.found);
    let mut found = std::mem::take(&mut scratch.found[0]);
    for f in &scratch.found[1..] {
        found.extend_from_slice(f);
    }
    let mut next = 0;
    read_matches(region, scratch, out, |from| {
        // The first match at or after `from` (`from` only grows).
        while found.get(next).is_some_and(|f| f.start < from) {
            next += 1;
        }
        found.get(next).copied()
    });
    scratch.found[0] = found;
}

/// Split out, join and read the lines of `region` that `next_match(from)` (the first signature
/// match starting at or after `from`: its start and pattern id) leads to. `out` is cleared
/// first.
fn read_matches(
    region: &[u8],
    scratch: &mut Scratch,
    out: &mut RegionReading,
    mut next_match: impl FnMut(usize) -> Option<Found>,
) {
    out.clear();
    let m = matcher();
    // Validate the region once rather than each matched line (a dense log matches most).
    let region_text = std::str::from_utf8(region).ok();
    let mut consumed = 0usize;
    let mut counted_to = 0usize;
    let mut lines_before = 0u64;
    let mut search_from = 0usize;
    // Resume the search after each line read: the rest of a matched line is not scanned.
    while let Some(found) = next_match(search_from) {
        let (mut at, pattern) = (found.start, found.pattern);
        let hint = m.families.get(pattern).copied().flatten();
        search_from = at + 1;
        if at < consumed {
            continue;
        }
        if pattern == m.continuation {
            // The line before this newline is a wrapped line's first part.
            let mut p = at;
            if p > 0 && region[p - 1] == b'\r' {
                p -= 1;
            }
            if p == 0 || region[p - 1] == b'\n' || p <= consumed {
                continue;
            }
            at = p - 1;
        }
        let mut start = line_start(region, at);
        // A continuation whose first part did not match: go back to the first part.
        while start > consumed && is_continuation(&region[start..]) {
            let prev_end = terminator_start_before(region, start);
            let prev_start = line_start(region, prev_end);
            if prev_start < consumed {
                break;
            }
            start = prev_start;
            if prev_end == prev_start {
                break;
            }
        }
        if start < consumed {
            continue;
        }
        let mut end = if pattern == m.continuation {
            line_end(region, at)
        } else {
            found.line_end
        };
        let mut next = after_terminator(region, end);
        let mut joined = false;
        while next < region.len() && is_continuation(&region[next..]) {
            if !joined {
                scratch.join.clear();
                scratch.join.extend_from_slice(&region[start..end]);
                joined = true;
            }
            let cend = line_end(region, next);
            let piece = &region[next..cend];
            let trimmed = piece.iter().position(|&b| b != b' ').unwrap_or(piece.len());
            if scratch.join.len() < JOIN_CAP {
                scratch.join.extend_from_slice(&piece[trimmed..]);
            }
            end = cend;
            next = after_terminator(region, end);
        }
        lines_before += count_newlines(&region[counted_to..start]);
        let line = lines_before + 1;
        if joined {
            // A joined line is read without the hint: its signature may sit in any piece.
            read_line(line, &scratch.join, None, out);
        } else {
            match region_text.and_then(|t| t.get(start..end)) {
                Some(text) => read_text(line, Cow::Borrowed(text), hint, out),
                None => read_line(line, &region[start..end], hint, out),
            }
        }
        // Count past the line itself: cut at its terminator it holds no `\n`; joined, it
        // holds its continuations' terminators. (The next count starts at its end.)
        if joined {
            lines_before += count_newlines(&region[start..end]);
        }
        counted_to = end;
        consumed = end.max(at + 1);
        search_from = consumed;
    }
    lines_before += count_newlines(&region[counted_to..]);
    out.newlines = lines_before;
}

fn read_line(line: u64, raw: &[u8], hint: Option<Family>, out: &mut RegionReading) {
    let text = match std::str::from_utf8(raw) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(raw),
    };
    read_text(line, text, hint, out);
}

fn read_text(line: u64, text: Cow<'_, str>, hint: Option<Family>, out: &mut RegionReading) {
    let norm = prefix::normalise(&text);
    if is_progress_bar(&norm) {
        out.lines.push(LineReading {
            line,
            kind: LineKind::Counted,
        });
        return;
    }
    let p = prefix::strip_prefixes(&norm);
    if p.export_trailer {
        out.lines.push(LineReading {
            line,
            kind: LineKind::ExportTrailer,
        });
        return;
    }
    let first_signal = out.signals.len();
    let family = formats::read_hinted(&p, hint, &mut out.signals);
    let said_something = family.is_some() || out.signals.len() > first_signal;
    if !said_something {
        out.lines.push(LineReading {
            line,
            kind: LineKind::Counted,
        });
        return;
    }
    let source = match family {
        Some(Family::Restored) => Source::Device,
        Some(Family::Wrapper) => Source::Wrapper,
        _ => p.source,
    };
    let time = p.time.as_deref().map(|t| out.push_text(cut(t, EVENT_TIME)));
    let body = out.push_text(cut(&p.body, EVENT_TEXT));
    out.lines.push(LineReading {
        line,
        kind: LineKind::Parsed {
            tool: p.tool,
            family,
            source,
            time,
            body,
            signals: first_signal..out.signals.len(),
            opens_run: family.is_some() && opens_run(&p.body),
        },
    });
}

/// A line only the start of a run prints: idevicerestore's banner (`idevicerestore 1.0.0-…`),
/// the Apple restore library's `restore library built …` header, the 3uTools banner. A paste
/// holding one of these after a verdict holds another attempt.
fn opens_run(body: &str) -> bool {
    let version_follows = |rest: &str| rest.as_bytes().first().is_some_and(u8::is_ascii_digit);
    body.strip_prefix("idevicerestore ")
        .is_some_and(version_follows)
        || body.starts_with("restore library built")
        || body.strip_prefix("3uTools ").is_some_and(version_follows)
}

fn count_newlines(bytes: &[u8]) -> u64 {
    if bytes.len() < 256 {
        bytes.iter().filter(|&&b| b == b'\n').count() as u64
    } else {
        memchr::memchr_iter(b'\n', bytes).count() as u64
    }
}

fn line_start(region: &[u8], at: usize) -> usize {
    memchr::memrchr2(b'\n', b'\r', &region[..at.min(region.len())]).map_or(0, |i| i + 1)
}

fn line_end(region: &[u8], at: usize) -> usize {
    memchr::memchr2(b'\n', b'\r', &region[at.min(region.len())..]).map_or(region.len(), |i| at + i)
}

/// Index just past the terminator at `end` (`\r\n`, `\n` or `\r`).
fn after_terminator(region: &[u8], end: usize) -> usize {
    let mut i = end;
    if i < region.len() && region[i] == b'\r' {
        i += 1;
    }
    if i < region.len() && region[i] == b'\n' {
        i += 1;
    }
    i
}

/// The end of the previous line's text, given the start of a line.
fn terminator_start_before(region: &[u8], start: usize) -> usize {
    let mut i = start;
    if i > 0 && region[i - 1] == b'\n' {
        i -= 1;
    }
    if i > 0 && region[i - 1] == b'\r' {
        i -= 1;
    }
    i
}

fn is_continuation(line: &[u8]) -> bool {
    line.len() > CONTINUATION_INDENT
        && line[..CONTINUATION_INDENT].iter().all(|&b| b == b' ')
        && line[CONTINUATION_INDENT..]
            .iter()
            .find(|&&b| b != b' ')
            .is_some_and(|&b| b != b'\n' && b != b'\r')
}

/// `[=====     ]  45.0%` redraws of idevicerestore's progress bar.
fn is_progress_bar(s: &str) -> bool {
    let t = s.trim();
    t.ends_with('%') && has!(t, "[=") && t.contains(']') && t.len() < 90
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one search per resume point (the reference) reads from `region`.
    fn read_with_one_search(region: &[u8]) -> String {
        let m = matcher();
        let mut out = RegionReading::default();
        read_matches(region, &mut Scratch::default(), &mut out, |from| {
            m.find(region, from)
                .map(|(start, pattern)| Found::at(region, start, pattern))
        });
        format!("{out:?}")
    }

    fn read_with_walkers(region: &[u8]) -> String {
        let mut out = RegionReading::default();
        read_region(region, &mut Scratch::default(), &mut out);
        format!("{out:?}")
    }

    /// Pieces of restore logs and of what sits around them: signatures, line terminators of
    /// all kinds, continuation indents, blank runs, time prefixes, words, invalid UTF-8.
    fn piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let mut fixed: Vec<Vec<u8>> = crate::signatures()
            .into_iter()
            .map(String::into_bytes)
            .collect();
        for s in [
            "\n",
            "\r\n",
            "\r",
            "\n               ",
            "               ",
            " ",
            "[14:02:11.0412-GMT]{3>6} ",
            "2024-03-11 14:22:07.123456+0100 ",
            "Checkpoint completed id: 0x60D (wait_for_storage) result=0",
            "Waiting for NAND (28)",
            "word ",
            "> ",
            "\u{1b}[31m",
            "(",
            "0x",
        ] {
            fixed.push(s.as_bytes().to_vec());
        }
        prop_oneof![
            8 => proptest::sample::select(fixed),
            1 => proptest::collection::vec(any::<u8>(), 0..6),
        ]
    }

    #[test]
    fn the_walkers_find_what_one_search_finds_in_the_fixtures() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut all = Vec::new();
        for entry in std::fs::read_dir(dir).expect("fixtures directory") {
            let path = entry.expect("fixture entry").path();
            if path.extension().is_some_and(|e| e == "log" || e == "txt") {
                let bytes = std::fs::read(&path).expect("fixture readable");
                assert_eq!(
                    read_with_walkers(&bytes),
                    read_with_one_search(&bytes),
                    "{}",
                    path.display()
                );
                all.extend_from_slice(&bytes);
            }
        }
        assert!(all.len() > SPLIT_MIN * 4, "the fixtures make a long region");
        // Every fixture end to end: a long region whose parts are read by different walkers.
        assert!(
            split_points(&all)[..PARTS].iter().all(|&b| b < all.len()),
            "the long region is split among all the walkers"
        );
        assert_eq!(read_with_walkers(&all), read_with_one_search(&all));
    }

    #[test]
    fn idle_bytes_never_match() {
        // An idle walker steps through `IDLE` from any state it may be left in: it is back
        // in the start state after one byte and stays there.
        let t = &matcher().table;
        let plain = (0..FIRST_MATCH).step_by(t.stride as usize);
        let matching = (0..t.matches.len() as u32).map(|j| FIRST_MATCH + j * t.stride);
        for state in plain.chain(matching) {
            assert_eq!(t.step(state, IDLE[0]), t.start);
        }
        assert!(IDLE.iter().all(|&b| b == IDLE[0]));
    }

    #[test]
    fn an_indented_paste_is_split_too() {
        // A forum's code block indents every line by four spaces: still split, same
        // reading.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "tests/fixtures/forum_code_block_last_20_lines_idevicerestore_2022_fdr_recover_53_no_device_identity.log",
        );
        let block = std::fs::read(path).expect("fixture readable");
        let mut region = Vec::new();
        while region.len() < SPLIT_MIN * 3 {
            region.extend_from_slice(&block);
        }
        assert!(
            split_points(&region)[..PARTS]
                .iter()
                .all(|&b| b < region.len())
        );
        assert_eq!(read_with_walkers(&region), read_with_one_search(&region));
    }

    #[test]
    fn a_continuation_at_a_split_does_not_split_its_line() {
        // The middle falls among continuation lines: the split moves past them, and the
        // wrapped line is read whole.
        let mut region = Vec::new();
        while region.len() < SPLIT_MIN {
            region.extend_from_slice(b"2024-03-11 14:22:07 filler line without anything\n");
        }
        region.extend_from_slice(b"ERROR: Unable to restore device, the line goes on\n");
        for _ in 0..200 {
            region.extend_from_slice(b"               and on, wrapped at 80 columns\n");
        }
        region.extend_from_slice(b"Status: Restore Finished\n");
        let status = region.len() - b"Status: Restore Finished\n".len();
        let bounds = split_points(&region);
        assert!(bounds.contains(&status), "{bounds:?}");
        for &b in &bounds[1..] {
            assert!(b == region.len() || region[b - 1] == b'\n');
            assert!(!region[b..].starts_with(&[b' '; CONTINUATION_INDENT]));
        }
        assert_eq!(read_with_walkers(&region), read_with_one_search(&region));
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(400))]
        /// The walkers' scan reads exactly what one search per resume point reads, on any mix
        /// of log pieces, long enough (often) to be split between the walkers.
        #[test]
        fn the_walkers_find_what_one_search_finds(
            pieces in proptest::collection::vec(piece(), 0..1500)
        ) {
            let region = pieces.concat();
            proptest::prop_assert_eq!(
                read_with_walkers(&region),
                read_with_one_search(&region)
            );
        }
    }
}
