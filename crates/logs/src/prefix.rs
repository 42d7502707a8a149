//! Normalising one line and peeling the prefixes of every known format off it.
//!
//! Order of work (log_formats.md §0.2): ANSI escapes, issue-thread quote marks (`> `), HTML
//! entities, then the outer prefixes: unified-log JSON, dated prefixes (Windows iTunes,
//! syslog style, pymobiledevice3, quoting GUI wrappers), the device log's `[..-GMT]{a>b}`,
//! Apple's `[HH:MM:SS.ffff]`, the 3uTools/iMazing `HH:MM:SS.mmm: ` (stacked), and the
//! idevicerestore 2025 log file's `HH:MM:SS.mmm <Level>`.

use crate::model::{Source, Tool};
use crate::text::{digits_len, find_byte, is_date, is_hms};
use std::borrow::Cow;

/// A line with its prefixes taken off.
#[derive(Debug, Clone, PartialEq)]
pub struct Prefixed<'a> {
    /// The message text.
    pub body: Cow<'a, str>,
    /// The time prefix as printed.
    pub time: Option<Cow<'a, str>>,
    pub source: Source,
    /// The format the prefix belongs to, if the prefix alone says it.
    pub tool: Option<Tool>,
    /// A GUI wrapper's own line (3uTools: one extra leading space after the prefix).
    pub wrapper_own: bool,
    /// The unified-log trailer line.
    pub export_trailer: bool,
    /// pymobiledevice3 logged the line at `ERROR` or `CRITICAL` (the level word is taken off
    /// the body): a line no parser understands is then still the tool reporting a failure.
    pub error_level: bool,
}

/// Clean up one raw line: ANSI colour codes, `> ` quote marks, HTML entities, trailing space.
pub fn normalise(line: &str) -> Cow<'_, str> {
    let mut text: Cow<'_, str> = Cow::Borrowed(line.trim_end());
    // One SIMD pass for the two rare bytes (ESC, `&`) instead of two `str::contains`.
    let Some(first_rare) = memchr::memchr2(0x1b, b'&', text.as_bytes()) else {
        return normalise_quotes(text);
    };
    if text.as_bytes()[first_rare] == 0x1b || memchr::memchr(0x1b, text.as_bytes()).is_some() {
        text = Cow::Owned(strip_ansi(&text));
    }
    text = normalise_quotes(text);
    if let Some(decoded) = decode_entities(&text) {
        text = Cow::Owned(decoded);
    }
    text
}

/// The HTML entities that issue threads and mail leave in a pasted log (`&gt;`, `&lt;`,
/// `&quot;`, `&#39;`, `&amp;`) decoded in one pass; `None` when there are none.
///
/// The same as replacing each entity in turn, `&amp;` last: two entities never overlap (each
/// holds one `&`, its first byte) and no replacement creates a new entity (none contains
/// `>`, `<`, `"` or `'`), so decoding left to right in one pass gives the same text, and
/// `&amp;gt;` still becomes `&gt;`.
fn decode_entities(text: &str) -> Option<String> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    for at in memchr::memchr_iter(b'&', text.as_bytes()) {
        if at < copied {
            continue;
        }
        let rest = &text.as_bytes()[at..];
        let (len, decoded) = if rest.starts_with(b"&gt;") {
            (4, '>')
        } else if rest.starts_with(b"&lt;") {
            (4, '<')
        } else if rest.starts_with(b"&quot;") {
            (6, '"')
        } else if rest.starts_with(b"&#39;") {
            (5, '\'')
        } else if rest.starts_with(b"&amp;") {
            (5, '&')
        } else {
            continue;
        };
        let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
        buf.push_str(&text[copied..at]);
        buf.push(decoded);
        copied = at + len;
    }
    let mut out = out?;
    out.push_str(&text[copied..]);
    Some(out)
}

/// Quote marks of issue threads and mail: "> ", ">> ", "> > ".
fn normalise_quotes(text: Cow<'_, str>) -> Cow<'_, str> {
    let lead = text
        .bytes()
        .position(|b| b != b' ' && b != b'\t')
        .unwrap_or(text.len());
    if text.as_bytes().get(lead) != Some(&b'>') {
        return text;
    }
    let trimmed = &text[lead..];
    if !trimmed.starts_with(">>>") {
        let mut rest = trimmed;
        while let Some(r) = rest.strip_prefix('>') {
            rest = r.strip_prefix(' ').unwrap_or(r);
        }
        return Cow::Owned(rest.to_string());
    }
    text
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // CSI: parameters then one final byte in @..~
                for c2 in chars.by_ref() {
                    if ('@'..='~').contains(&c2) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Peel every known prefix off a normalised line.
pub fn strip_prefixes(line: &str) -> Prefixed<'_> {
    let mut p = Prefixed {
        body: Cow::Borrowed(line),
        time: None,
        source: Source::Host,
        tool: None,
        wrapper_own: false,
        export_trailer: false,
        error_level: false,
    };
    // A paste site's or `cat -n`'s line number goes first: it sits outside every other layer.
    let line = paste_line_number(line).unwrap_or(line);
    let t = line.trim_start();
    if t.starts_with('{')
        && let Some(json) = unified_log_json(t)
    {
        return json;
    }
    let mut rest: &str = t;
    // Up to a few layers: a wrapper around a library line around a device line.
    for _ in 0..4 {
        let b = rest.as_bytes();
        if is_date(b) {
            if let Some(next) = dated(rest, &mut p) {
                rest = next;
                continue;
            }
            break;
        }
        if b.first() == Some(&b'[')
            && let Some(close) = loose_bracketed_date(b)
        {
            // `[2022-2-7 10:10:17]` (a wrapper's date without leading zeros), glued to the text.
            p.time = Some(Cow::Borrowed(&rest[1..close]));
            rest = rest[close + 1..].trim_start();
            continue;
        }
        if b.first() == Some(&b'[') && b.len() > 10 && is_hms(&b[1..]) {
            // [HH:MM:SS.ffff-GMT]{A>B} (device) or [HH:MM:SS.ffff] (Apple library)
            // `]` and `}` are ASCII: memchr finds the byte index `str::find` would.
            if let Some(close) = memchr::memchr(b']', b) {
                let inner = &rest[1..close];
                let after = &rest[close + 1..];
                if let Some(t) = inner.strip_suffix("-GMT") {
                    let mut time = String::with_capacity(t.len() + 4);
                    time.push_str(t);
                    time.push_str(" GMT");
                    p.time = Some(Cow::Owned(time));
                    p.source = Source::Device;
                    p.tool = Some(Tool::Restored);
                    let after = if after.starts_with('{') {
                        memchr::memchr(b'}', after.as_bytes())
                            .map(|i| &after[i + 1..])
                            .unwrap_or(after)
                    } else {
                        after
                    };
                    rest = after.trim_start();
                    continue;
                }
                if inner.len() <= 16
                    && inner
                        .bytes()
                        .all(|c| c.is_ascii_digit() || c == b':' || c == b'.')
                {
                    p.time = Some(Cow::Borrowed(inner));
                    if p.tool.is_none() {
                        p.tool = Some(Tool::Itunes);
                    }
                    rest = after.strip_prefix(' ').unwrap_or(after);
                    continue;
                }
            }
            break;
        }
        if is_hms(b) {
            // HH:MM:SS.mmm: (wrapper) or HH:MM:SS.mmm <Level> (idevicerestore 2025 log file)
            let mut i = 8;
            if b.get(8) == Some(&b'.') {
                i = 9 + digits_len(&b[9..]);
            }
            if b.get(i) == Some(&b':') && b.get(i + 1) == Some(&b' ') {
                p.time = Some(Cow::Borrowed(&rest[..i]));
                p.tool = Some(Tool::ThreeUTools);
                p.source = Source::Host;
                let mut after = &rest[i + 2..];
                // Stacked empty prefixes: "12:00:01.100: 12:00:01.151: ..."
                loop {
                    let ab = after.as_bytes();
                    if is_hms(ab) {
                        let mut j = 8;
                        if ab.get(8) == Some(&b'.') {
                            j = 9 + digits_len(&ab[9..]);
                        }
                        if ab.get(j) == Some(&b':')
                            && (ab.get(j + 1) == Some(&b' ') || ab.len() == j + 1)
                        {
                            p.time = Some(Cow::Borrowed(&after[..j]));
                            after = after.get(j + 2..).unwrap_or("");
                            continue;
                        }
                    }
                    break;
                }
                if after.starts_with(' ') && !after.starts_with("  ") {
                    p.wrapper_own = true;
                    p.source = Source::Wrapper;
                }
                rest = after.trim_start();
                continue;
            }
            let after = rest[i..].trim_start();
            if let Some(lvl_end) = level_tag(after) {
                p.time = Some(Cow::Borrowed(&rest[..i]));
                p.tool = Some(Tool::Idevicerestore);
                rest = after[lvl_end..].trim_start();
                continue;
            }
            break;
        }
        if b.first() == Some(&b'S')
            && let Some(r) = rest.strip_prefix("SYSLOG: ")
        {
            p.source = Source::Device;
            // "<Mon> <DD> <HH:MM:SS> localhost <proc>[<pid>] <Level>: <text>"
            rest = match find_lit!(r, "]: ").or_else(|| find_lit!(r, "> ")) {
                Some(_) => match find_lit!(r, ">: ") {
                    Some(i) => &r[i + 3..],
                    None => find_lit!(r, "]: ").map(|i| &r[i + 3..]).unwrap_or(r),
                },
                None => r,
            };
            continue;
        }
        break;
    }
    if !std::ptr::eq(rest, t) {
        p.body = Cow::Borrowed(rest);
    } else {
        p.body = Cow::Borrowed(t);
    }
    p
}

/// `[Y-M-D H:MM:SS]` with one or two digits for the month, day and hour: the index of `]`.
fn loose_bracketed_date(b: &[u8]) -> Option<usize> {
    let mut i = 1;
    let number = |i: &mut usize, min: usize, max: usize, then: u8| -> Option<()> {
        let d = digits_len(b.get(*i..)?);
        ((min..=max).contains(&d) && b.get(*i + d) == Some(&then)).then(|| *i += d + 1)
    };
    number(&mut i, 4, 4, b'-')?;
    number(&mut i, 1, 2, b'-')?;
    number(&mut i, 1, 2, b' ')?;
    number(&mut i, 1, 2, b':')?;
    number(&mut i, 2, 2, b':')?;
    number(&mut i, 2, 2, b']')?;
    Some(i - 1)
}

/// The longest line number a paste can carry (ten million lines is far beyond any paste).
const LINE_NUMBER_DIGITS: usize = 7;

/// The text after a line number that a paste added in front of every line, or `None` when the
/// line does not start with one in a known shape:
///
/// - `cat -n`: the number right-aligned in 6 columns, then a tab (`     1\t...`,
///   `  1548\t...`); numbers of 7 digits and more fill the columns and follow with the tab.
///   Decided on shape alone: no tool writes a line that starts with spaces, digits and a tab
///   that add up to exactly six columns.
/// - pastebin and rendered ordered lists: `N. ` (a number without a leading zero, a dot and one
///   space) and then text. `12:00:01.100: ` (wrapper times), `0: AMRestoreErrorDomain/...`
///   (error chains), `1.5 GB`, `100.0%` and `Uploading:  100.0` do not have that shape. A
///   numbered item in prose loses only its number, which no parser reads.
/// - code views of paste sites and forges, and `bat`: `N | ` or `N │ ` (the number may be
///   right-aligned with spaces and followed by up to three, as `bat` pads its column; then the
///   bar and one space; a bar alone is an empty line). No restore tool starts a line with a
///   number and a bar.
/// - `grep -n` / `rg -n`: `N:` glued to the line (`58:Checkpoint 1548 ...`). The time prefixes
///   of the logs also start with digits and a colon, so the shape is strict: the number has no
///   leading zero and no spaces before it, and what follows the colon is either a character
///   that is neither a digit nor a blank (`12:34:56` goes on with a digit; an error chain
///   `0: AMRestoreErrorDomain/...` with a space), or a whole time or date prefix
///   (`812:10:41:23.411 <Error> ...` for a grep of a 2025 log file; `16:12:02.176: ...` is not
///   one, `12:02.176` being no `HH:MM:SS`).
/// - numbered pastes (`nl -s': '`, editors' "copy with line numbers"): `N: ` and then text,
///   except a device error chain's element `N: <Word>Domain/<code>: ...`, which has exactly
///   that shape and stays whole.
///
/// A line number is decided per line, like every other prefix (regions of one log may be read
/// on different threads, so a run of consecutive numbers cannot be asked for): every shape
/// above is strict enough on its own, and the near misses are tested below.
fn paste_line_number(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    // Most lines start with a letter, `[`, `<` or a date: one byte rules them out.
    match b.first() {
        Some(b'1'..=b'9') | Some(b' ') => {}
        _ => return None,
    }
    let spaces = b.iter().take_while(|&&c| c == b' ').count();
    let digits = digits_len(&b[spaces..]);
    if digits == 0 || digits > LINE_NUMBER_DIGITS || b[spaces] == b'0' {
        return None;
    }
    let end = spaces + digits;
    match b.get(end) {
        Some(b'\t') if spaces + digits == 6 || (spaces == 0 && digits > 6) => line.get(end + 1..),
        Some(b'.') if spaces <= 6 && b.get(end + 1) == Some(&b' ') => {
            let rest = line.get(end + 2..)?;
            // `N. ` and only blanks: an empty numbered line, nothing to read.
            (!rest.trim_start().is_empty()).then_some(rest)
        }
        Some(b' ') if spaces <= 6 => bar_numbered(&line[end..]),
        Some(b':') if spaces == 0 => colon_numbered(&line[end + 1..]),
        _ => None,
    }
}

/// After `N`: one to three spaces (`bat` pads its column), then `| text` or `│ text` (a bar
/// alone is an empty line: nothing to read).
fn bar_numbered(after: &str) -> Option<&str> {
    let pad = after.bytes().take_while(|&c| c == b' ').count();
    if !(1..=3).contains(&pad) {
        return None;
    }
    let after = &after[pad..];
    let rest = after
        .strip_prefix('|')
        .or_else(|| after.strip_prefix('\u{2502}'))?;
    let text = rest.strip_prefix(' ')?;
    (!text.trim_start().is_empty()).then_some(text)
}

/// After `N:`: the line a grep printed (`N:text`) or a numbered paste's (`N: text`).
fn colon_numbered(after: &str) -> Option<&str> {
    let b = after.as_bytes();
    match b.first()? {
        b'0'..=b'9' => (is_hms(b) || is_date(b)).then_some(after),
        b'\t' => Some(after),
        b' ' => {
            let text = &after[1..];
            let first = *text.as_bytes().first()?;
            if first == b' ' || first == b'\t' || is_error_chain_element(text) {
                return None;
            }
            Some(text)
        }
        _ => Some(after),
    }
}

/// `AMRestoreErrorDomain/35: ...`, `IOKitErrorDomain/e00002d6: ...`: an element of the device's
/// `restore failed with CFError:` chain after its `N: ` (log_formats.md §3.2).
fn is_error_chain_element(text: &str) -> bool {
    let word_len = text
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
        .count();
    let word = &text[..word_len];
    word.ends_with("Domain") && text.as_bytes().get(word_len) == Some(&b'/')
}

/// `<Error>`, `<Warning>`, `<Notice>`, `<Info>`, `<Verbose>`, `<Debug>`: the end index.
fn level_tag(s: &str) -> Option<usize> {
    for tag in [
        "<Error>",
        "<Warning>",
        "<Notice>",
        "<Info>",
        "<Verbose>",
        "<Debug>",
    ] {
        if s.starts_with(tag) {
            return Some(tag.len());
        }
    }
    None
}

/// Lines that start with `YYYY-MM-DD HH:MM:SS...`: returns the rest after the prefix.
fn dated<'a>(s: &'a str, p: &mut Prefixed<'a>) -> Option<&'a str> {
    let b = s.as_bytes();
    if b.len() < 19 || !(b[10] == b' ' || b[10] == b'T') || !is_hms(&b[11..]) {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1 + digits_len(&b[i + 1..]);
    }
    // time-zone offset +0100 / Z
    if matches!(b.get(i), Some(b'+') | Some(b'-')) && digits_len(&b[i + 1..]) >= 4 {
        i += 1 + digits_len(&b[i + 1..]);
    } else if b.get(i) == Some(&b'Z') {
        i += 1;
    }
    let time = &s[..i];
    let rest = &s[i..];
    // Windows iTunes: " [pid:tid]: "
    if let Some(r) = rest.strip_prefix(" [")
        && let Some(close) = find_lit!(r, "]: ")
    {
        let inner = &r[..close];
        if find_byte(inner, b':').is_some()
            && inner.bytes().all(|c| c.is_ascii_hexdigit() || c == b':')
        {
            p.time = Some(Cow::Borrowed(time));
            p.tool = Some(Tool::Itunes);
            return Some(&r[close + 3..]);
        }
    }
    let rest_t = rest.trim_start();
    // A GUI wrapper that quoted every line: YYYY-MM-DD HH:MM:SS.mmm "<text>\n"
    if let Some(q) = rest_t.strip_prefix('"') {
        let q = q.strip_suffix('"').unwrap_or(q);
        let q = q.strip_suffix("\\n").unwrap_or(q);
        p.time = Some(Cow::Borrowed(time));
        return Some(q);
    }
    // syslog style: "localhost <process>[<pid>]: (<sender>) [<sub>:<cat>] <message>"
    // pymobiledevice3: "<host> <logger>[<pid>] <LEVEL> <message>"
    // device unified log: "restored_external[<pid>:<tid>] RestoreLog: <message>"
    let window = crate::text::cut(rest_t, 120);
    let mut found = None;
    for open in memchr::memchr_iter(b'[', window.as_bytes()) {
        let inner = &window[open + 1..];
        let d = digits_len(inner.as_bytes());
        if d == 0 {
            continue;
        }
        let mut j = d;
        if inner.as_bytes().get(j) == Some(&b':') {
            j += 1 + inner.as_bytes()[j + 1..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
        }
        if inner.as_bytes().get(j) == Some(&b']') {
            found = Some((open, open + 1 + j));
            break;
        }
    }
    if let Some((open, close)) = found {
        let before = rest_t[..open].trim();
        let process = if before.starts_with("localhost ")
            || find_byte(before, b' ').is_some() && !before.starts_with("restored")
        {
            before
                .split_once(' ')
                .map(|(_, p)| p.trim())
                .unwrap_or(before)
        } else {
            before
        };
        p.time = Some(Cow::Borrowed(time));
        let mut msg = rest_t[close + 1..].trim_start();
        msg = msg.strip_prefix(':').unwrap_or(msg).trim_start();
        if process.starts_with("restored") || process == "libMobileGestalt" || process == "asr" {
            p.source = Source::Device;
            p.tool = p.tool.or(Some(Tool::Restored));
        } else if has!(process, "AMPDevices") || process == "MobileDeviceUpdater" {
            p.tool = Some(Tool::Finder);
        } else if has!(process, "Configurator") || process == "cfgutil" {
            p.tool = Some(Tool::AppleConfigurator);
        } else if process.starts_with("pymobiledevice3")
            || process.starts_with("deleo")
            || has!(process, "-pymobiledevice3.")
        {
            // (`Task-1-pymobiledevice3.restore.restore`: asyncio's task name before the logger)
            // Python restore tools derived from idevicerestore: design.md §6 files them under
            // `futurerestore` ("other restore tools built on idevicerestore"), as
            // log_formats.md §2 does.
            p.tool = Some(Tool::Futurerestore);
        }
        // (sender)
        if msg.starts_with('(')
            && let Some(c) = find_lit!(msg, ") ")
        {
            msg = &msg[c + 2..];
        }
        // [subsystem:category]
        if msg.starts_with('[')
            && !msg.starts_with("[0")
            && let Some(c) = find_lit!(msg, "] ")
            && find_byte(&msg[..c], b':').is_some()
        {
            msg = &msg[c + 2..];
        }
        // pymobiledevice3 level word (the first letter rules out the five at once)
        if matches!(
            msg.as_bytes().first(),
            Some(b'D' | b'I' | b'W' | b'E' | b'C')
        ) {
            for lvl in ["DEBUG ", "INFO ", "WARNING ", "ERROR ", "CRITICAL "] {
                if let Some(m) = msg.strip_prefix(lvl) {
                    msg = m;
                    p.error_level = matches!(lvl, "ERROR " | "CRITICAL ")
                        && p.tool == Some(Tool::Futurerestore);
                    break;
                }
            }
        }
        if let Some(m) = msg.strip_prefix("RestoreLog: ") {
            msg = m;
        }
        return Some(msg);
    }
    None
}

/// A unified-log export line (`log show --style ndjson`).
fn unified_log_json(t: &str) -> Option<Prefixed<'_>> {
    let msg = json_string_field(t, "eventMessage");
    if msg.is_none() {
        if has!(t, "\"finished\"") && has!(t, "\"count\"") {
            return Some(Prefixed {
                body: Cow::Borrowed(""),
                time: None,
                source: Source::Host,
                tool: Some(Tool::Finder),
                wrapper_own: false,
                export_trailer: true,
                error_level: false,
            });
        }
        return None;
    }
    let process = json_string_field(t, "processImagePath");
    let tool = match process.as_deref() {
        Some(p) if has!(p, "Configurator") || p.ends_with("cfgutil") => Tool::AppleConfigurator,
        _ => Tool::Finder,
    };
    let mut body = msg.unwrap_or(Cow::Borrowed(""));
    // A Finder message may itself start with "[HH:MM:SS.ffff] ".
    let mut inner_time = None;
    if body.starts_with('[')
        && body.len() > 10
        && is_hms(&body.as_bytes()[1..])
        && let Some(close) = find_lit!(body, "] ")
    {
        inner_time = Some(body[1..close].to_string());
        body = Cow::Owned(body[close + 2..].to_string());
    }
    let time = json_string_field(t, "timestamp").or(inner_time.map(Cow::Owned));
    Some(Prefixed {
        body,
        time,
        source: Source::Host,
        tool: Some(tool),
        wrapper_own: false,
        export_trailer: false,
        error_level: false,
    })
}

/// The string value of `"key":"..."` in a JSON object line, unescaped; tolerant of a line cut
/// in the middle of the value.
pub fn json_string_field<'a>(t: &'a str, key: &str) -> Option<Cow<'a, str>> {
    // `"key"`, found without building the quoted pattern.
    let bytes = t.as_bytes();
    let mut from = 0;
    let after_key = loop {
        let at = from + memchr::memmem::find(&bytes[from..], key.as_bytes())?;
        let end = at + key.len();
        if at > 0 && bytes[at - 1] == b'"' && bytes.get(end) == Some(&b'"') {
            break end + 1;
        }
        from = at + 1;
    };
    let rest = t[after_key..].trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let bytes = rest.as_bytes();
    let mut i = 0;
    let mut has_escape = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                has_escape = true;
                i += 2;
            }
            b'"' => break,
            _ => i += 1,
        }
    }
    let raw = &rest[..i.min(rest.len())];
    if !has_escape {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push('\u{FFFD}'),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_marks_and_entities_are_removed() {
        assert_eq!(
            normalise("> > ERROR: Unable to restore device  "),
            "ERROR: Unable to restore device"
        );
        assert_eq!(
            normalise("[12:00:00.0001-GMT]{3&gt;6} CHECKPOINT"),
            "[12:00:00.0001-GMT]{3>6} CHECKPOINT"
        );
        assert_eq!(normalise("\u{1b}[31mERROR: x\u{1b}[0m"), "ERROR: x");
    }

    #[test]
    fn entities_decode_like_replacing_each_in_turn() {
        fn in_turn(s: &str) -> String {
            s.replace("&gt;", ">")
                .replace("&lt;", "<")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&")
        }
        for s in [
            "&amp;gt; &amp;amp; &&gt;; &lt;&#39;&quot;x&quot",
            "a & b",
            "&",
            "é&amp;é",
            "&gt",
        ] {
            assert_eq!(normalise(s), in_turn(s), "{s}");
        }
        assert!(matches!(normalise("a & b"), Cow::Borrowed(_)));
    }

    proptest::proptest! {
        /// Any mix of entity pieces decodes as the five replacements in turn.
        #[test]
        fn entity_pieces_decode_like_replacing_each_in_turn(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec!["&", "amp;", "gt;", "lt;", "quot;", "#39;", "x", "é", ";"]),
                0..12,
            )
        ) {
            let s = pieces.concat();
            let in_turn = s
                .replace("&gt;", ">")
                .replace("&lt;", "<")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            proptest::prop_assert_eq!(decode_entities(&s).unwrap_or_else(|| s.clone()), in_turn);
        }
    }

    #[test]
    fn device_prefix() {
        let p = strip_prefixes(
            "[14:02:11.0412-GMT]{3>6} CHECKPOINT BEGIN: RESTORED:[0x060D] wait_for_storage",
        );
        assert_eq!(
            p.body,
            "CHECKPOINT BEGIN: RESTORED:[0x060D] wait_for_storage"
        );
        assert_eq!(p.source, Source::Device);
        assert_eq!(p.time.as_deref(), Some("14:02:11.0412 GMT"));
    }

    #[test]
    fn windows_itunes_prefix() {
        let p = strip_prefixes(
            "2024-02-03 18:20:44.502 [7120:1a4c]: <Recovery Mode Device 0000021F6A3C90B0>: operation 4 progress -1",
        );
        assert_eq!(
            p.body,
            "<Recovery Mode Device 0000021F6A3C90B0>: operation 4 progress -1"
        );
        assert_eq!(p.tool, Some(Tool::Itunes));
    }

    #[test]
    fn wrapper_prefix_and_own_lines() {
        let p = strip_prefixes("11:05:12.506:  The flash is done");
        assert!(p.wrapper_own);
        assert_eq!(p.body, "The flash is done");
        let p = strip_prefixes(
            "12:00:01.100: 12:00:01.151: Started checkpoint id: 0x648 (cleanup_send_final_status)",
        );
        assert_eq!(
            p.body,
            "Started checkpoint id: 0x648 (cleanup_send_final_status)"
        );
        assert!(!p.wrapper_own);
        let p = strip_prefixes(
            "10:41:23.411   <Error> Device did not reconnect in DFU or recovery mode.",
        );
        assert_eq!(p.tool, Some(Tool::Idevicerestore));
        assert_eq!(p.body, "Device did not reconnect in DFU or recovery mode.");
    }

    #[test]
    fn paste_line_numbers_are_peeled_first() {
        // pastebin / rendered ordered list: "N. "
        let p = strip_prefixes("58. Checkpoint 1548 complete with code 14");
        assert_eq!(p.body, "Checkpoint 1548 complete with code 14");
        let p = strip_prefixes("1. idevicerestore 1.0.0-130-g6f4da5a");
        assert_eq!(p.body, "idevicerestore 1.0.0-130-g6f4da5a");
        // cat -n: right-aligned in six columns, then a tab; the layers under it still come off.
        let p = strip_prefixes(
            "    20\t[15:05:36.0790] <Restore Device 0000020A6C2F5D40>: operation 58 progress -1",
        );
        assert_eq!(
            p.body,
            "<Restore Device 0000020A6C2F5D40>: operation 58 progress -1"
        );
        assert_eq!(p.time.as_deref(), Some("15:05:36.0790"));
        let p = strip_prefixes(
            "     1\t2024-11-30 16:05:12.330 [8120:2c54]: restore library built Oct 14 2024",
        );
        assert_eq!(p.body, "restore library built Oct 14 2024");
        assert_eq!(p.tool, Some(Tool::Itunes));
        let p = strip_prefixes("1234567\tCheckpoint completed id: 0x60D (wait_for_storage)");
        assert_eq!(p.body, "Checkpoint completed id: 0x60D (wait_for_storage)");
        // A number over a wrapper time: both layers come off.
        let p = strip_prefixes("7. 12:00:01.151: Started checkpoint id: 0x648 (x)");
        assert_eq!(p.body, "Started checkpoint id: 0x648 (x)");
    }

    #[test]
    fn code_view_bars_and_grep_numbers_are_peeled() {
        // forge / paste-site code views and `bat`: "N | ", right-aligned, and "N │ "
        for (line, body) in [
            (
                "1 | idevicerestore 1.0.0-262-g0f1e2d3",
                "idevicerestore 1.0.0-262-g0f1e2d3",
            ),
            (
                "  9 | Updating NAND Firmware (58)",
                "Updating NAND Firmware (58)",
            ),
            (
                " 58 | ERROR: Could not read data (-256). Aborting.",
                "ERROR: Could not read data (-256). Aborting.",
            ),
            (
                "   7 \u{2502} Restore completed, status: 4013",
                "Restore completed, status: 4013",
            ),
            // bat: the number right-aligned in four columns, three spaces, the bar
            (
                "  12   \u{2502} Waiting for NAND (28)",
                "Waiting for NAND (28)",
            ),
            ("1234   \u{2502} DONE", "DONE"),
            // grep -n / rg -n: glued to the line
            (
                "58:Checkpoint 1548 complete with code 14",
                "Checkpoint 1548 complete with code 14",
            ),
            (
                "3:ERROR: Unable to restore device",
                "ERROR: Unable to restore device",
            ),
            (
                "12:[09:17:40.0288-GMT]{3>7} CHECKPOINT FAILURE:(FAILURE:1100) (null):[0x065B] x",
                "CHECKPOINT FAILURE:(FAILURE:1100) (null):[0x065B] x",
            ),
            (
                "40:\tFAILED(kBBUReturnIOError)",
                "FAILED(kBBUReturnIOError)",
            ),
            // numbered pastes: "N: text"
            (
                "14: Connected to com.apple.mobile.restored, version 15",
                "Connected to com.apple.mobile.restored, version 15",
            ),
        ] {
            assert_eq!(strip_prefixes(line).body, body, "{line:?}");
        }
        // grep -n over a time-prefixed log: the number, then the time layer.
        let p = strip_prefixes("812:10:41:23.411   <Error> Unable to restore device");
        assert_eq!(p.body, "Unable to restore device");
        assert_eq!(p.time.as_deref(), Some("10:41:23.411"));
        let p = strip_prefixes("5:16:12:58.195: Restore completed, status: 4014");
        assert_eq!(p.body, "Restore completed, status: 4014");
        assert_eq!(p.time.as_deref(), Some("16:12:58.195"));
        let p = strip_prefixes(
            "9:2024-02-03 18:20:44.502 [7120:1a4c]: <Recovery Mode Device 0000021F6A3C90B0>: operation 4 progress -1",
        );
        assert_eq!(
            p.body,
            "<Recovery Mode Device 0000021F6A3C90B0>: operation 4 progress -1"
        );
        assert_eq!(p.tool, Some(Tool::Itunes));
    }

    #[test]
    fn colon_and_bar_near_misses_keep_their_text() {
        for line in [
            // device error chains: "N: <Domain>/<code>: text"
            "0: AMRestoreErrorDomain/35: failed to recover FDR data",
            "1: AMFDRErrorDomain/193: HTTP status 403",
            "1: IOKitErrorDomain/e00002d6: (iokit/common) timeout",
            "2: RamrodErrorDomain/3: update_baseband: failed to perform next stage",
            "1: com.apple.MobileDevice.MobileRestoreDomain/fab: x",
            // a number then a blank, a second blank or nothing
            "5:",
            "5: ",
            "5:  indented",
            "5 |",
            "5 | ",
            "5 |x",
            "5 or 6 cables",
            "5    | four spaces is no code view",
            "       \u{2502} File: restore.txt",
            // times are not line numbers: digits go on after the colon, and the rest is no
            // whole HH:MM:SS or date
            "12:34:56 restore started",
            "1:23:45 restore started",
            "23:59:59.999 something",
            "08:15",
            "100:0 ratio",
        ] {
            assert_eq!(strip_prefixes(line).body, line.trim_start(), "{line:?}");
        }
        // Status lines and error chains keep what the parsers read.
        assert_eq!(strip_prefixes("Status: 6").body, "Status: 6");
        // the times of every format are still read as times, not as a grep's numbers
        let p = strip_prefixes("16:12:02.176:  3uTools 3.21.005 iTunesFlash[4408]");
        assert_eq!(p.time.as_deref(), Some("16:12:02.176"));
        assert!(p.wrapper_own);
        let p = strip_prefixes("12:00:01.100: 12:00:01.151: Started checkpoint id: 0x648 (y)");
        assert_eq!(p.time.as_deref(), Some("12:00:01.151"));
        assert_eq!(p.body, "Started checkpoint id: 0x648 (y)");
        let p = strip_prefixes("10:41:07.215    <Info> Found device in DFU mode");
        assert_eq!(p.time.as_deref(), Some("10:41:07.215"));
        assert_eq!(p.body, "Found device in DFU mode");
    }

    #[test]
    fn paste_line_number_near_misses_keep_their_text() {
        for line in [
            // error chains of the device log and restored lines that start with digits
            "0: AMRestoreErrorDomain/35: failed to recover FDR data",
            "1: AMFDRErrorDomain/193: HTTP status 403",
            // decimals, percentages, versions
            "1.5 GB free",
            "100.0%",
            "12.4 (16H81)",
            // a leading zero is no line number; nor is a number with nothing after it
            "01. Restore",
            "5.",
            "5.   ",
            // tab after a number that is not six columns wide
            "  12\tx",
            "12\tx",
            // numbered, but more than seven digits: an id, not a line number
            "12345678. x",
        ] {
            assert_eq!(strip_prefixes(line).body, line.trim_start(), "{line:?}");
        }
        // wrapper times and the 2025 log-file times are still read as times
        let p = strip_prefixes("12:00:01.100: 12:00:01.151: Started checkpoint id: 0x648 (y)");
        assert_eq!(p.time.as_deref(), Some("12:00:01.151"));
        assert_eq!(p.body, "Started checkpoint id: 0x648 (y)");
        let p = strip_prefixes("10:41:23.411   <Error> Device did not reconnect.");
        assert_eq!(p.body, "Device did not reconnect.");
        let p = strip_prefixes("2024-11-30 16:05:12.330 [8120:2c54]: iTunes: x");
        assert_eq!(p.body, "iTunes: x");
        // A numbered item in prose loses only its number, which no parser reads: what the
        // parsers find is the same with and without it.
        for item in [
            "1. I tried three cables and two computers",
            "2. Put it in DFU mode (power + volume down)",
        ] {
            let stripped = strip_prefixes(item);
            let mut with_number = Vec::new();
            let mut without = Vec::new();
            let whole = Prefixed {
                body: Cow::Borrowed(item),
                ..stripped.clone()
            };
            crate::formats::read(&whole, &mut with_number);
            crate::formats::read(&stripped, &mut without);
            assert_eq!(with_number, without, "{item:?}");
        }
    }

    #[test]
    fn ndjson_and_syslog() {
        let p = strip_prefixes(
            r#"{"timestamp":"2025-03-04 10:15:02.118422+0100","processImagePath":"/S/AMPDevicesAgent","eventMessage":"<Restore Device 0x6>: operation 28 progress -1"}"#,
        );
        assert_eq!(p.body, "<Restore Device 0x6>: operation 28 progress -1");
        assert_eq!(p.tool, Some(Tool::Finder));
        assert!(strip_prefixes(r#"{"count":6,"finished":1}"#).export_trailer);
        let p = strip_prefixes(
            "2025-03-04 10:15:02.118422+0100  localhost AMPDevicesAgent[812]: (MobileDevice) [com.apple:restore] Restore completed, status: 4013",
        );
        assert_eq!(p.body, "Restore completed, status: 4013");
        assert_eq!(p.tool, Some(Tool::Finder));
    }

    #[test]
    fn pymobiledevice3_logger_names_its_tool() {
        let p = strip_prefixes(
            "2024-06-02 16:45:05 mbp-anna pymobiledevice3.restore.restore[58231] ERROR status: failed to recover FDR data",
        );
        assert_eq!(p.body, "status: failed to recover FDR data");
        assert_eq!(p.tool, Some(Tool::Futurerestore));
        // Another Python program's logger in the same line shape names no tool.
        let p = strip_prefixes("2024-06-02 16:45:05 mbp-anna myscript.main[58231] INFO hello");
        assert_eq!(p.body, "hello");
        assert_eq!(p.tool, None);
    }
}
