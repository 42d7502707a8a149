//! The knowledge base: every fact restore-doctor reasons with, kept as reviewed data.
//!
//! The data lives in TOML files under `knowledge/` at the repository root (error codes and
//! their families with cause priors, devices, causes, observations, actions, button guides,
//! known hardware faults, restore operations, checkpoints and status codes, USB ids). `build.rs`
//! parses them into the typed records of [`model`] at build time, failing the build on a
//! malformed entry, and embeds them as a compact blob that [`kb()`] decodes once on first use.
//! [`validate`] checks the cross-references (every prior sums to 1, every id named exists, every
//! number has a source) and runs in the tests. The crate does no I/O and needs no async runtime.

pub mod citation;
mod matching;
pub mod model;
pub mod privacy;
pub mod report;
pub mod sources;
mod validate;
pub mod vocab;

pub use citation::{Citation, CitedKey, parse_citation};
pub use matching::{DeviceMatch, normalise_name};
pub use model::*;
pub use privacy::redact_id;
pub use validate::{KbError, validate};

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// The embedded knowledge base; each table is decoded on its first use.
pub fn kb() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| KnowledgeBase {
        lazy: LazyTables::embedded(),
        code_index: OnceLock::new(),
        device_index: OnceLock::new(),
        names: OnceLock::new(),
        wording_finders: OnceLock::new(),
        all: OnceLock::new(),
    })
}

/// One table: either embedded bytes decoded on first use, or records given by hand.
#[derive(Debug)]
struct Section<T> {
    bytes: &'static [u8],
    cell: OnceLock<Vec<T>>,
}

impl<T: serde::de::DeserializeOwned> Section<T> {
    fn get(&self) -> &[T] {
        self.cell.get_or_init(|| {
            postcard::from_bytes(self.bytes).expect("embedded knowledge table decodes")
        })
    }
    fn ready(records: Vec<T>) -> Self {
        Section {
            bytes: &[],
            cell: OnceLock::from(records),
        }
    }
}

macro_rules! lazy_tables {
    ($($field:ident: $ty:ty),* $(,)?) => {
        #[derive(Debug)]
        struct LazyTables { $($field: Section<$ty>,)* }
        impl LazyTables {
            fn embedded() -> Self {
                LazyTables { $($field: Section {
                    bytes: include_bytes!(concat!(env!("OUT_DIR"), "/", stringify!($field), ".postcard")),
                    cell: OnceLock::new(),
                },)* }
            }
            fn from_tables(t: Tables) -> Self {
                LazyTables { $($field: Section::ready(t.$field),)* }
            }
            fn to_tables(&self) -> Tables {
                Tables { $($field: self.$field.get().to_vec(),)* }
            }
            $(fn $field(&self) -> &[$ty] { self.$field.get() })*
        }
    };
}

lazy_tables!(sources: Source, families: Family, codes: ErrorCode, ranges: ErrorRange, causes: Cause, observations: Observation, actions: Action, guides: Guide, host_apps: HostApp, host_wordings: HostWording, devices: Device, known_faults: KnownFault, operations: RestoreOperation, checkpoints: Checkpoint, statuses: RestoreStatus, progress_hints: ProgressHint, usb_ids: UsbId, serial_fields: SerialField, cases: RealCase, languages: Language, cues: Cue);

/// A prior over cause ids.
pub type Prior = BTreeMap<String, f64>;

/// How an error code is documented: as itself, or as part of a documented range.
#[derive(Debug, Clone, Copy)]
pub enum CodeEntry<'a> {
    Code(&'a ErrorCode),
    Range(&'a ErrorRange),
}

impl<'a> CodeEntry<'a> {
    pub fn family_id(&self) -> &'a str {
        match self {
            CodeEntry::Code(c) => &c.family,
            CodeEntry::Range(r) => &r.family,
        }
    }
    pub fn summary(&self) -> &'a str {
        match self {
            CodeEntry::Code(c) => &c.summary,
            CodeEntry::Range(r) => &r.summary,
        }
    }
    pub fn meaning(&self) -> &'a str {
        match self {
            CodeEntry::Code(c) => &c.meaning,
            CodeEntry::Range(r) => &r.meaning,
        }
    }
    pub fn apple_category(&self) -> &'a [String] {
        match self {
            CodeEntry::Code(c) => &c.apple_category,
            CodeEntry::Range(r) => &r.apple_category,
        }
    }
    pub fn source(&self) -> &'a str {
        match self {
            CodeEntry::Code(c) => &c.source,
            CodeEntry::Range(r) => &r.source,
        }
    }
}

/// The knowledge base with its lookup indexes.
#[derive(Debug)]
pub struct KnowledgeBase {
    lazy: LazyTables,
    code_index: OnceLock<HashMap<i64, usize>>,
    device_index: OnceLock<HashMap<String, usize>>,
    /// Built on the first name search only (explain never pays for it).
    names: OnceLock<matching::NameIndex>,
    /// A searcher for every `[[host_wording]]`'s generic words, in order, built once:
    /// [`KnowledgeBase::line_for_host`] looks for each of them in every line of every answer,
    /// and `str::contains` would prepare its search for the (long) words anew each time.
    wording_finders: OnceLock<Vec<memchr::memmem::Finder<'static>>>,
    /// Every table at once, for validation and tests.
    all: OnceLock<Tables>,
}

impl KnowledgeBase {
    /// Build the indexes over a set of tables (tests build small ones by hand).
    pub fn new(tables: Tables) -> Self {
        KnowledgeBase {
            lazy: LazyTables::from_tables(tables),
            code_index: OnceLock::new(),
            device_index: OnceLock::new(),
            names: OnceLock::new(),
            wording_finders: OnceLock::new(),
            all: OnceLock::new(),
        }
    }

    /// Every table (decodes all of them: for validation and tests, not for hot paths).
    pub fn tables(&self) -> &Tables {
        self.all.get_or_init(|| self.lazy.to_tables())
    }

    // ---- error codes

    /// A code documented on its own.
    pub fn error_code(&self, code: i64) -> Option<&ErrorCode> {
        self.code_index
            .get_or_init(|| {
                let codes = self.lazy.codes();
                codes.iter().enumerate().map(|(i, c)| (c.code, i)).collect()
            })
            .get(&code)
            .map(|&i| &self.lazy.codes()[i])
    }

    /// Every documented code, sorted numerically.
    pub fn error_codes(&self) -> Vec<&ErrorCode> {
        let mut v: Vec<&ErrorCode> = self.lazy.codes().iter().collect();
        v.sort_by_key(|c| c.code);
        v
    }

    pub fn ranges(&self) -> &[ErrorRange] {
        self.lazy.ranges()
    }

    /// The code itself, or else the narrowest documented range containing it.
    pub fn lookup_code(&self, code: i64) -> Option<CodeEntry<'_>> {
        if let Some(c) = self.error_code(code) {
            return Some(CodeEntry::Code(c));
        }
        self.lazy
            .ranges()
            .iter()
            .filter(|r| r.start <= code && code <= r.end)
            .min_by_key(|r| r.end - r.start)
            .map(CodeEntry::Range)
    }

    pub fn family(&self, id: &str) -> Option<&Family> {
        self.lazy.families().iter().find(|f| f.id == id)
    }

    pub fn families(&self) -> &[Family] {
        self.lazy.families()
    }

    /// The prior over causes for a code: its own, else its family's (also for range codes).
    pub fn code_prior(&self, code: i64) -> Option<&Prior> {
        match self.lookup_code(code)? {
            CodeEntry::Code(c) => c
                .prior
                .as_ref()
                .or_else(|| self.family(&c.family).map(|f| &f.prior)),
            CodeEntry::Range(r) => self.family(&r.family).map(|f| &f.prior),
        }
    }

    /// The source of [`KnowledgeBase::code_prior`].
    pub fn code_prior_source(&self, code: i64) -> Option<&str> {
        match self.lookup_code(code)? {
            CodeEntry::Code(c) => c
                .prior_source
                .as_deref()
                .or_else(|| self.family(&c.family).map(|f| f.prior_source.as_str())),
            CodeEntry::Range(r) => self.family(&r.family).map(|f| f.prior_source.as_str()),
        }
    }

    /// What a cause stands for with a documented code, when its entry says (`cause_notes`).
    pub fn cause_note(&self, code: i64, cause: &str) -> Option<&str> {
        self.error_code(code)?
            .cause_notes
            .get(cause)
            .map(String::as_str)
    }

    /// What a cause is called with this code, when the code names it more closely than the
    /// stable cause list does.
    pub fn cause_name(&self, code: i64, cause: &str) -> Option<&str> {
        self.error_code(code)?
            .cause_names
            .get(cause)
            .map(String::as_str)
    }

    /// For an undocumented code: the documented code numerically nearest to it.
    pub fn nearest_code(&self, code: i64) -> Option<&ErrorCode> {
        self.lazy
            .codes()
            .iter()
            .min_by_key(|c| (c.code - code).unsigned_abs())
    }

    // ---- causes, observations, actions

    pub fn causes(&self) -> &[Cause] {
        self.lazy.causes()
    }

    pub fn cause(&self, id: &str) -> Option<&Cause> {
        self.lazy.causes().iter().find(|c| c.id == id)
    }

    /// Whether a cause can apply to a device.
    pub fn cause_applies(&self, cause: &Cause, device: &Device) -> bool {
        let a = &cause.applies_to;
        (a.families.is_empty() || a.families.contains(&device.family))
            && (a.connectors.is_empty() || a.connectors.contains(&device.connector))
            && (a.biometrics.is_empty() || a.biometrics.contains(&device.biometric))
            && (a.cellular.is_none() || a.cellular == Some(device.cellular))
            && (a.product_types.is_empty() || a.product_types.contains(&device.product_type))
    }

    /// The causes that can apply to a device (all causes when the device is unknown).
    pub fn causes_for(&self, device: Option<&Device>) -> Vec<&Cause> {
        self.lazy
            .causes()
            .iter()
            .filter(|c| device.is_none_or(|d| self.cause_applies(c, d)))
            .collect()
    }

    pub fn observations(&self) -> &[Observation] {
        self.lazy.observations()
    }

    pub fn observation(&self, id: &str) -> Option<&Observation> {
        self.lazy.observations().iter().find(|o| o.id == id)
    }

    pub fn actions(&self) -> &[Action] {
        self.lazy.actions()
    }

    pub fn action(&self, id: &str) -> Option<&Action> {
        self.lazy.actions().iter().find(|a| a.id == id)
    }

    /// The action a `--tried` word stands for.
    pub fn action_by_tried_flag(&self, flag: &str) -> Option<&Action> {
        self.lazy
            .actions()
            .iter()
            .find(|a| a.tried_flag.as_deref() == Some(flag))
    }

    // ---- guides

    pub fn guide(&self, scheme: ButtonScheme, kind: GuideKind) -> Option<&Guide> {
        self.lazy
            .guides()
            .iter()
            .find(|g| g.scheme == scheme && g.kind == kind)
    }

    pub fn host_apps(&self) -> &[HostApp] {
        self.lazy.host_apps()
    }

    pub fn host_wordings(&self) -> &[HostWording] {
        self.lazy.host_wordings()
    }

    /// An instruction line in the words for one program (`--host` value): every
    /// `[[host_wording]]` whose generic words the line holds is replaced by the host's own;
    /// None when the line is about another computer. Without a host (or for a host the
    /// wordings do not name) the line is as written.
    pub fn line_for_host(&self, line: &str, host: Option<&str>) -> Option<String> {
        let Some(host) = host else {
            return Some(line.to_string());
        };
        let finders = self.wording_finders.get_or_init(|| {
            self.host_wordings()
                .iter()
                .map(|w| memchr::memmem::Finder::new(w.generic.as_bytes()).into_owned())
                .collect()
        });
        let mut out = line.to_string();
        for (w, finder) in self.host_wordings().iter().zip(finders) {
            // What `out.contains(&w.generic)` says, without preparing the search every time.
            if finder.find(out.as_bytes()).is_none() {
                continue;
            }
            if let Some(own) = w.by_host.get(host) {
                if own.trim().is_empty() {
                    return None;
                }
                out = out.replace(w.generic.as_str(), own);
            }
        }
        Some(out)
    }

    /// A guide's steps with the device's power button named (`{power}` → "Side button").
    pub fn guide_steps_for(&self, guide: &Guide, device: &Device) -> Vec<String> {
        guide
            .steps
            .iter()
            .map(|s| power_words(&s.text, device))
            .collect()
    }

    // ---- devices

    pub fn devices(&self) -> &[Device] {
        self.lazy.devices()
    }

    /// The first device with this product type (case-insensitive).
    pub fn device(&self, product_type: &str) -> Option<&Device> {
        self.device_index
            .get_or_init(|| {
                let mut index = HashMap::new();
                for (i, d) in self.lazy.devices().iter().enumerate() {
                    index
                        .entry(d.product_type.to_ascii_lowercase())
                        .or_insert(i);
                }
                index
            })
            .get(&product_type.to_ascii_lowercase())
            .map(|&i| &self.lazy.devices()[i])
    }

    /// Find a device by marketing name in any reasonable spelling, product type or board.
    pub fn find_device(&self, query: &str) -> DeviceMatch<'_> {
        self.names
            .get_or_init(|| matching::NameIndex::new(self.lazy.devices()))
            .find(query, self.lazy.devices())
    }

    /// The device a DFU/Recovery serial string's CPID and BDID identify.
    pub fn device_by_cpid_bdid(&self, cpid: u32, bdid: u32) -> Option<&Device> {
        self.lazy
            .devices()
            .iter()
            .find(|d| d.cpid == cpid && d.bdid == bdid)
    }

    /// The device with this board (`d22ap`, case-insensitive, `ap` optional).
    pub fn device_by_board(&self, board: &str) -> Option<&Device> {
        let b = board.to_ascii_lowercase();
        self.lazy
            .devices()
            .iter()
            .find(|d| d.board == b || d.board.strip_suffix("ap") == Some(b.as_str()))
    }

    pub fn known_faults(&self) -> &[KnownFault] {
        self.lazy.known_faults()
    }

    /// The known hardware faults of a product type.
    pub fn known_faults_for(&self, product_type: &str) -> Vec<&KnownFault> {
        self.lazy
            .known_faults()
            .iter()
            .filter(|f| {
                f.product_types
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(product_type))
            })
            .collect()
    }

    // ---- restore protocol

    pub fn operation(&self, id: u32) -> Option<&RestoreOperation> {
        self.lazy.operations().iter().find(|o| o.id == id)
    }

    pub fn checkpoint(&self, id: u32) -> Option<&Checkpoint> {
        self.lazy.checkpoints().iter().find(|c| c.id == id)
    }

    pub fn checkpoint_by_name(&self, name: &str) -> Option<&Checkpoint> {
        self.lazy
            .checkpoints()
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// A device status; -1 also matches 0xFFFFFFFFFFFFFFFF.
    pub fn restore_status(&self, status: i64) -> Option<&RestoreStatus> {
        self.lazy.statuses().iter().find(|s| s.status == status)
    }

    pub fn progress_hints(&self) -> &[ProgressHint] {
        self.lazy.progress_hints()
    }

    // ---- USB

    /// The mode an Apple USB product id means.
    pub fn usb_mode(&self, vid: u16, pid: u16) -> Option<&UsbId> {
        // Exact ids first, then ranges (the normal-mode range overlaps the per-model ids).
        self.lazy
            .usb_ids()
            .iter()
            .filter(|u| u.vid == vid && u.pid_low <= pid && pid <= u.pid_high)
            .min_by_key(|u| u.pid_high - u.pid_low)
    }

    pub fn serial_fields(&self) -> &[SerialField] {
        self.lazy.serial_fields()
    }

    /// The languages the free-text reader knows (negations, hedges, clause words).
    pub fn languages(&self) -> &[Language] {
        self.lazy.languages()
    }

    /// Phrases that set the program, the system, the role... (`knowledge/language.toml`).
    pub fn cues(&self) -> &[Cue] {
        self.lazy.cues()
    }

    /// The corpus of real cases (`knowledge/cases/`), in file and line order.
    pub fn cases(&self) -> &[RealCase] {
        self.lazy.cases()
    }

    /// Every source record (`knowledge/sources.toml`), in file order.
    pub fn sources(&self) -> &[Source] {
        self.lazy.sources()
    }

    /// The record a citation names: `key` is a bare key or `KEY@revision` as written in a
    /// `source` string. `None` for an unknown key (validation rejects those).
    pub fn source(&self, key: &str) -> Option<&Source> {
        let bare = key.split('@').next().unwrap_or(key).trim();
        self.lazy.sources().iter().find(|s| s.key == bare)
    }
}

/// Replace `{power}` with the device's power button name.
pub fn power_words(text: &str, device: &Device) -> String {
    let name = match device.power_button {
        PowerButton::Side => "Side button",
        PowerButton::Top => "Top button",
    };
    text.replace("{power}", name)
}
