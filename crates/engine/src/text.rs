//! Free-text intake: reads a person's own description of the problem ("my iphone 7+ fails with
//! error 4013 at the same percentage, tried two cables and my friend's mac, not water damaged")
//! into the structured vocabularies of design.md §6. Pure: a knowledge base in, [`Understood`]
//! out. Negations ("not water damaged", "didn't try DFU") turn a symptom into a "no" and drop a
//! "tried"; what was read is echoed back so the person can correct it.

use kb::{DeviceMatch, KnowledgeBase};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

/// What the text was read as.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Understood {
    /// The device name found ("iPhone 7 Plus").
    pub device: Option<String>,
    pub error_code: Option<i64>,
    /// `--host` vocabulary.
    pub host: Option<String>,
    /// The computer's operating system when named (`windows`, `macos`).
    pub computer_os: Option<String>,
    /// `--tried` vocabulary.
    pub tried: Vec<String>,
    /// Observation id → `yes`/`no` (or a stage for `failure_stage`).
    pub observed: BTreeMap<String, String>,
    /// How many times it failed, when said.
    pub attempts: Option<u32>,
    /// How many different cables / computers were used, when said.
    pub cables: Option<u32>,
    pub computers: Option<u32>,
    /// The person said the data is backed up or does not matter.
    pub data_expendable: bool,
    /// What was negated ("liquid_exposure", "tried dfu_restore").
    pub negated: Vec<String>,
    /// The person wants an older iOS version (downgrade, going back, leaving a beta).
    #[serde(default)]
    pub wants_downgrade: bool,
    /// `technician` when the text is a technician's note ("tech here", "on the bench", a DC
    /// supply or boot current); the `role` flag wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The person said the passcode is forgotten (or the device is disabled): unlocking it is
    /// not a step they can take.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub passcode_forgotten: bool,
    /// Bench readings named in the text: observation id → outcome (`dc_boot_current`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bench: BTreeMap<String, String>,
    /// When no one model was named but a phrase fits a few ("iPad Pro 2018": the 11-inch 1st
    /// gen or the 12.9-inch 3rd gen), those models: the person is asked which.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_candidates: Vec<String>,
    /// What the text says with a hedge ("not sure if it was dropped"): left unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hedged: Vec<String>,
}

/// What a phrase of the knowledge base says when it matches.
#[derive(Debug, Clone, PartialEq)]
enum Says {
    /// An observation's "yes" (a negation makes it "no").
    Yes(String),
    /// The same, and a negator inside the matched words makes it "no" too.
    YesUnlessNegatedInside(String),
    /// An observation's "no".
    No(String),
    /// One outcome of a multi-outcome observation (observation id, outcome).
    Outcome(String, String),
    /// A step done (its `--tried` word).
    Tried(String),
}

/// One phrase, compiled, with the contexts in which it means something else.
#[derive(Debug)]
struct Rule {
    says: Says,
    re: Regex,
    not_before: Arc<Vec<Regex>>,
    not_after: Arc<Vec<Regex>>,
    not_at: Arc<Vec<Regex>>,
}

/// A cue of `knowledge/language.toml`, compiled.
#[derive(Debug)]
struct CompiledCue {
    sets: String,
    patterns: Vec<Regex>,
    not_before: Vec<Regex>,
    not_after: Vec<Regex>,
}

/// Everything the reader needs from the knowledge base, compiled once.
#[derive(Debug)]
struct Reader {
    rules: Vec<Rule>,
    cues: Vec<CompiledCue>,
    negators: BTreeSet<String>,
    clause_words: BTreeSet<String>,
    negated_predicates: BTreeSet<String>,
    pseudo_negations: Vec<Regex>,
    hedges: Vec<Regex>,
    /// Observations some phrase can answer (what a text that names none of them is silent on).
    readable: Vec<String>,
    /// Observation ids that are bench tests (their answers go to `Understood::bench`).
    bench_tests: BTreeSet<String>,
    /// (another language's spelling, the English word), longest spelling first.
    spellings: Vec<(String, String)>,
}

impl Reader {
    /// The text as the device and error-code finders read it: other languages' spellings of
    /// the words they look for in English ("アイフォン" → "iphone", "errore" → "error"), and a
    /// run of Latin letters or digits set apart from letters of another script ("iphone7を" →
    /// "iphone7 を"; "エラー4013が" → "error 4013 が").
    fn for_identifiers(&self, t: &str) -> String {
        let mut out = t.to_string();
        for (spelling, english) in &self.spellings {
            if out.contains(spelling.as_str()) {
                out = out.replace(spelling.as_str(), &format!(" {english} "));
            }
        }
        if out.is_ascii() {
            return out;
        }
        let mut spaced = String::with_capacity(out.len() + 8);
        let mut last: Option<char> = None;
        for c in out.chars() {
            if let Some(l) = last {
                let latin = |c: char| c.is_ascii_alphanumeric();
                let other = |c: char| !c.is_ascii() && c.is_alphanumeric();
                if (latin(l) && other(c)) || (other(l) && latin(c)) {
                    spaced.push(' ');
                }
            }
            spaced.push(c);
            last = Some(c);
        }
        spaced
    }
}

/// Compile a pattern; one the knowledge base's tests would reject is skipped, never a panic.
/// Word boundaries are ASCII ones: the text is lower-cased and its phrases' words are Latin,
/// and an ASCII `\b` keeps the regex crate on its fast automata (a Unicode one does not).
fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(&ascii_boundaries(pattern)).ok()
}

/// `\b` → `(?-u:\b)`, leaving an escaped backslash (`\\b`) alone.
fn ascii_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('b') => out.push_str("(?-u:\\b)"),
                Some('w') => out.push_str("(?-u:\\w)"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn compile_all(patterns: &[String], wrap: fn(&str) -> String) -> Vec<Regex> {
    patterns.iter().filter_map(|p| compile(&wrap(p))).collect()
}

/// `not_before` patterns match at the end of the words before a phrase.
fn at_end(p: &str) -> String {
    format!("(?:{p})$")
}

/// `not_after` patterns match at the start of the words after a phrase.
fn at_start(p: &str) -> String {
    format!("^(?:{p})")
}

impl Reader {
    fn build(kb: &KnowledgeBase) -> Reader {
        let mut rules = Vec::new();
        let mut readable = BTreeSet::new();
        let mut push = |says: Says, patterns: &[String], ph: &kb::Phrases| {
            let not_before = Arc::new(compile_all(&ph.not_before, at_end));
            let not_after = Arc::new(compile_all(&ph.not_after, at_start));
            let not_at = Arc::new(compile_all(&ph.not_at, at_start));
            for p in patterns {
                if let Some(re) = compile(p) {
                    rules.push(Rule {
                        says: says.clone(),
                        re,
                        not_before: not_before.clone(),
                        not_after: not_after.clone(),
                        not_at: not_at.clone(),
                    });
                }
            }
        };
        for o in kb.observations() {
            let ph = &o.phrases;
            if ph.is_empty() {
                continue;
            }
            readable.insert(o.id.clone());
            push(Says::No(o.id.clone()), &ph.no, ph);
            push(
                Says::YesUnlessNegatedInside(o.id.clone()),
                &ph.yes_inner_negation,
                ph,
            );
            push(Says::Yes(o.id.clone()), &ph.yes, ph);
            for (outcome, patterns) in &ph.outcomes {
                push(Says::Outcome(o.id.clone(), outcome.clone()), patterns, ph);
            }
        }
        for a in kb.actions() {
            if let Some(flag) = &a.tried_flag {
                push(Says::Tried(flag.clone()), &a.phrases.yes, &a.phrases);
            }
        }
        let cues: Vec<CompiledCue> = kb
            .cues()
            .iter()
            .map(|c| CompiledCue {
                sets: c.sets.clone(),
                patterns: compile_all(&c.patterns, |p| p.to_string()),
                not_before: compile_all(&c.not_before, at_end),
                not_after: compile_all(&c.not_after, at_start),
            })
            .collect();
        if cues.iter().any(|c| c.sets.starts_with("host:")) {
            readable.insert(crate::evidence::HOST_APP.to_string());
        }
        let words = |f: fn(&kb::Language) -> &Vec<String>| -> BTreeSet<String> {
            kb.languages()
                .iter()
                .flat_map(|l| f(l).iter().cloned())
                .collect()
        };
        let regexes = |f: fn(&kb::Language) -> &Vec<String>| -> Vec<Regex> {
            kb.languages()
                .iter()
                .flat_map(|l| f(l).iter().filter_map(|p| compile(p)))
                .collect()
        };
        Reader {
            rules,
            cues,
            negators: words(|l| &l.negators),
            clause_words: words(|l| &l.clause_words),
            negated_predicates: words(|l| &l.negated_predicates),
            pseudo_negations: regexes(|l| &l.pseudo_negations),
            hedges: regexes(|l| &l.hedges),
            readable: readable.into_iter().collect(),
            bench_tests: kb
                .observations()
                .iter()
                .filter(|o| o.kind == "bench_test")
                .map(|o| o.id.clone())
                .collect(),
            spellings: {
                let mut all: Vec<(String, String)> = kb
                    .languages()
                    .iter()
                    .flat_map(|l| &l.spellings)
                    .flat_map(|(english, words)| {
                        words.iter().map(|w| (w.to_lowercase(), english.clone()))
                    })
                    .collect();
                all.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
                all
            },
        }
    }

    /// The reader of a knowledge base: the embedded one's is built once per process.
    fn of(kb: &KnowledgeBase) -> ReaderRef<'_> {
        static EMBEDDED: OnceLock<Reader> = OnceLock::new();
        if std::ptr::eq(kb, kb::kb()) {
            ReaderRef::Shared(EMBEDDED.get_or_init(|| Reader::build(kb)))
        } else {
            ReaderRef::Own(Box::new(Reader::build(kb)))
        }
    }

    /// Whether a match at `start..end` is meant otherwise, by its rule's context patterns.
    fn meant_otherwise(
        not_before: &[Regex],
        not_after: &[Regex],
        t: &str,
        start: usize,
        end: usize,
    ) -> bool {
        let before = &t[..start];
        if before.ends_with("non-") || before.ends_with("non ") {
            return true;
        }
        let before = before.trim_end();
        not_before.iter().any(|r| r.is_match(before))
            || not_after.iter().any(|r| r.is_match(&t[end..]))
    }

    /// The clause a match at `start` stands in: from the last sentence or clause punctuation
    /// before it (byte offset of its start).
    fn clause_start(t: &str, start: usize) -> usize {
        t[..start]
            .rfind(['.', ';', '!', '?', ',', '\n', '。', '、', '!', '?'])
            .map_or(0, |i| i + t[i..].chars().next().map_or(1, char::len_utf8))
    }

    /// Whether a hedge ("not sure if", "maybe") stands before `start` in its clause.
    fn hedged(&self, t: &str, start: usize, clause: usize) -> bool {
        let before = &t[clause..start];
        self.hedges.iter().any(|h| h.is_match(before))
    }

    /// Whether the words just before `start` (in the same clause) negate what follows. A
    /// negator inside a pseudo-negation ("no space left") does not count, nor one past a clause
    /// word, nor one that belongs to its own predicate ("not working, dropped").
    fn negated(&self, t: &str, start: usize, clause: usize, pseudo: &[(usize, usize)]) -> bool {
        let mut clause = &t[clause..start];
        let mut offset = start - clause.len();
        if let Some(i) = clause.rfind(" but ") {
            offset += i + 5;
            clause = &clause[i + 5..];
        }
        // Words with their byte offsets.
        let mut words: Vec<(&str, usize)> = Vec::new();
        let mut pos = 0;
        for w in clause.split_whitespace() {
            let at = clause[pos..].find(w).map_or(pos, |i| pos + i);
            pos = at + w.len();
            let word = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
            words.push((word, offset + at));
        }
        let from = words
            .iter()
            .rposition(|(w, _)| self.clause_words.contains(*w))
            .map_or(0, |i| i + 1);
        let words = &words[from..];
        let window = &words[words.len().saturating_sub(4)..];
        window.iter().enumerate().any(|(i, (w, at))| {
            *w != "did"
                && self.negators.contains(*w)
                && !pseudo.iter().any(|(s, e)| (*s..*e).contains(at))
                && !window[i + 1..]
                    .iter()
                    .any(|(x, _)| self.negated_predicates.contains(*x))
        })
    }

    /// The first cue of a kind (`host:`, `os:`, `role:`) that matches, as its value.
    /// The cue of `kind` whose first match comes earliest in the text: of two systems named,
    /// the one the person names first is usually their own ("an iBook G4 … Apple's fix was
    /// for Windows only").
    fn earliest_cue(&self, kind: &str, t: &str) -> Option<String> {
        self.cues
            .iter()
            .filter(|c| c.sets.starts_with(kind))
            .filter_map(|c| {
                c.patterns
                    .iter()
                    .filter_map(|p| {
                        p.find_iter(t)
                            .find(|m| {
                                !Reader::meant_otherwise(
                                    &c.not_before,
                                    &c.not_after,
                                    t,
                                    m.start(),
                                    m.end(),
                                )
                            })
                            .map(|m| m.start())
                    })
                    .min()
                    .map(|at| (at, c))
            })
            .min_by_key(|(at, _)| *at)
            .map(|(_, c)| c.sets[kind.len()..].to_string())
    }

    fn cue(&self, kind: &str, t: &str) -> Option<String> {
        self.cues
            .iter()
            .filter(|c| c.sets.starts_with(kind))
            .find(|c| {
                c.patterns.iter().any(|p| {
                    p.find_iter(t).any(|m| {
                        !Reader::meant_otherwise(&c.not_before, &c.not_after, t, m.start(), m.end())
                    })
                })
            })
            .map(|c| c.sets[kind.len()..].to_string())
    }
}

/// A reader, shared or built for a knowledge base made by hand.
enum ReaderRef<'a> {
    Shared(&'a Reader),
    Own(Box<Reader>),
}

impl std::ops::Deref for ReaderRef<'_> {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        match self {
            ReaderRef::Shared(r) => r,
            ReaderRef::Own(r) => r,
        }
    }
}

/// Whether a matched phrase carries its own negation ("it was not locked").
fn says_not(phrase: &str) -> bool {
    phrase
        .split_whitespace()
        .any(|w| matches!(w, "not" | "never" | "wasnt" | "isnt") || w.ends_with("n't"))
}

fn re(pattern: &'static str, slot: &'static OnceLock<Regex>) -> &'static Regex {
    slot.get_or_init(|| Regex::new(&ascii_boundaries(pattern)).expect("pattern compiles"))
}

fn number_word(w: &str) -> Option<u32> {
    match w {
        "once" | "one" | "a" => Some(1),
        "twice" | "two" => Some(2),
        "three" | "thrice" => Some(3),
        "four" => Some(4),
        "five" => Some(5),
        "six" => Some(6),
        "seven" => Some(7),
        "eight" => Some(8),
        "nine" => Some(9),
        "ten" => Some(10),
        "several" | "multiple" | "many" => Some(3),
        _ => w.parse().ok(),
    }
}

/// A version number as comparable parts ("10.3.3" → [10, 3, 3]).
fn version(v: &str) -> Vec<u32> {
    v.split('.').filter_map(|p| p.parse().ok()).collect()
}

/// Whether the text names a move from one iOS version to a lower one ("from 8.4.1 to 6.1.3",
/// "downgrading 12.5.7 to 10.3.3", "to 10.2 from 10.3 beta"). Years and model numbers are not
/// versions: a version here has a dot or follows "ios".
fn names_a_downgrade(t: &str) -> bool {
    static FROM_TO: OnceLock<Regex> = OnceLock::new();
    static TO_FROM: OnceLock<Regex> = OnceLock::new();
    let v = r"(?:ios |ipados |version |firmware )?(\d{1,2}(?:\.\d{1,2}){1,2}|ios \d{1,2})";
    let from_to = FROM_TO.get_or_init(|| {
        Regex::new(&format!(
            r"\b(?:from|on) {v}(?: \w+){{0,3}} (?:to|down to|back to|->|→) {v}"
        ))
        .expect("pattern compiles")
    });
    let to_from = TO_FROM.get_or_init(|| {
        Regex::new(&format!(r"\bto {v}(?: \w+){{0,3}} from {v}")).expect("pattern compiles")
    });
    static DOTTED: OnceLock<Regex> = OnceLock::new();
    let dotted = DOTTED.get_or_init(|| {
        Regex::new(r"\b(\d{1,2}\.\d{1,2}(?:\.\d{1,2})?) (?:to|->|→) (?:ios |ipados )?(\d{1,2}\.\d{1,2}(?:\.\d{1,2})?)\b")
            .expect("pattern compiles")
    });
    let num = |s: &str| version(s.trim_start_matches("ios "));
    from_to.captures_iter(t).any(|c| num(&c[2]) < num(&c[1]))
        || to_from.captures_iter(t).any(|c| num(&c[1]) < num(&c[2]))
        || dotted.captures_iter(t).any(|c| num(&c[2]) < num(&c[1]))
}

/// The observations the free-text reader of the embedded knowledge base can answer (what a
/// text that does not mention them is silent about).
pub fn readable_observations() -> &'static [String] {
    static IDS: OnceLock<Vec<String>> = OnceLock::new();
    IDS.get_or_init(|| Reader::of(kb::kb()).readable.clone())
}

/// Read free text.
pub fn understand(kb: &KnowledgeBase, text: &str) -> Understood {
    let t = text.to_lowercase().replace(['’', '‘'], "'");
    let reader = Reader::of(kb);
    let identifiers = reader.for_identifiers(&t);
    let (device, device_candidates) = find_device_or_candidates(kb, &identifiers);
    let mut u = Understood {
        device,
        device_candidates,
        error_code: find_error_code(kb, &identifiers),
        ..Understood::default()
    };

    // The computer's system, then the program (iTunes on which system).
    u.computer_os = reader.earliest_cue("os:", &t);
    u.host = reader.cue("host:", &t).map(|h| match h.as_str() {
        "itunes" => match u.computer_os.as_deref() {
            Some("windows") => "windows_itunes".to_string(),
            Some("macos") => "macos_itunes".to_string(),
            _ => "itunes".to_string(),
        },
        _ => h,
    });

    // Phrases of observations and steps, with negations and hedges.
    let pseudo: Vec<(usize, usize)> = reader
        .pseudo_negations
        .iter()
        .flat_map(|r| r.find_iter(&t).map(|m| (m.start(), m.end())))
        .collect();
    for rule in &reader.rules {
        for m in rule.re.find_iter(&t) {
            if m.is_empty()
                || Reader::meant_otherwise(
                    &rule.not_before,
                    &rule.not_after,
                    &t,
                    m.start(),
                    m.end(),
                )
                || rule.not_at.iter().any(|r| r.is_match(&t[m.start()..]))
            {
                continue;
            }
            let clause = Reader::clause_start(&t, m.start());
            let id = match &rule.says {
                Says::Yes(o)
                | Says::YesUnlessNegatedInside(o)
                | Says::No(o)
                | Says::Outcome(o, _) => o,
                Says::Tried(f) => f,
            };
            if reader.hedged(&t, m.start(), clause) {
                if !u.hedged.contains(id) {
                    u.hedged.push(id.clone());
                }
                continue;
            }
            let inner =
                matches!(rule.says, Says::YesUnlessNegatedInside(_)) && says_not(m.as_str());
            let neg = inner || reader.negated(&t, m.start(), clause, &pseudo);
            match (&rule.says, neg) {
                (Says::Tried(flag), false) => {
                    if !u.tried.contains(flag) {
                        u.tried.push(flag.clone());
                    }
                }
                (Says::Tried(flag), true) => {
                    let n = format!("tried {flag}");
                    if !u.negated.contains(&n) {
                        u.negated.push(n);
                    }
                }
                (Says::No(obs), _) => {
                    u.observed.entry(obs.clone()).or_insert("no".to_string());
                }
                (Says::Yes(obs) | Says::YesUnlessNegatedInside(obs), neg) => {
                    let v = if neg { "no" } else { "yes" };
                    let e = u.observed.entry(obs.clone()).or_insert(v.to_string());
                    if neg && e == "no" && !u.negated.contains(obs) {
                        u.negated.push(obs.clone());
                    }
                }
                (Says::Outcome(obs, outcome), false) => {
                    let to = if reader.bench_tests.contains(obs) {
                        &mut u.bench
                    } else {
                        &mut u.observed
                    };
                    to.entry(obs.clone()).or_insert(outcome.clone());
                }
                (Says::Outcome(..), true) => {}
            }
        }
    }
    // Negated tries are removed ("didn't try DFU").
    let neg_tried: Vec<String> = u
        .negated
        .iter()
        .filter_map(|n| n.strip_prefix("tried ").map(str::to_string))
        .collect();
    u.tried.retain(|f| !neg_tried.contains(f));
    u.data_expendable = u.observed.get("backup_exists").is_some_and(|v| v == "yes");

    // Several different error codes named: the error varies.
    if !u.observed.contains_key("error_varies") && all_error_codes(kb, &t).len() >= 2 {
        u.observed.insert("error_varies".into(), "yes".into());
    }
    // "from 12.5.7 to 10.3.3": going to a lower version is a downgrade.
    if !u.observed.contains_key("downgrade_attempt") && names_a_downgrade(&t) {
        u.observed.insert("downgrade_attempt".into(), "yes".into());
    }
    u.wants_downgrade = u
        .observed
        .get("downgrade_attempt")
        .is_some_and(|v| v == "yes");

    // A forgotten passcode or a disabled device: the passcode cannot be entered.
    if u.observed.get("device_locked").is_some_and(|v| v == "yes") {
        let pseudo = &pseudo;
        u.passcode_forgotten = reader
            .cues
            .iter()
            .filter(|c| c.sets == "passcode_forgotten")
            .any(|c| {
                c.patterns.iter().any(|p| {
                    p.find_iter(&t).any(|m| {
                        let clause = Reader::clause_start(&t, m.start());
                        !reader.negated(&t, m.start(), clause, pseudo)
                            && !says_not(m.as_str())
                            && !Reader::meant_otherwise(
                                &c.not_before,
                                &c.not_after,
                                &t,
                                m.start(),
                                m.end(),
                            )
                    })
                })
            });
    }
    u.role = reader.cue("role:", &t);

    // Counts.
    static TIMES: OnceLock<Regex> = OnceLock::new();
    let times = re(
        r"\b(\d+|once|twice|two|three|four|five|six|seven|eight|nine|ten|several|multiple|many)( more)? (times|attempts|tries)\b",
        &TIMES,
    );
    u.attempts = times
        .captures_iter(&t)
        .filter_map(|c| number_word(&c[1]))
        .max();
    static CABLES: OnceLock<Regex> = OnceLock::new();
    let cables = re(
        r"\b(\d+|two|three|four|five|several|multiple)( \w+)? (usb[- ]?c? )?(cables|cords|leads)\b",
        &CABLES,
    );
    u.cables = cables
        .captures_iter(&t)
        .filter_map(|c| number_word(&c[1]))
        .max();
    static COMPUTERS: OnceLock<Regex> = OnceLock::new();
    let computers = re(
        r"\b(\d+|two|three|four|five|several|multiple)( \w+)? (computers|pcs|macs|laptops|machines)\b",
        &COMPUTERS,
    );
    u.computers = computers
        .captures_iter(&t)
        .filter_map(|c| number_word(&c[1]))
        .max();
    u
}

/// The error code in the text: "error 4013", "err 4013", "error: -1", "(4013)", "4013 error",
/// "code 9".
pub fn find_error_code(kb: &KnowledgeBase, t: &str) -> Option<i64> {
    static A: OnceLock<Regex> = OnceLock::new();
    static B: OnceLock<Regex> = OnceLock::new();
    static C: OnceLock<Regex> = OnceLock::new();
    let a = re(
        r"\b(?:error|err|code|fehler|erreur)\s*(?:code\s*)?[:#=]?\s*\(?(-?\d{1,5})\b",
        &A,
    );
    // Not a server's or a protocol's status ("TSS ... Status Code 133", "HTTP status code
    // 500"): those number an answer from Apple's signing server or a web server, not the
    // restore's error.
    let status = |start: usize| {
        let before = t[..start].trim_end();
        ["status", "http", "https"]
            .iter()
            .any(|w| before.ends_with(w))
    };
    if let Some(c) = a
        .captures_iter(t)
        .find(|c| !status(c.get(0).map_or(0, |m| m.start())))
    {
        return c[1].parse().ok();
    }
    let b = re(r"\((-?\d{1,5})\)", &B);
    for c in b.captures_iter(t) {
        if let Ok(n) = c[1].parse::<i64>()
            && kb.lookup_code(n).is_some()
        {
            return Some(n);
        }
    }
    let c = re(r"(?:^|[^\w.,])(-?\d{1,5}) (?:error|err)\b", &C);
    for cap in c.captures_iter(t) {
        let start = cap.get(1).map_or(0, |m| m.start());
        let before = t[..start].trim_end();
        let after_device = ["iphone", "ipad", "ipod", "mini", "air", "pro", "gen", "se"]
            .iter()
            .any(|w| before.ends_with(w));
        if after_device {
            continue;
        }
        if let Ok(n) = cap[1].parse::<i64>() {
            return Some(n);
        }
    }
    // A bare four-digit documented code ("fails with 4013", "ends in 4014"), not a year,
    // a storage size, a percentage or part of a model or version name.
    static D: OnceLock<Regex> = OnceLock::new();
    let d = re(r"(?:^|[\s(])(\d{4})(?:$|[\s,.;:!?)])", &D);
    for cap in d.captures_iter(t) {
        let m = cap.get(1).unwrap();
        let before = t[..m.start()].trim_end();
        let after = t[m.end()..].trim_start();
        let qualifier = [
            "ios", "iphone", "ipad", "macos", "windows", "version", "since",
        ]
        .iter()
        .any(|w| before.ends_with(w));
        if qualifier
            || after.starts_with('%')
            || after.starts_with("gb")
            || after.starts_with("mah")
        {
            continue;
        }
        if let Ok(n) = m.as_str().parse::<i64>()
            && !(1990..=2040).contains(&n)
            && kb.error_code(n).is_some()
        {
            return Some(n);
        }
    }
    None
}

/// Every documented error code named in the text ("error 4013, sometimes 9", "4013 or 9").
pub fn all_error_codes(kb: &KnowledgeBase, t: &str) -> std::collections::BTreeSet<i64> {
    static A: OnceLock<Regex> = OnceLock::new();
    let a = re(
        r"\b(?:error|err|code|errors|then|or|sometimes|once|and|also)\s*[:#]?\s*\(?(-?\d{1,5})\b",
        &A,
    );
    let mut out: std::collections::BTreeSet<i64> = a
        .captures_iter(t)
        .filter(|c| {
            // Not counts: "and 3 times", "or 2 cables".
            let rest = t[c.get(1).unwrap().end()..].trim_start();
            ![
                "time", "cable", "computer", "attempt", "tr", "%", "gb", "port",
            ]
            .iter()
            .any(|w| rest.starts_with(w))
        })
        .filter_map(|c| c[1].parse::<i64>().ok())
        .filter(|n| kb.error_code(*n).is_some())
        .collect();
    if let Some(c) = find_error_code(kb, t) {
        out.insert(c);
    }
    out
}

/// Most models a phrase may name and still be worth asking about ("iPad Pro 2018": two sizes);
/// "ipad pro" alone names too many to list.
const DEVICE_CANDIDATES_MAX: usize = 3;

/// The device named in the text, as the knowledge base's model name.
pub fn find_device_in(kb: &KnowledgeBase, t: &str) -> Option<String> {
    find_device_or_candidates(kb, t).0
}

/// The device named in the text, else the few models the longest naming phrase could mean.
fn find_device_or_candidates(kb: &KnowledgeBase, t: &str) -> (Option<String>, Vec<String>) {
    let mut candidates: Vec<String> = Vec::new();
    let found = find_device_noting(kb, t, &mut candidates);
    if found.is_some() {
        candidates.clear();
    }
    (found, candidates)
}

fn find_device_noting(kb: &KnowledgeBase, t: &str, candidates: &mut Vec<String>) -> Option<String> {
    let cleaned: String = t
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '+' || c == '.' || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect();
    // "iphone8 plus" → "iphone 8 plus".
    static GLUED: OnceLock<Regex> = OnceLock::new();
    let cleaned = re(r"\b(iphone|ipad|ipod)(\d|x|se\b)", &GLUED).replace_all(&cleaned, "$1 $2");
    // "the 9.7-inch iPad Pro" → "ipad pro 9.7 inch": the size after the name, as the names are.
    static SIZE_FIRST: OnceLock<Regex> = OnceLock::new();
    let cleaned = re(
        r"(?i)\b(\d{1,2}(?:\.\d)?) ?(inch|in)\s+(ipad(?: pro| air| mini)?)\b",
        &SIZE_FIRST,
    )
    .replace_all(&cleaned, "$3 $1 $2");
    let words: Vec<&str> = cleaned
        .split_whitespace()
        .map(|w| w.trim_end_matches(['.', '\'']).trim_end_matches("'s"))
        .collect();
    let own_sources;
    let sources: &[String] = if std::ptr::eq(kb, kb::kb()) {
        static SOURCES: OnceLock<Vec<String>> = OnceLock::new();
        SOURCES.get_or_init(|| device_key_sources(kb))
    } else {
        own_sources = device_key_sources(kb);
        &own_sources
    };
    let mut try_find = |q: &str| {
        // Most phrases name no device: skip the knowledge base's search (which ranks every
        // name by edit distance when nothing matches) unless one could match exactly.
        if !may_name_a_device(sources, q) {
            return None;
        }
        match kb.find_device(q) {
            DeviceMatch::Found { name, .. } => Some(name.to_string()),
            DeviceMatch::Ambiguous(names)
                if candidates.is_empty() && names.len() <= DEVICE_CANDIDATES_MAX =>
            {
                candidates.extend(names.iter().map(|n| n.to_string()));
                None
            }
            _ => None,
        }
    };
    // "iphone ..." / "ipad ..." / "ipod ...": longest phrase that names one model.
    for (i, w) in words.iter().enumerate() {
        let family = match *w {
            "iphone" | "ipad" | "ipod" => *w,
            x if x.starts_with("iphone") && x.len() > 6 => {
                // "iphone7", "iphone7+"
                if let Some(found) = try_find(&format!("iphone {}", &x[6..])) {
                    return Some(found);
                }
                continue;
            }
            _ => continue,
        };
        for len in (1..=6).rev() {
            if i + len > words.len() {
                continue;
            }
            let end = (i + len).min(words.len());
            let phrase = words[i..end].join(" ");
            if phrase == family {
                continue;
            }
            if let Some(found) = try_find(&phrase) {
                // "an iPhone XS restores fine but an iPhone 8 fails": the device that works
                // is another one.
                if works_fine_after(&words[end..]) {
                    break;
                }
                return Some(found);
            }
        }
    }
    // Bare model phrases: "my X", "11 pro max", "7+", "xs max".
    static BARE: OnceLock<Regex> = OnceLock::new();
    let bare = re(
        r"\b(?:(?:my|an?|the|this|her|his)\s+)?((?:1[1-7]|[4-8])(?:\s*(?:pro max|pro|plus|\+|mini|s plus|s|c))?|xs max|xs|xr|x|se(?: (?:2|3|2nd|3rd)(?: gen)?)?)(?:\s|$|[,.!?])",
        &BARE,
    );
    for cap in bare.captures_iter(t) {
        let m = cap.get(1).unwrap();
        let phrase = m.as_str().trim();
        let whole = cap.get(0).unwrap().as_str();
        let has_article = whole.trim_start().starts_with(|c: char| c.is_alphabetic())
            && !whole.trim_start().starts_with(phrase);
        // A bare number needs a qualifier ("11 pro") or an article ("my 8").
        let qualified = phrase.contains(' ') || phrase.contains('+') || phrase.starts_with('x');
        if !(qualified || has_article) {
            continue;
        }
        // "my x" only as a whole word; ignore "error 14 x" style noise, and the X of "Mac OS X"
        // or "iOS 9.x".
        let before = &t[..m.start()];
        let word_before = before.trim_end();
        // "the 11.3 beta": a version number, not a model.
        let after = &t[m.end()..];
        if after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        // "iOS 11", "iPadOS 17", "version 8": a system version, not a model.
        let last_word = word_before
            .rsplit(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("");
        if matches!(
            last_word.to_ascii_lowercase().as_str(),
            "ios" | "ipados" | "version" | "os"
        ) || word_before.ends_with("error")
            || word_before.ends_with("err")
            || (phrase.starts_with('x')
                && (before.ends_with('.')
                    || word_before.ends_with("os")
                    || word_before.ends_with("osx")))
        {
            continue;
        }
        if let Some(found) = try_find(&format!("iphone {phrase}")) {
            return Some(found);
        }
    }
    None
}

/// Whether the words after a device's name say that device works ("restores fine", "updated
/// fine", "works perfectly"): then it is another device than the one that fails.
fn works_fine_after(rest: &[&str]) -> bool {
    rest.iter()
        .take(3)
        .any(|w| matches!(*w, "fine" | "perfectly" | "flawlessly" | "normally"))
}

/// Every spelling a device's search keys are made from (product type, board, name, variant,
/// aliases), normalised as [`kb::normalise_name`] does and with the spaces removed.
fn device_key_sources(kb: &KnowledgeBase) -> Vec<String> {
    let compact = |s: &str| s.replace(' ', "");
    let mut out = Vec::new();
    for d in kb.devices() {
        out.push(compact(&d.product_type.to_ascii_lowercase()));
        out.push(compact(&kb::normalise_name(&d.product_type)));
        out.push(compact(&d.board.to_ascii_lowercase()));
        out.push(compact(&d.board));
        out.push(compact(&kb::normalise_name(&d.name)));
        // The year spelling of a generation ("iphone se 2020"), see `kb::matching`.
        out.push(format!(
            "{}{}",
            compact(&kb::normalise_name(&d.name)),
            d.year
        ));
        out.push(compact(&kb::normalise_name(&d.variant)));
        out.extend(d.aliases.iter().map(|a| compact(&kb::normalise_name(a))));
    }
    out.sort();
    out.dedup();
    out
}

/// Whether `query` could be an exact spelling of a device, the only kind of match
/// [`KnowledgeBase::find_device`] reports as found. Every key the search matches exactly is
/// one of the sources or a shortened form of one ("ipad 7" from "ipad 7th gen", "7 plus" from
/// "iphone 7 plus"), so with the spaces removed a query that matches is a subsequence of some
/// source. A necessary condition only: the knowledge base still decides.
fn may_name_a_device(sources: &[String], query: &str) -> bool {
    let q = kb::normalise_name(query).replace(' ', "");
    if q.is_empty() {
        return false;
    }
    sources.iter().any(|s| {
        if s.len() < q.len() {
            return false;
        }
        let mut rest = s.chars();
        q.chars().all(|c| rest.any(|x| x == c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u(t: &str) -> Understood {
        understand(kb::kb(), t)
    }

    #[test]
    fn symptoms_said_the_long_way_round() {
        let yes = Some("yes".to_string());
        for (text, id) in [
            (
                "3uTools cannot get it out of recovery mode",
                "stuck_in_recovery",
            ),
            (
                "every attempt stops with an FDR error",
                "same_failure_point",
            ),
            (
                "repeated attempts failed the same way",
                "same_failure_point",
            ),
            (
                "restoring 4.3.3 with powdersn0w in Legacy iOS Kit",
                "custom_firmware",
            ),
        ] {
            assert_eq!(u(text).observed.get(id), yes.as_ref(), "{text}: {id}");
        }
        for (text, id) in [
            ("it got out of recovery mode by itself", "stuck_in_recovery"),
            (
                "the first attempt stopped at 50%, the next one finished",
                "same_failure_point",
            ),
        ] {
            assert_ne!(u(text).observed.get(id), yes.as_ref(), "{text}: {id}");
        }
        let tried = |t: &str| u(t).tried;
        assert!(tried("hard reboots did not help").contains(&"force_restart".to_string()));
        assert!(
            tried("the same happens on Windows 7 and on macOS Mavericks")
                .contains(&"other_computer".to_string())
        );
    }

    #[test]
    fn the_system_named_first_is_the_persons_own() {
        for (text, os) in [
            (
                "an iPod used with an iBook G4 died; Apple's fix covered Windows only",
                "macos",
            ),
            (
                "pymobiledevice3 on Linux Mint fails; iTunes on Windows failed before",
                "linux",
            ),
            ("macOS 10.13 in VirtualBox on a Windows 10 host", "macos"),
            ("itunes on windows 10 fails, my mac is broken", "windows"),
        ] {
            assert_eq!(u(text).computer_os.as_deref(), Some(os), "{text}");
        }
    }

    #[test]
    fn versions_chips_and_devices_that_work_are_not_the_device() {
        for text in [
            "downgrading an A12 device from 15.0 to 14.5 fails",
            "the same happened with the 11.3 beta 3 SEP",
            "restoring to an older iOS 11 with futurerestore fails",
            "my ipad says unable to check for update, while an iPhone 4S updated fine at work",
        ] {
            assert_eq!(u(text).device, None, "{text}");
        }
        assert_eq!(
            u("an iPhone XS restores fine but an iPhone 8 fails with the same tool").device,
            Some("iPhone 8".into())
        );
        assert_eq!(u("the 11 pro fails").device, Some("iPhone 11 Pro".into()));
        assert_eq!(
            u("it bricked the 9.7-inch iPad Pro").device,
            Some("iPad Pro 9.7-inch".into())
        );
        assert_eq!(
            u("my 10.5in ipad pro").device,
            Some("iPad Pro 10.5-inch".into())
        );
        assert_eq!(u("restoring my 8 fails").device, Some("iPhone 8".into()));
    }

    #[test]
    fn devices_in_peoples_words() {
        for (text, name) in [
            ("my iphone 7+ died", "iPhone 7 Plus"),
            ("11 pro max stuck in recovery", "iPhone 11 Pro Max"),
            ("my X won't restore", "iPhone X"),
            ("iPad 7th gen error 4013", "iPad (7th gen)"),
            ("iphone8 plus", "iPhone 8 Plus"),
            ("restoring an iPhone XS Max", "iPhone XS Max"),
            (
                "Error 4005 on iPhone SE 2020 when updating",
                "iPhone SE (2nd gen)",
            ),
            (
                "my ipad pro 12.9 3rd gen won't restore, error 4014",
                "iPad Pro 12.9-inch (3rd gen)",
            ),
        ] {
            assert_eq!(u(text).device.as_deref(), Some(name), "{text}");
        }
        assert_eq!(u("error 4013 on windows").device, None);
    }

    #[test]
    fn error_codes_in_any_spelling() {
        for (text, code) in [
            ("error 4013", 4013),
            ("err 4013 again", 4013),
            ("itunes said (4013)", 4013),
            ("got a 4013 error", 4013),
            ("error -1 in idevicerestore", -1),
            ("iphone 11 error 9", 9),
            ("fails with 4014 every time", 4014),
        ] {
            assert_eq!(u(text).error_code, Some(code), "{text}");
        }
        assert_eq!(u("iphone 11 pro, 2 cables, 64gb").error_code, None);
        assert_eq!(u("it stops at 2019 style progress").error_code, None);
        // A signing server's or web server's status is not the restore's error code.
        assert_eq!(
            u("tss request failed: unhandled status code 133").error_code,
            None
        );
        assert_eq!(
            u("HTTP status code 500 from the server, then error 3194").error_code,
            Some(3194)
        );
    }

    /// The device and the code in the languages of the corpus, in their own scripts and
    /// glued to the words around them as those languages write them.
    #[test]
    fn devices_and_codes_in_other_languages_and_scripts() {
        for (text, device, code) in [
            (
                "アイフォン8をitunesで復元したらエラー4013が出た",
                Some("iPhone 8"),
                Some(4013),
            ),
            ("iPhone7を復元中にエラー9", Some("iPhone 7"), Some(9)),
            ("아이폰 11 복원 중 4013 오류", Some("iPhone 11"), Some(4013)),
            (
                "아이폰8 복원하다가 에러 4013 떠요",
                Some("iPhone 8"),
                Some(4013),
            ),
            (
                "Il mio iPhone 11 dà errore 4014 durante il ripristino",
                Some("iPhone 11"),
                Some(4014),
            ),
            (
                "Mein iPad Air: Fehlercode 9 beim Wiederherstellen",
                Some("iPad Air"),
                Some(9),
            ),
            (
                "Mon iPhone X affiche l'erreur 4013",
                Some("iPhone X"),
                Some(4013),
            ),
            (
                "アイパッド エアー2 エラー 3194",
                Some("iPad Air 2"),
                Some(3194),
            ),
        ] {
            let got = u(text);
            assert_eq!(got.device.as_deref(), device, "{text}");
            assert_eq!(got.error_code, code, "{text}");
        }
        // The steps tried, in those languages; a Japanese or Korean "did not change it" is
        // not a change.
        for (text, tried) in [
            ("ケーブルを変えてもダメでした", true),
            ("ケーブルは変えていない", false),
            ("케이블 바꿔도 똑같아요", true),
            ("케이블 안 바꿨어요", false),
            ("Kabel schon getauscht, anderen PC probiert", true),
            ("Kabel nicht getauscht", false),
            ("ho già cambiato cavo e provato un altro pc", true),
            ("j'ai changé de câble", true),
        ] {
            let got = u(text);
            assert_eq!(
                got.tried.iter().any(|t| t == "cable_swap"),
                tried,
                "{text}: {:?}",
                got.tried
            );
        }
        assert!(
            u("anderen PC probiert")
                .tried
                .iter()
                .any(|t| t == "other_computer")
        );
        assert!(
            u("別のパソコンでも同じ")
                .tried
                .iter()
                .any(|t| t == "other_computer")
        );
        assert!(
            u("다른 포트에 꽂아도")
                .tried
                .iter()
                .any(|t| t == "port_swap")
        );
        // A number in another script's sentence is still not a code without the word.
        assert_eq!(u("iphone 11 を 2019年に買った").error_code, None);
    }

    /// Words that say the servers could not be reached; a restore tool's own "proxy" (FDR's
    /// proxy payload) and a download that worked say nothing of the network.
    #[test]
    fn trouble_reaching_apple_is_read_as_network_trouble() {
        for text in [
            "itunes says the iphone software update server could not be contacted",
            "the ipad keeps saying unable to check for update",
            "my isp's dns gave a wrong answer for apple's update host",
            "futurerestore failed to download firmwares.json, curlcode=35",
            "the download of the ipsw keeps failing halfway",
            "we are behind a proxy server at school",
        ] {
            assert_eq!(
                u(text).observed.get("network_trouble").map(String::as_str),
                Some("yes"),
                "{text}"
            );
        }
        for text in [
            "fdr receiving proxy payload failed",
            "downloaded the ipsw fine, restore fails with 4013",
        ] {
            assert_eq!(u(text).observed.get("network_trouble"), None, "{text}");
        }
    }

    #[test]
    fn hosts_tried_and_symptoms() {
        assert_eq!(
            u("using itunes on a windows pc").host.as_deref(),
            Some("windows_itunes")
        );
        assert_eq!(u("finder on my mac").host.as_deref(), Some("macos_finder"));
        assert_eq!(u("flashing with 3utools").host.as_deref(), Some("3utools"));
        assert_eq!(u("on my laptop").host, None);
        let x = u(
            "tried two different cables, my friend's Mac, DFU mode, updated iTunes and tried another port",
        );
        for flag in [
            "cable_swap",
            "other_computer",
            "dfu_restore",
            "host_software_update",
            "port_swap",
        ] {
            assert!(x.tried.iter().any(|t| t == flag), "{flag}: {:?}", x.tried);
        }
        assert_eq!(x.cables, Some(2));
        let y = u(
            "it got wet, then I dropped it; screen replaced last month; no service; speaker greyed out; face id stopped working; boot loop; stuck at Waiting for NAND; fails at the same percentage; not enough space",
        );
        for obs in [
            "liquid_exposure",
            "recent_drop",
            "recent_repair",
            "no_service",
            "speaker_greyed_out",
            "face_id_broken",
            "boot_loop",
            "same_failure_point",
            "low_storage",
        ] {
            assert_eq!(
                y.observed.get(obs).map(String::as_str),
                Some("yes"),
                "{obs}"
            );
        }
        assert_eq!(
            y.observed.get("failure_stage").map(String::as_str),
            Some("nand")
        );
    }

    #[test]
    fn negations_and_counts() {
        let x = u("not water damaged, didn't try DFU, never dropped. failed 5 times");
        assert_eq!(
            x.observed.get("liquid_exposure").map(String::as_str),
            Some("no")
        );
        assert_eq!(
            x.observed.get("recent_drop").map(String::as_str),
            Some("no")
        );
        assert!(!x.tried.iter().any(|t| t == "dfu_restore"));
        assert!(x.negated.iter().any(|n| n == "tried dfu_restore"));
        assert_eq!(x.attempts, Some(5));
        assert!(
            !u("a non-apple cable")
                .tried
                .iter()
                .any(|t| t == "cable_swap")
        );
        assert_eq!(
            u("error 4013, sometimes 9")
                .observed
                .get("error_varies")
                .map(String::as_str),
            Some("yes")
        );
        assert!(u("trying to downgrade to iOS 15").wants_downgrade);
        assert!(!u("updating to the latest iOS").wants_downgrade);
    }

    #[test]
    fn a_full_device_in_peoples_words() {
        let obs = |t: &str| u(t).observed.get("low_storage").cloned();
        for t in [
            "The phone was almost full of photos",
            "my iphone is full",
            "storage was nearly full",
            "it was completely full before the update",
        ] {
            assert_eq!(obs(t), Some("yes".to_string()), "{t}");
        }
        for t in [
            "I tried a full restore",
            "it was a full backup",
            "the phone is fully charged",
            "the battery was full",
            "the phone was not full",
        ] {
            assert_ne!(obs(t), Some("yes".to_string()), "{t}");
        }
    }

    #[test]
    fn the_device_dropping_off_usb_is_a_usb_dropout() {
        let obs = |t: &str| u(t).observed.get("usb_dropout").cloned();
        for t in [
            "the phone drops off usb at 60%",
            "it keeps disconnecting",
            "it disconnects in the middle of the restore",
            "lost connection halfway through the update",
            "I hear the usb disconnect sound and then error 4013",
            "The progress bar gets about halfway then it disconnects",
            "the phone just disconnected at 30%",
        ] {
            assert_eq!(obs(t), Some("yes".to_string()), "{t}");
        }
        for t in [
            "I disconnected it and tried again",
            "error 4013 at 60%",
            "the cable is disconnected from the charger",
        ] {
            assert_eq!(obs(t), None, "{t}");
        }
    }

    #[test]
    fn liquid_drops_and_their_look_alikes() {
        let obs = |t: &str, k: &str| u(t).observed.get(k).cloned();
        let yes = Some("yes".to_string());
        let no = Some("no".to_string());
        for t in [
            "dropped in the toilet",
            "I dropped my phone into a glass of water",
            "it fell in the pool",
            "dropped it in the sink yesterday",
        ] {
            assert_eq!(obs(t, "liquid_exposure"), yes, "{t}");
            assert_eq!(obs(t, "recent_drop"), None, "{t}");
        }
        assert_eq!(
            obs("dropped it on concrete and then it got wet", "recent_drop"),
            yes
        );
        assert_eq!(
            obs(
                "dropped it on concrete and then it got wet",
                "liquid_exposure"
            ),
            yes
        );
        for t in [
            "the phone drops off usb at 60%",
            "the connection drops during the restore",
            "it keeps dropping out of itunes",
            "it falls back to dfu every time",
            "bought it last fall",
        ] {
            assert_eq!(obs(t, "recent_drop"), None, "{t}");
        }
        for t in [
            "never dropped, no water damage",
            "no water damage and never dropped",
            "it has never been dropped or wet",
            "it hasn't been dropped and wasn't near water",
        ] {
            assert_eq!(obs(t, "liquid_exposure"), no, "{t}");
            assert_eq!(obs(t, "recent_drop"), no, "{t}");
        }
        assert_eq!(
            obs("water resistant case, never dropped", "liquid_exposure"),
            None
        );
        assert_eq!(obs("the liquid indicator is white", "liquid_exposure"), no);
        assert_eq!(obs("the LCI is red", "liquid_exposure"), yes);
        assert_eq!(
            obs("water damage indicator has turned pink", "liquid_exposure"),
            yes
        );
        assert!(
            !u("it falls back to DFU mode")
                .tried
                .iter()
                .any(|t| t == "dfu_restore")
        );
        assert!(
            u("tried a DFU restore, it falls back to DFU")
                .tried
                .iter()
                .any(|t| t == "dfu_restore")
        );
    }

    #[test]
    fn old_computers_and_interrupted_updates() {
        let obs = |t: &str, k: &str| u(t).observed.get(k).cloned();
        let yes = Some("yes".to_string());
        for t in [
            "iTunes on my Windows 7 PC",
            "my MacBook still runs High Sierra",
            "itunes 12.4 from years ago",
            "idevicerestore from the ubuntu 20.04 repository",
            "itunes is outdated",
        ] {
            assert_eq!(obs(t, "old_host_software"), yes, "{t}");
        }
        for t in [
            "itunes 12.13 on windows 11",
            "finder on macos sonoma",
            "updated itunes",
        ] {
            assert_eq!(obs(t, "old_host_software"), None, "{t}");
        }
        for t in [
            "the update got interrupted",
            "the battery died during the update",
            "I unplugged it in the middle of the update",
            "After a failed iOS 17 update my iPhone 11 is stuck in recovery mode",
            "the update failed overnight and now it's stuck on the apple logo",
        ] {
            assert_eq!(obs(t, "update_interrupted"), yes, "{t}");
        }
        // The failure being diagnosed is not an earlier interrupted update.
        for t in [
            "the update failed with error 4013",
            "itunes says the iphone could not be updated, error 4005",
        ] {
            assert_eq!(obs(t, "update_interrupted"), None, "{t}");
        }
        assert_eq!(
            obs("the update was not interrupted", "update_interrupted"),
            Some("no".into())
        );
    }

    #[test]
    fn hardware_signs_in_peoples_words() {
        let obs = |t: &str, k: &str| u(t).observed.get(k).cloned();
        let yes = Some("yes".to_string());
        for t in [
            "my 6s has a dead baseband since last year",
            "the modem is broken according to the shop",
            "afterwards the baseband no longer responding at all",
        ] {
            assert_eq!(obs(t, "no_service"), yes, "{t}");
        }
        for t in [
            "after the restore the phone would not activate",
            "itunes said the activation information could not be obtained",
            "it restored but now says no sim",
        ] {
            assert_eq!(obs(t, "no_service"), yes, "{t}");
        }
        assert_eq!(
            obs("stuck on the activation lock screen", "no_service"),
            None
        );
        // Signing files named for a baseband are not a broken modem.
        for t in [
            "futurerestore with the latest sep and baseband",
            "it fails at the baseband step",
        ] {
            assert_eq!(obs(t, "no_service"), None, "{t}");
        }
        for t in [
            "after the update the phone would not turn on",
            "it doesn't power on anymore",
            "the battery is swollen and the screen lifts",
            "it only shows 1% and restarts",
        ] {
            assert_eq!(obs(t, "battery_dead"), yes, "{t}");
        }
        for t in [
            "the ipad would not even show up in itunes",
            "the computer said no iphone could be found",
        ] {
            assert_eq!(obs(t, "not_detected"), yes, "{t}");
        }
        assert_eq!(obs("it charged from 10% to 100%", "battery_dead"), None);
        // Something else that could not be found is not the device.
        assert_eq!(
            obs("the activation info could not be found", "not_detected"),
            None
        );
        for t in [
            "it has a history of battery replacement",
            "the screen had been replaced by a kiosk",
            "both phones had non-genuine batteries",
        ] {
            assert_eq!(obs(t, "recent_repair"), yes, "{t}");
        }
    }

    #[test]
    fn the_build_of_a_restore_tool_named() {
        let obs = |t: &str| u(t).observed.get("tool_build_named").cloned();
        for t in [
            "i built idevicerestore from source with msys2",
            "using the latest futurerestore on ubuntu",
            "the pre-compiled binaries from the website fail",
            "futurerestore 2.0.1 says error -8",
            "the windows build of idevicerestore stops at asr",
        ] {
            assert_eq!(obs(t), Some("yes".into()), "{t}");
        }
        // An Apple app's version, the firmware's, or the tool alone say nothing of its build.
        for t in [
            "with the latest itunes on windows 11",
            "idevicerestore fails with the latest ipsw",
            "futurerestore fails at the sep step",
        ] {
            assert_eq!(obs(t), None, "{t}");
        }
    }

    #[test]
    fn a_shop_restoring_it_is_another_computer_tried() {
        let tried = |t: &str| u(t).tried.contains(&"other_computer".to_string());
        for t in [
            "the genius bar tried twice and it still fails",
            "a technician at the repair shop could not restore it either",
            "the shop tried restoring it with the same error",
        ] {
            assert!(tried(t), "{t}");
        }
        assert!(!tried("the shop said the screen is fine"));
        assert!(!tried("apple support told me to restore it"));
    }

    #[test]
    fn several_of_ones_own_devices_failing() {
        let obs = |t: &str| u(t).observed.get("several_devices_fail").cloned();
        for t in [
            "the restore fails on both an iPhone 8 and an iPad 6",
            "an iphone x, an xr and an 11 all fail with the same error",
            "all three of our iPads failed at the same point",
        ] {
            assert_eq!(obs(t), Some("yes".into()), "{t}");
        }
        for t in [
            "my iphone fails with error 4013",
            "i tried both cables",
            "all my photos are on it",
        ] {
            assert_eq!(obs(t), None, "{t}");
        }
    }

    #[test]
    fn a_locked_disabled_or_untrusted_device() {
        let obs = |t: &str| u(t).observed.get("device_locked").cloned();
        for t in [
            "my phone was locked",
            "it says iPhone is disabled",
            "I forgot my passcode",
            "didn't tap trust",
            "the iphone is still locked with a passcode",
            "it was on the lock screen the whole time",
            "iPhone Unavailable on the screen",
            "I can't remember the passcode",
            "the trust this computer prompt never appeared",
        ] {
            assert_eq!(obs(t), Some("yes".to_string()), "{t}");
        }
        for t in [
            "it was not locked",
            "the phone wasn't locked",
            "it is not disabled",
            "I unlocked it and tapped trust",
            "I didn't forget my passcode",
        ] {
            assert_eq!(obs(t), Some("no".to_string()), "{t}");
        }
        for t in [
            "my iphone is locked to at&t",
            "it is icloud activation locked",
            "find my iphone disabled before the restore",
            "error 4013 at 60%",
            "I disabled the antivirus",
            "the phone locked up halfway through the update",
            "it is locked in recovery mode",
            "face id disabled after the screen repair",
            "it unlocked fine",
        ] {
            assert_eq!(obs(t), None, "{t}");
        }
        assert!(u("I forgot my passcode").passcode_forgotten);
        assert!(u("it says iPhone is disabled").passcode_forgotten);
        assert!(!u("my phone was locked").passcode_forgotten);
        assert!(!u("didn't tap trust").passcode_forgotten);
        assert!(!u("I didn't forget my passcode").passcode_forgotten);
        assert!(!u("my phone was locked, I disabled the antivirus").passcode_forgotten);
        assert!(!u("the phone was locked but it is not disabled").passcode_forgotten);
    }

    #[test]
    fn cables_hubs_ports_and_downgrades() {
        let obs = |t: &str, k: &str| u(t).observed.get(k).cloned();
        let yes = Some("yes".to_string());
        let no = Some("no".to_string());
        assert_eq!(
            obs("I'm using a cheap gas station cable", "has_original_cable"),
            no
        );
        assert_eq!(
            obs(
                "a non-apple cable from a dollar store",
                "has_original_cable"
            ),
            no
        );
        assert_eq!(
            obs("with the original apple cable", "has_original_cable"),
            yes
        );
        assert_eq!(obs("it is not an apple cable", "has_original_cable"), no);
        assert_eq!(
            obs("through a usb-c hub on my macbook", "hub_or_adapter"),
            yes
        );
        assert_eq!(obs("plugged into my monitor", "hub_or_adapter"), yes);
        assert_eq!(
            obs(
                "updated through a powered USB hub on a Power Mac",
                "hub_or_adapter"
            ),
            yes
        );
        assert_eq!(
            obs("through an unpowered usb 2.0 hub", "hub_or_adapter"),
            yes
        );
        assert_eq!(
            obs("connected to a new usb 2.0 add-in card", "hub_or_adapter"),
            yes
        );
        for t in [
            "within hours of the ios 17.1 release it was bricked",
            "in the first hour after ios 10 was released",
        ] {
            assert_eq!(obs(t, "widespread"), yes, "{t}");
        }
        assert_eq!(
            obs("it worked for days after the repair", "widespread"),
            None
        );
        assert_eq!(
            obs(
                "on my MacBook using a USB-C to Lightning adapter",
                "hub_or_adapter"
            ),
            yes
        );
        assert_eq!(
            obs(
                "plugged directly into the computer without a hub",
                "hub_or_adapter"
            ),
            None
        );
        assert_eq!(obs("the port is full of lint", "port_debris"), yes);
        assert_eq!(obs("the cable falls out easily", "port_debris"), yes);
        assert_eq!(
            obs(
                "only charges if I hold the cable at an angle",
                "port_debris"
            ),
            yes
        );
        assert_eq!(obs("the cable falls out easily", "recent_drop"), None);
        assert_eq!(obs("it fell off the table last week", "recent_drop"), yes);
        assert_eq!(obs("it fell out of my pocket", "recent_drop"), yes);
        for not_a_fall in [
            "the update failed when the network dropped",
            "the battery dropped to 1% overnight",
            "the download drops at 80%",
        ] {
            assert_eq!(obs(not_a_fall, "recent_drop"), None, "{not_a_fall}");
        }
        for repaired in [
            "error 9 after replacing the battery",
            "it has a third-party screen",
            "since the battery replacement it fails",
            "it got an aftermarket battery",
        ] {
            assert_eq!(obs(repaired, "recent_repair"), yes, "{repaired}");
        }
        assert_eq!(
            obs("replacing the cable did nothing", "recent_repair"),
            None
        );
        assert_eq!(obs("it has a new screen protector", "recent_repair"), None);
        for looping in [
            "keeps rebooting every 3 minutes",
            "it reboots itself every few minutes",
            "restarts every 180 seconds",
            "the phone keeps rebooting",
            "then it sat on the white apple logo for hours",
            "it stays at the apple logo",
            "it kept restarting after the update",
            "stuck in a reboot loop",
            "the ipad is in a restart loop",
        ] {
            assert_eq!(obs(looping, "boot_loop"), yes, "{looping}");
        }
        assert_eq!(obs("I rebooted the computer", "boot_loop"), None);
        assert_eq!(obs("keeps dropping out at 60%", "recent_drop"), None);
        assert_eq!(
            obs(
                "face id not available after a screen replacement",
                "recent_repair"
            ),
            yes
        );
        assert_eq!(
            obs(
                "face id not available after a screen replacement",
                "face_id_broken"
            ),
            yes
        );
        assert_eq!(
            obs("trying to downgrade to iOS 16", "downgrade_attempt"),
            yes
        );
        assert_eq!(obs("updating to the latest iOS", "downgrade_attempt"), None);
    }

    /// The pre-filter never hides a device the knowledge base would find: every phrase made of
    /// consecutive words of any device spelling (and its shortened "7th gen" → "7" forms) that
    /// `find_device` reports as found passes the filter.
    #[test]
    fn the_device_pre_filter_keeps_every_exact_spelling() {
        let kb = kb::kb();
        let sources = device_key_sources(kb);
        let mut checked = 0;
        for d in kb.devices() {
            let mut spellings = vec![
                d.name.clone(),
                d.variant.clone(),
                d.product_type.clone(),
                d.board.clone(),
                d.board.trim_end_matches("ap").to_string(),
            ];
            spellings.extend(d.aliases.iter().cloned());
            for s in spellings {
                let norm = kb::normalise_name(&s);
                let words: Vec<&str> = norm.split(' ').collect();
                let mut phrases = Vec::new();
                for i in 0..words.len() {
                    for j in i + 1..=words.len() {
                        phrases.push(words[i..j].join(" "));
                        phrases.push(words[i..j].join(""));
                    }
                }
                phrases.extend(phrases.clone().iter().map(|p| {
                    p.replace("th gen", "")
                        .replace("nd gen", "")
                        .replace("rd gen", "")
                }));
                for p in phrases {
                    if matches!(kb.find_device(&p), DeviceMatch::Found { .. }) {
                        checked += 1;
                        assert!(may_name_a_device(&sources, &p), "{p:?} ({})", d.name);
                    }
                }
            }
        }
        assert!(checked > 100, "only {checked} spellings found");
        assert!(!may_name_a_device(
            &sources,
            "iphone 7 plus fails with error 4013"
        ));
    }

    proptest! {
        #[test]
        fn any_text_reads_into_the_stable_vocabularies(t in "\\PC{0,200}") {
            let x = u(&t);
            for f in &x.tried {
                prop_assert!(kb::vocab::TRIED.contains(&f.as_str()));
            }
            for (k, v) in &x.observed {
                prop_assert!(kb::vocab::OBSERVED.contains(&k.as_str()) || ["failure_stage", "backup_exists", "has_original_cable"].contains(&k.as_str()));
                prop_assert!(v == "yes" || v == "no" || kb::Stage::parse(v).is_some());
            }
            prop_assert!(x.role.is_none() || x.role.as_deref() == Some("technician"));
            if let Some(h) = &x.host {
                prop_assert!(kb::vocab::HOSTS.contains(&h.as_str()));
            }
        }
    }
}
