// The knowledge base's record types.
//
// This file is compiled twice: once by `build.rs` (to parse and validate the TOML under
// `knowledge/` and serialise it into a compact blob) and once as part of the `kb` crate
// (to deserialise that blob at run time). It therefore depends on nothing but `serde`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A cost in the person's time and money.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    pub minutes: f64,
    #[serde(default)]
    pub usd: f64,
}

/// Who can carry out a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skill {
    Owner,
    Technician,
    Microsoldering,
}

/// Whether a step can destroy the person's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataRisk {
    None,
    ErasesDevice,
}

/// Where in a restore a failure happened (the *stable* stage vocabulary of design.md §6, only
/// ever extended). The last three are the steps before the restore proper, which the device's
/// own restore software never sees: `detection` (the computer finding the device and its mode),
/// `boot_chain` (iBSS and iBEC sent to a device in DFU or Recovery mode, and the device coming
/// back in the next mode after them) and `ramdisk` (the images iBoot loads to start the restore
/// ramdisk, its boot, and the computer connecting to the device in restore mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Partition,
    Filesystem,
    ImageTransfer,
    Verify,
    Nand,
    Baseband,
    Firmware,
    Sep,
    Fdr,
    Reboot,
    Tss,
    Usb,
    Other,
    Detection,
    BootChain,
    Ramdisk,
}

impl Stage {
    pub const ALL: [Stage; 16] = [
        Stage::Partition,
        Stage::Filesystem,
        Stage::ImageTransfer,
        Stage::Verify,
        Stage::Nand,
        Stage::Baseband,
        Stage::Firmware,
        Stage::Sep,
        Stage::Fdr,
        Stage::Reboot,
        Stage::Tss,
        Stage::Usb,
        Stage::Other,
        Stage::Detection,
        Stage::BootChain,
        Stage::Ramdisk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Partition => "partition",
            Stage::Filesystem => "filesystem",
            Stage::ImageTransfer => "image_transfer",
            Stage::Verify => "verify",
            Stage::Nand => "nand",
            Stage::Baseband => "baseband",
            Stage::Firmware => "firmware",
            Stage::Sep => "sep",
            Stage::Fdr => "fdr",
            Stage::Reboot => "reboot",
            Stage::Tss => "tss",
            Stage::Usb => "usb",
            Stage::Other => "other",
            Stage::Detection => "detection",
            Stage::BootChain => "boot_chain",
            Stage::Ramdisk => "ramdisk",
        }
    }

    /// One of the steps before the restore proper (finding the device, its boot chain, the
    /// restore ramdisk): the device's restore software has not started yet.
    pub fn before_restore(self) -> bool {
        matches!(self, Stage::Detection | Stage::BootChain | Stage::Ramdisk)
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// The four button-press families (NOTES.md: top-button iPads are their own scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonScheme {
    /// Home button + Top/Side button (iPhone 6s and earlier, SE 1st gen, Home-button iPads, iPod touch 1–6).
    HomeButton,
    /// Side/Top + Volume Down (iPhone 7/7 Plus, iPod touch 7th gen).
    VolumeDownSide,
    /// Volume Up, Volume Down, hold Side (iPhone 8 and later, SE 2nd/3rd gen).
    VolumeUpDownSide,
    /// Top button + the volume button nearest to / farthest from it (iPads without a Home button).
    TopButtonIpad,
}

impl ButtonScheme {
    pub const ALL: [ButtonScheme; 4] = [
        ButtonScheme::HomeButton,
        ButtonScheme::VolumeDownSide,
        ButtonScheme::VolumeUpDownSide,
        ButtonScheme::TopButtonIpad,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ButtonScheme::HomeButton => "home_button",
            ButtonScheme::VolumeDownSide => "volume_down_side",
            ButtonScheme::VolumeUpDownSide => "volume_up_down_side",
            ButtonScheme::TopButtonIpad => "top_button_ipad",
        }
    }
}

/// The four button procedures every scheme has a guide for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuideKind {
    ForceRestart,
    Recovery,
    Dfu,
    ExitRecovery,
}

impl GuideKind {
    pub const ALL: [GuideKind; 4] = [
        GuideKind::ForceRestart,
        GuideKind::Recovery,
        GuideKind::Dfu,
        GuideKind::ExitRecovery,
    ];
    /// The CLI spelling (`force-restart`, `recovery`, `dfu`, `exit-recovery`).
    pub fn cli_name(self) -> &'static str {
        match self {
            GuideKind::ForceRestart => "force-restart",
            GuideKind::Recovery => "recovery",
            GuideKind::Dfu => "dfu",
            GuideKind::ExitRecovery => "exit-recovery",
        }
    }
    pub fn parse(s: &str) -> Option<GuideKind> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        GuideKind::ALL.into_iter().find(|k| k.cli_name() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Connector {
    ThirtyPin,
    Lightning,
    UsbC,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Biometric {
    FaceId,
    TouchId,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerButton {
    /// On the right-hand side (iPhone 6 and later).
    Side,
    /// On the top edge (iPhone 5s and earlier, iPads, iPod touch).
    Top,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(clippy::enum_variant_names)] // Apple's own spellings
pub enum DeviceFamily {
    #[serde(rename = "iPhone")]
    IPhone,
    #[serde(rename = "iPad")]
    IPad,
    #[serde(rename = "iPod")]
    IPod,
}

/// `knowledge/sources.toml`: every key a number may cite, each a concrete reference.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The name citations use (`KEY` or `KEY@revision` in a `source` string).
    pub key: String,
    /// What the document is, in our words.
    pub title: String,
    /// Where to read it (http or https). For source code: the file in its repository at
    /// [`Source::revision`].
    pub url: String,
    /// The commit (source code) or edition that was read, when there is one.
    #[serde(default)]
    pub revision: Option<String>,
    /// Further addresses of the same evidence (the other threads of one set).
    #[serde(default)]
    pub also: Vec<String>,
    /// What the knowledge base takes from it, and any caveat.
    #[serde(default)]
    pub note: Option<String>,
}

/// `knowledge/error_codes.toml` `[[family]]`: a group of codes that share causes and first steps.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    pub id: String,
    pub title: String,
    pub description: String,
    /// Prior over cause ids (sums to 1); causes not named get 0.
    pub prior: BTreeMap<String, f64>,
    /// Source keys separated by `;`, or `estimate: <reasoning>`.
    pub prior_source: String,
    /// Action ids worth trying first, cheapest first.
    pub first_steps: Vec<String>,
}

/// `knowledge/error_codes.toml` `[[code]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorCode {
    pub code: i64,
    /// Apple's grouping(s) of the code: `check_usb_connection`, `hardware_issue`,
    /// `check_security_software`, `connect_to_apple_servers`, `update_computer`,
    /// `separate_article`, `mixed`; a suffix like `[2013]` marks an older edition.
    #[serde(default)]
    pub apple_category: Vec<String>,
    /// `documented_secondary`, `inferred` or absent (Apple does not list the code).
    #[serde(default)]
    pub apple_category_confidence: Option<String>,
    pub family: String,
    /// One line in our words.
    pub summary: String,
    /// A few sentences in our words: what happened and what it usually means.
    pub meaning: String,
    #[serde(default)]
    pub related: Vec<i64>,
    /// Overrides the family prior when the code points elsewhere than its family.
    #[serde(default)]
    pub prior: Option<BTreeMap<String, f64>>,
    #[serde(default)]
    pub prior_source: Option<String>,
    /// What a broad cause stands for with this code, where the stable cause list (design.md §3)
    /// has no closer id: cause id → words ("other_hardware" for 53 is the Touch ID pairing
    /// check). Shown by `explain` and `diagnose` beside the cause.
    #[serde(default)]
    pub cause_notes: BTreeMap<String, String>,
    /// What to call a broad cause with this code, in place of its general name (4037's
    /// "damaged system software" is "the device's own state: locked with its passcode").
    #[serde(default)]
    pub cause_names: BTreeMap<String, String>,
    pub source: String,
    pub confidence: String,
}

/// `knowledge/error_codes.toml` `[[range]]`: a documented span of codes explained as a group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorRange {
    pub start: i64,
    pub end: i64,
    pub family: String,
    pub summary: String,
    pub meaning: String,
    #[serde(default)]
    pub apple_category: Vec<String>,
    pub source: String,
    pub confidence: String,
}

/// Which devices a cause can apply to. Every listed constraint must hold; empty = no constraint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applicability {
    #[serde(default)]
    pub families: Vec<DeviceFamily>,
    #[serde(default)]
    pub connectors: Vec<Connector>,
    #[serde(default)]
    pub biometrics: Vec<Biometric>,
    /// `Some(true)`: only devices with a cellular modem.
    #[serde(default)]
    pub cellular: Option<bool>,
    /// Explicit product types (e.g. the audio IC's iPhone9,x).
    #[serde(default)]
    pub product_types: Vec<String>,
}

/// `knowledge/causes.toml` `[[cause]]`: one thing that can make a restore fail.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    /// A *stable* id of design.md §3.
    pub id: String,
    /// `connection`, `host`, `software` or `hardware`.
    pub group: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub applies_to: Applicability,
    /// What a repair shop should test first when this is the verdict.
    pub shop_test_first: String,
    /// Typical repair cost range in USD (`[low, high]`).
    pub repair_usd: [f64; 2],
    pub repair_source: String,
    /// How to keep the data when this is the fault.
    pub keep_data: String,
}

/// What a person's own words say about an observation or a step: regular expressions over the
/// lower-cased text (`’` folded to `'`), in any language the reader knows. A negation before a
/// match in the same clause (`knowledge/language.toml`) turns a "yes" into a "no" or drops a
/// "tried"; a hedge before it ("not sure if", "maybe") leaves it unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phrases {
    /// Say "yes" (an observation) or "done, still fails" (an action).
    #[serde(default)]
    pub yes: Vec<String>,
    /// Like `yes`, and a negation inside the matched words makes it a "no" ("it was not
    /// locked", "the update was never interrupted").
    #[serde(default)]
    pub yes_inner_negation: Vec<String>,
    /// Say "no" outright ("the liquid indicator is white").
    #[serde(default)]
    pub no: Vec<String>,
    /// Name one outcome of a multi-outcome observation (`failure_stage`: `nand = [...]`).
    #[serde(default)]
    pub outcomes: BTreeMap<String, Vec<String>>,
    /// A match means something else when the words just before it end with one of these
    /// ("find my" before "iphone disabled").
    #[serde(default)]
    pub not_before: Vec<String>,
    /// ... or when the words right after it start with one of these ("dropped" + "into the
    /// toilet" is liquid, not a fall).
    #[serde(default)]
    pub not_after: Vec<String>,
    /// ... or when the text from the match on starts with one of these ("drops out" is a
    /// disconnection, "falls out" of a pocket is still a fall).
    #[serde(default)]
    pub not_at: Vec<String>,
}

impl Phrases {
    pub fn is_empty(&self) -> bool {
        self.yes.is_empty()
            && self.yes_inner_negation.is_empty()
            && self.no.is_empty()
            && self.outcomes.is_empty()
    }

    /// Every pattern, for validation.
    pub fn patterns(&self) -> impl Iterator<Item = &String> {
        self.yes
            .iter()
            .chain(&self.yes_inner_negation)
            .chain(&self.no)
            .chain(self.outcomes.values().flatten())
            .chain(&self.not_before)
            .chain(&self.not_after)
            .chain(&self.not_at)
    }
}

/// `knowledge/language.toml` `[[language]]`: the words that shape how phrases are read in one
/// language.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Language {
    /// `en`, `de`, `fr`, `it`, `ja`, `ko`...
    pub id: String,
    /// Words that negate what follows them in the same clause ("not", "never", "didn't").
    #[serde(default)]
    pub negators: Vec<String>,
    /// Phrases (regular expressions) that contain a negator without negating ("no space left on
    /// device", "not only", "no matter").
    #[serde(default)]
    pub pseudo_negations: Vec<String>,
    /// Phrases (regular expressions) that make what follows in the clause uncertain ("not sure
    /// if", "maybe", "i think"): an answer there stays unknown.
    #[serde(default)]
    pub hedges: Vec<String>,
    /// Words that start a new clause inside a sentence: a negation does not reach past them.
    #[serde(default)]
    pub clause_words: Vec<String>,
    /// Predicates a negator commonly belongs to instead of what follows ("not working, dropped").
    #[serde(default)]
    pub negated_predicates: Vec<String>,
    /// The English word the reader knows → this language's spellings of it (`iphone` →
    /// `アイフォン`, `error` → `errore`), read as the English word where the device and the
    /// error code are looked for.
    #[serde(default)]
    pub spellings: std::collections::BTreeMap<String, Vec<String>>,
}

/// `knowledge/language.toml` `[[cue]]`: a phrase that sets something other than an observation
/// or a step: the program (`host:futurerestore`), the computer's system (`os:windows`), the
/// person's role (`role:technician`), a forgotten passcode (`passcode_forgotten`). Cues of one
/// kind are tried in file order; the first that matches wins.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cue {
    pub sets: String,
    pub patterns: Vec<String>,
    #[serde(default)]
    pub not_before: Vec<String>,
    #[serde(default)]
    pub not_after: Vec<String>,
}

/// `knowledge/observations.toml` `[[observation]]`: a question, symptom, bench test or log fact.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    pub id: String,
    /// `symptom` (the person knows it), `question` (worth asking), `bench_test` (a technician
    /// measures it), `log_fact` (derived from restore logs or attempts), `reported` (read when
    /// someone says it, never asked: another observation asks the same).
    pub kind: String,
    /// The question as asked, answerable by the outcomes.
    pub question: String,
    /// Possible answers; binary observations use `["yes", "no"]`.
    pub outcomes: Vec<String>,
    /// Cost of finding out (zero for what the person already knows).
    #[serde(default)]
    pub cost: Cost,
    pub skill: Skill,
    /// What the person needs to answer it (`second_computer`, `spare_cable`, `dc_power_supply`...).
    #[serde(default)]
    pub needs: Vec<String>,
    /// The error-code families (`device_state`...) in which the answer is evidence; empty: all.
    /// No code, or an undocumented one, counts as the `unknown` family. Elsewhere the answer is
    /// recorded but moves no cause and the question is not worth asking (a locked screen says
    /// why an update could not start, not why a restore dropped off USB).
    #[serde(default)]
    pub families: Vec<String>,
    /// `likelihood[outcome][cause]` = P(outcome | cause); the key `default` covers unnamed causes.
    /// For a binary observation only the first outcome is given; the other is its complement.
    pub likelihood: BTreeMap<String, BTreeMap<String, f64>>,
    pub source: String,
    /// How people say it in their own words.
    #[serde(default)]
    pub phrases: Phrases,
    /// The answer when the device is one of the knowledge base's devices (an iPhone, iPad or
    /// iPod touch): a question about other devices is not asked then (and the answer it would
    /// get is left out of the evidence: the priors are already those of the device's kind).
    #[serde(default)]
    pub known_device: Option<String>,
}

/// `knowledge/actions.toml` `[[action]]`: something a person does that may fix the restore.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub id: String,
    pub title: String,
    /// The `--tried` vocabulary word that says this was done (design.md §6), if any.
    #[serde(default)]
    pub tried_flag: Option<String>,
    pub cost: Cost,
    pub skill: Skill,
    #[serde(default)]
    pub needs: Vec<String>,
    /// The error-code families in which this step can fix anything; empty: all. No code, or an
    /// undocumented one, counts as the `unknown` family. Elsewhere it fixes nothing and is
    /// never planned (unlocking the device only helps when the update could not start).
    #[serde(default)]
    pub families: Vec<String>,
    /// Observations whose "yes" makes this step impossible (a device stuck in Recovery Mode
    /// cannot be unlocked): never recommended then.
    #[serde(default)]
    pub not_when: Vec<String>,
    pub data_risk: DataRisk,
    /// True for every step that re-runs a restore or update (guardrail: stop after three
    /// failures at the same point).
    #[serde(default)]
    pub is_restore: bool,
    /// True for "system repair" software (never recommended for a hardware verdict).
    #[serde(default)]
    pub is_repair_software: bool,
    /// P(this action fixes the restore | cause); unnamed causes: 0.
    pub fixes: BTreeMap<String, f64>,
    pub source: String,
    /// Plain steps; `{guide:recovery}` style lines are expanded with the device's button guide.
    pub instructions: Vec<String>,
    /// The button guide this action relies on, if any.
    #[serde(default)]
    pub guide: Option<GuideKind>,
    /// How people say they did it (`yes`: done).
    #[serde(default)]
    pub phrases: Phrases,
    /// Answers this step implies when it was done and the restore still fails
    /// (`other_cable_still_fails=yes` for a cable swap): never asked again, no evidence of
    /// their own (the failed step already is).
    #[serde(default)]
    pub implies: Vec<String>,
    /// Observations this step shows when it fails (a restore shows whether it stops at the same
    /// point with the same error): the planner values the step for what it reveals as well as
    /// for its chance to fix, and the question is asked right after.
    #[serde(default)]
    pub reveals: Vec<String>,
}

/// One numbered step of a button guide.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuideStep {
    /// Text; `{power}` is replaced by the device's power button name ("Side button"/"Top button").
    pub text: String,
    /// How long to hold, when the step is a hold.
    #[serde(default)]
    pub hold_seconds: Option<f64>,
}

/// `knowledge/guides.toml` `[[guide]]`: a button procedure for one scheme.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guide {
    pub scheme: ButtonScheme,
    pub kind: GuideKind,
    pub title: String,
    /// What to prepare first (cable, which app to open).
    #[serde(default)]
    pub before: Vec<String>,
    pub steps: Vec<GuideStep>,
    /// What the screen shows when it worked.
    pub success: String,
    /// What the screen shows when it did not, and what that means.
    pub failure: Vec<String>,
    pub mistakes: Vec<String>,
    pub source: String,
}

/// `knowledge/guides.toml` `[[host_app]]`: which program to open on which computer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostApp {
    pub os: String,
    pub app: String,
    pub how: String,
    pub source: String,
}

/// `knowledge/guides.toml` `[[host_wording]]`: words in instructions that name the apps of every
/// computer at once (`generic`, as the actions write them), and what each `--host` reads
/// instead (`by_host`; an empty text drops the line, for a line about another computer).
/// Hosts not named keep the generic words.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostWording {
    pub generic: String,
    pub by_host: BTreeMap<String, String>,
}

/// `knowledge/devices.toml` `[[device]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    pub product_type: String,
    pub board: String,
    pub bdid: u32,
    pub cpid: u32,
    /// Marketing name without storage/carrier qualifiers ("iPhone X").
    pub name: String,
    /// libirecovery's display name, which keeps the variant ("iPhone X (GSM)").
    pub variant: String,
    pub family: DeviceFamily,
    pub soc: String,
    pub year: u16,
    pub connector: Connector,
    pub button_scheme: ButtonScheme,
    pub power_button: PowerButton,
    pub biometric: Biometric,
    pub cellular: bool,
    /// Extra spellings people use ("iPhone 7+", "iPad 7").
    #[serde(default)]
    pub aliases: Vec<String>,
    pub source: String,
}

/// `knowledge/known_faults.toml` `[[fault]]`: a model family's documented hardware weakness.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownFault {
    pub id: String,
    pub title: String,
    pub product_types: Vec<String>,
    /// The cause id this fault is an instance of.
    pub cause: String,
    /// Error codes it is reported with.
    #[serde(default)]
    pub error_codes: Vec<i64>,
    pub symptoms: String,
    pub bench_test: String,
    #[serde(default)]
    pub repair_usd: Option<[f64; 2]>,
    /// Multiplier on the cause's prior for these devices (before renormalising).
    pub prior_weight: f64,
    /// Observations whose answer makes this fault likely (`liquid_exposure`, `recent_drop`,
    /// `has_original_cable=no`; a bare id means "yes"). With triggers, the weight applies only
    /// once one of them is answered so: the model name alone is no evidence of the fault.
    /// Without triggers (a fault tied to its error code), it applies from the start.
    #[serde(default)]
    pub triggers: Vec<String>,
    pub prior_weight_source: String,
    pub source: String,
    pub confidence: String,
}

/// `knowledge/restore_operations.toml` `[[operation]]`: a restore-protocol progress operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreOperation {
    pub id: u32,
    pub label: String,
    #[serde(default)]
    pub other_labels: Vec<String>,
    #[serde(default)]
    pub legacy_label: Option<String>,
    pub stage: Stage,
    #[serde(default)]
    pub related_checkpoints: Vec<u32>,
    #[serde(default)]
    pub notes: String,
    pub source: String,
    pub confidence: String,
}

/// `knowledge/checkpoints.toml` `[[checkpoint]]`: a restored checkpoint id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub id: u32,
    pub name: String,
    pub domain: String,
    pub stage: Stage,
    #[serde(default)]
    pub related_operation: Option<u32>,
    #[serde(default)]
    pub notes: String,
    pub source: String,
    pub confidence: String,
}

/// `knowledge/restore_status.toml` `[[status]]`: a device status message of the restore protocol.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreStatus {
    /// -1 stands for 0xFFFFFFFFFFFFFFFF.
    pub status: i64,
    pub log_string: String,
    pub meaning: String,
    pub stage: Option<Stage>,
    #[serde(default)]
    pub notes: String,
    pub source: String,
    pub confidence: String,
}

/// `knowledge/restore_status.toml` `[[progress_hint]]`: what a progress point means per tool.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressHint {
    pub tool: String,
    pub progress_point: String,
    pub what_is_happening: String,
    #[serde(default)]
    pub failure_points_to: String,
    #[serde(default)]
    pub stage: Option<Stage>,
    pub source: String,
    pub confidence: String,
}

/// `knowledge/usb.toml` `[[usb_id]]`: an Apple USB product id and the mode it means.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsbId {
    pub vid: u16,
    pub pid_low: u16,
    pub pid_high: u16,
    pub label: String,
    /// `dfu`, `wtf`, `recovery`, `port_dfu`, `kis`, `pwned_dfu`, `normal`, `restore_applesilicon`.
    pub mode: String,
    #[serde(default)]
    pub notes: String,
    pub source: String,
    pub confidence: String,
}

/// `knowledge/usb.toml` `[[serial_field]]`: a field of the DFU/Recovery USB serial string.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialField {
    pub field: String,
    pub value_format: String,
    pub meaning: String,
    pub where_present: String,
    pub source: String,
    pub confidence: String,
}

/// `knowledge/cases/*.jsonl`: one real restore failure a person reported in public, with how it
/// was resolved (written in our own words from the source). The corpus the model learns from
/// and the benchmarks score on (`restore-doctor bench cases`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealCase {
    pub id: String,
    /// Where the report comes from.
    pub source_url: String,
    /// Language of the source (`en`, `ja`, `de`...).
    pub language: String,
    /// The device as the person named it.
    pub device: String,
    pub product_type: Option<String>,
    /// The code the host app or tool showed.
    pub error_code: Option<i64>,
    /// The program and computer (`windows_itunes`, `idevicerestore_linux`, `futurerestore`...).
    pub host: String,
    pub ios_from: Option<String>,
    pub ios_to: Option<String>,
    /// What the person knew and said before the fix: the input a diagnosis gets.
    pub report: String,
    /// Steps already taken, in the `--tried` vocabulary or close to it.
    pub tried: Vec<String>,
    /// Restore-log lines the person pasted, verbatim.
    pub log_excerpt: Option<String>,
    /// What fixed it or what was found.
    pub resolution: String,
    /// A stable cause id, or `unresolved`.
    pub resolution_category: String,
    /// `high` (fix tested and confirmed), `medium` (an expert's clear diagnosis), `low` (a guess).
    pub confidence: String,
}

impl RealCase {
    /// The fields a case record has (the knowledge base's own files may have no others).
    pub const FIELDS: [&'static str; 15] = [
        "id",
        "source_url",
        "language",
        "device",
        "product_type",
        "error_code",
        "host",
        "ios_from",
        "ios_to",
        "report",
        "tried",
        "log_excerpt",
        "resolution",
        "resolution_category",
        "confidence",
    ];

    /// Whether the case counts toward accuracy: a confirmed or expert-diagnosed cause (low-
    /// confidence and unresolved cases count only toward confident wrong answers).
    pub fn scored(&self) -> bool {
        matches!(self.confidence.as_str(), "high" | "medium")
            && self.resolution_category != "unresolved"
    }

    /// The source a case comes from, for cross-validation folds: the site, and on GitHub the
    /// repository (cases from one thread or one project's tracker stay in one fold).
    pub fn source_group(&self) -> String {
        let rest = self
            .source_url
            .split_once("://")
            .map_or(self.source_url.as_str(), |(_, r)| r);
        let mut parts = rest.split('/').filter(|p| !p.is_empty());
        let host = parts
            .next()
            .unwrap_or("")
            .trim_start_matches("www.")
            .to_ascii_lowercase();
        if host == "github.com" {
            let repo: Vec<&str> = parts.take(2).collect();
            format!("{host}/{}", repo.join("/").to_ascii_lowercase())
        } else {
            host
        }
    }
}

/// Everything, as serialised by `build.rs` and loaded lazily by the crate.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Tables {
    pub sources: Vec<Source>,
    pub families: Vec<Family>,
    pub codes: Vec<ErrorCode>,
    pub ranges: Vec<ErrorRange>,
    pub causes: Vec<Cause>,
    pub observations: Vec<Observation>,
    pub actions: Vec<Action>,
    pub guides: Vec<Guide>,
    pub host_apps: Vec<HostApp>,
    pub host_wordings: Vec<HostWording>,
    pub devices: Vec<Device>,
    pub known_faults: Vec<KnownFault>,
    pub operations: Vec<RestoreOperation>,
    pub checkpoints: Vec<Checkpoint>,
    pub statuses: Vec<RestoreStatus>,
    pub progress_hints: Vec<ProgressHint>,
    pub usb_ids: Vec<UsbId>,
    pub serial_fields: Vec<SerialField>,
    pub cases: Vec<RealCase>,
    pub languages: Vec<Language>,
    pub cues: Vec<Cue>,
}
