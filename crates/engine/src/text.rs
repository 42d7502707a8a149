//! Free-text intake: reads a person's own description of the problem ("my iphone 7+ fails with
//! error 4013 at the same percentage, tried two cables and my friend's mac, not water damaged")
//! into the structured vocabularies of design.md §6. Pure: a knowledge base in, [`Understood`]
//! out. Negations ("not water damaged", "didn't try DFU") turn a symptom into a "no" and drop a
//! "tried"; what was read is echoed back so the person can correct it.

use kb::{DeviceMatch, KnowledgeBase};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

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
}

#[derive(Debug, Clone, Copy)]
enum Cue {
    Tried(&'static str),
    Seen(&'static str),
    /// A symptom stated as absent ("the liquid indicator is white").
    SeenNo(&'static str),
    /// A symptom whose phrase may carry its own negation ("it was not locked"): a negator
    /// inside the match also makes it a "no".
    SeenUnless(&'static str),
    Stage(&'static str),
    Expendable,
    NoBackup,
}

/// (pattern, cue). Patterns run on lower-cased text with `’` folded to `'`.
const CUES: &[(&str, Cue)] = &[
    // tried
    (
        r"\b(another|other|different|new|second|spare|original|apple|several|multiple|two|three|four|2|3|4)( \w+)? (usb[- ]?c? )?(cables?|cords?|leads?)\b",
        Cue::Tried("cable_swap"),
    ),
    (
        r"\b(changed|swapped|switched|replaced) (the )?(cable|cord|lead)\b",
        Cue::Tried("cable_swap"),
    ),
    (
        r"\b(another|other|different|second|every|all|back|front|rear|several) (usb )?ports?\b",
        Cue::Tried("port_swap"),
    ),
    (
        r"\b(without (a |the )?(usb )?(hub|dock|adapter)|no (usb )?hub|removed the (hub|dock|adapter)|(plugged )?directly into)\b",
        Cue::Tried("hub_removed"),
    ),
    (
        r"\b(another|other|different|second|two|three|several|multiple|2|3)( \w+)? (computers?|pcs?|macs?|laptops?|macbooks?|machines?|stations?|benches)\b",
        Cue::Tried("other_computer"),
    ),
    (
        r"\b(friend'?s|brother'?s|sister'?s|work|wife'?s|husband'?s|dad'?s|mom'?s|mum'?s|office|school) (computer|pc|mac|laptop|macbook|imac)\b",
        Cue::Tried("other_computer"),
    ),
    (
        r"\b(updated|update|upgraded|reinstalled|latest|newest|new version of) (my |the )?(itunes|finder|macos|mac os|windows|apple devices|drivers?)\b",
        Cue::Tried("host_software_update"),
    ),
    (
        r"\b(itunes|macos|windows|apple devices)( is| was)? (fully )?(up to date|updated|latest)\b",
        Cue::Tried("host_software_update"),
    ),
    (
        r"\b(force[d]? ?restart(ed)?|hard reset|hard reboot|forced reboot)\b",
        Cue::Tried("force_restart"),
    ),
    (r"\bdfu\b", Cue::Tried("dfu_restore")),
    (
        r"\b(recovery (mode )?update|update in recovery|updated? from recovery|clicked update|chose update|choosing update|tried update)\b",
        Cue::Tried("recovery_update"),
    ),
    (
        r"\b(recovery (mode )?restore|restore in recovery|restored? from recovery|clicked restore|chose restore|choosing restore)\b",
        Cue::Tried("recovery_restore"),
    ),
    (
        r"\b(reiboot|system repair tool|tenorshare|dr\.? ?fone|imyfone|fixppo|tuneskit|ultfone|joyoshare)\b",
        Cue::Tried("third_party_tool"),
    ),
    (
        r"\b(disabled|turned off|uninstalled|removed) (the |my )?(antivirus|anti-virus|firewall|security software|vpn|norton|mcafee|avast)\b",
        Cue::Tried("security_software_disabled"),
    ),
    (
        r"\b(checked|cleaned|reset|fixed|cleared) (the |my )?hosts file\b|\bhosts file (is |was )?(clean|checked|fine|ok)\b",
        Cue::Tried("hosts_file_checked"),
    ),
    (
        r"\b(different|another|other) (wifi|wi-fi|network|internet)\b",
        Cue::Tried("network_change"),
    ),
    (
        r"\b(re-?downloaded|downloaded (a |the )?(new|fresh)|fresh|new) (the )?(ipsw|firmware)\b",
        Cue::Tried("firmware_redownload"),
    ),
    (
        r"\b(new|replaced (the )?|changed (the )?)battery\b|\bbattery (was )?replaced\b",
        Cue::Tried("battery_replaced"),
    ),
    (
        r"\bcleaned (the |out the )?(charging |lightning )?port\b",
        Cue::Tried("device_port_cleaned"),
    ),
    (
        r"\b(freed|cleared|made) (up )?(some )?(space|storage)\b|\bdeleted (some )?(apps|photos|videos)\b",
        Cue::Tried("storage_freed"),
    ),
    (
        r"\b(whatever|any|every|each|all) (computer|pc|mac|laptop|machine|station|bench)(s|es)?\b",
        Cue::Tried("other_computer"),
    ),
    (
        r"\b(whatever|any|every|each) (usb )?(cable|cord)\b",
        Cue::Tried("cable_swap"),
    ),
    (
        r"\b(cable|cord) and (a |the )?(usb )?port\b",
        Cue::Tried("port_swap"),
    ),
    (
        r"\b(tried|and) (an? )?update and dfu\b",
        Cue::Tried("recovery_update"),
    ),
    // symptoms
    // Liquid contact indicators first: a white/silver indicator says no liquid, a red one yes.
    (
        r"\b(lci|liquid (contact )?indicators?|water (damage )?indicators?|moisture indicators?)( \w+){0,3} (is |are |was |were |looks |looked |shows |showed )?(white|silver|clean|untriggered|not (tripped|triggered|red|pink))\b",
        Cue::SeenNo("liquid_exposure"),
    ),
    (
        r"\b(lci|liquid (contact )?indicators?|water (damage )?indicators?|moisture indicators?)( \w+){0,3} (is |are |was |were |looks |looked |shows |showed |turned |has turned )?(red|pink|tripped|triggered|activated)\b",
        Cue::Seen("liquid_exposure"),
    ),
    (
        r"\b(water|liquid|wet|spill(ed)?|rain|toilet|pool|sea|ocean|lake|river|puddle|sink|bath|bathtub|shower|coffee|juice|moisture|submerged)\b",
        Cue::Seen("liquid_exposure"),
    ),
    (
        r"\b(dropped|drops?|fell|falls?|cracked)\b",
        Cue::Seen("recent_drop"),
    ),
    (
        r"\b(cheap|cheapo|non-?apple|non-?mfi|uncertified|knock-?off|fake|generic|gas station|dollar store|aftermarket|no-?name|frayed|damaged|broken|worn|amazon|third-party)( \w+)? (usb[- ]?c? |lightning )?(cables?|cords?|leads?)\b",
        Cue::SeenNo("has_original_cable"),
    ),
    (
        r"\b(original|genuine|official|apple|mfi[- ]?certified|mfi|certified)( \w+)? (usb[- ]?c? |lightning )?(cables?|cords?|leads?)\b",
        Cue::Seen("has_original_cable"),
    ),
    (
        r"\b(through|via|using|with|into|on|in|to) (a |an |the |my |this |his |her )?(usb[- ]?c? |usb 3 |thunderbolt |cheap |powered |unpowered |anker |belkin |usb[- ]?[ac] to (lightning|usb[- ]?[ac]) )?(hub|dock|docking station|dongle|adapter|keyboard|monitor|usb splitter)\b",
        Cue::Seen("hub_or_adapter"),
    ),
    (
        r"\b(lint|dirt|debris|dust|gunk|fluff|grime|sand|corrosion|corroded)\b( \w+){0,4} (port|lightning|connector|socket)\b|\b(port|lightning port|charging port|connector|socket)( \w+){0,4} (lint|dirt|debris|dust|gunk|fluff|grime|sand|corrosion|corroded|dirty)\b|\b(plug|cable|connector) (is |feels |sits )?(loose|wobbly)\b|\b(doesn'?t|does not|won'?t) (click|lock|stay) in\b|\b(cable|plug|cord|connector) (\w+ )?(falls|slips|comes|pops|fell|slipped) out\b|\b(at an angle|at a certain angle|wiggle|wiggling|jiggle|jiggling)\b",
        Cue::Seen("port_debris"),
    ),
    (
        r"\b((it|the (phone|iphone|ipad|ipod|device))( then| just| always| suddenly| randomly| simply)? (disconnects|disconnected|drops off|dropped off|drops out|dropped out)|(keeps?|kept) (on )?(disconnecting|dropping (out|off)|losing (the )?connection)|(disconnects|disconnected|drops (out|off)|dropped (out|off)|loses (the )?connection|lost (the )?connection)( \w+){0,3} (during|mid|midway|in the middle of|while|halfway)|drops? off usb|(usb )?disconnect(ion)? sound)\b",
        Cue::Seen("usb_dropout"),
    ),
    (
        r"\b((update|updating|upgrade|restore)( \w+){0,3} (got |was |were )?(interrupted|cut off|stopped (halfway|half way|midway|in the middle))|interrupted (the )?(update|upgrade|restore)|(died|shut ?down|turned off|ran out|went to sleep|unplugged|disconnected|pulled)( it| the (phone|ipad|cable|device))? (out )?(during|while|in the middle of|mid)[- ]?(the )?(update|updating|upgrade)|(after|since) (a|an|the|my) failed( \w+){0,3} (update|upgrade)|(update|upgrade) failed( \w+){0,2} (and|then) (now )?(it'?s |it is |it was |it got |it )?(stuck|boot ?looping|in a boot ?loop|in recovery))\b",
        Cue::Seen("update_interrupted"),
    ),
    (
        r"\b(windows (7|8|8\.1|vista|xp)|win ?(7|8)|(mac ?os|os x|osx)? ?(high sierra|sierra|el capitan|yosemite|mavericks|mojave|catalina)|(mac ?os|os x|osx) ?10\.\d+|itunes (9|10|11|12\.[0-9])(\.\d+)*|(old|older|ancient|outdated|out of date|old version of) (itunes|mac ?os|windows|version of itunes|idevicerestore|libimobiledevice|apple devices)|(itunes|mac ?os|windows|idevicerestore|libimobiledevice)( is| was)? (old|outdated|out of date|years old|ancient)|idevicerestore (0\.|1\.0)|(ubuntu|debian|distro|distribution)( \d+(\.\d+)?)? (package|repo|repository|version))\b",
        Cue::Seen("old_host_software"),
    ),
    (
        r"\b(screen|display|battery|port|back glass) (was )?(replaced|repaired|changed|swapped)\b|\b(replaced|repaired|changed|swapped|replacing|repairing|changing|swapping) (the |its |my |a )?(screen|display|home button|battery|charging port|back glass|face ?id|earpiece)\b|\b(after|since) (a |the )?(repair|screen replacement|battery replacement)\b|\b(replacement|third[- ]party|aftermarket|non[- ]genuine) (screen|display|battery)\b",
        Cue::Seen("recent_repair"),
    ),
    (
        r"\b(no service|no signal|searching|no imei|no baseband|imei (is )?missing|unknown imei)\b",
        Cue::Seen("no_service"),
    ),
    (
        r"\b(speaker|loudspeaker|speakerphone)( \w+){0,3} (greyed|grayed)\b|\b(greyed|grayed)( \w+){0,2} speaker\b|\bvoice memos?\b",
        Cue::Seen("speaker_greyed_out"),
    ),
    (
        r"\bface ?id( \w+){0,2} (stopped|broken|not working|doesn'?t work|unavailable|not available|disabled|failed)\b|\b(broken|no) face ?id\b",
        Cue::Seen("face_id_broken"),
    ),
    (
        r"\btrue ?tone( \w+){0,2} (missing|gone|disappeared)\b|\bno true ?tone\b",
        Cue::Seen("true_tone_missing"),
    ),
    (
        r"\b(boot ?loop(ing)?|(restart|reboot)(s|ing)? (itself )?(over and over|again and again|constantly|itself|every (few|couple of|\d+) (seconds|minutes|mins?))|keeps (on )?(restarting|rebooting)|(stuck|hangs?|hanging|frozen) (on|at) (the )?(apple )?logo)\b",
        Cue::Seen("boot_loop"),
    ),
    (
        r"\b(not (being )?(detected|recogni[sz]ed|showing up)|doesn'?t (show up|appear|get detected)|won'?t (show up|be detected)|no device (detected|found)|never sees|(doesn'?t|does not|can'?t|cannot) see (the |my )?(phone|ipad|device|it))\b",
        Cue::Seen("not_detected"),
    ),
    (
        r"\b(same (percentage|percent|point|spot|place|progress|stage)|always (stops|fails|gets stuck|ends|dies) (at|on)|always at|every time at|each time at)\b",
        Cue::Seen("same_failure_point"),
    ),
    (
        r"\b(different errors?|error (changes|varies|is different)|various errors|errors? keeps? changing)\b",
        Cue::Seen("error_varies"),
    ),
    (
        r"\b(not enough (space|storage)|storage (is )?(almost )?full|out of (space|storage)|low (on )?(storage|space)|no space)\b",
        Cue::Seen("low_storage"),
    ),
    (
        // "the phone was almost full of photos", "my iphone is full"; not "a full restore".
        r"\b(phone|iphone|ipad|ipod|device|storage|memory|it)( (is|was|got|gets|had|has been|was getting|is getting|pretty|really|so))* (almost |nearly |completely |totally |basically )?full\b",
        Cue::Seen("low_storage"),
    ),
    (
        r"\b(battery (is )?dead|dead battery|battery (at|shows) 0|won'?t turn on)\b",
        Cue::Seen("battery_dead"),
    ),
    (
        r"\b(won'?t charge|not charging|doesn'?t charge|charging (problem|issue)s?|charges? (slowly|intermittently|badly|poorly)|only charges (if|when|at))\b",
        Cue::Seen("charging_problem"),
    ),
    (
        r"\b(sees|detects|shows|recogni[sz]es|finds) (it|the phone|the ipad|the device) in recovery\b|\b(in|into|to) recovery mode\b",
        Cue::Seen("detected_in_recovery"),
    ),
    (
        r"\b(earpiece|face ?id|front|proximity|sensor) (flex|sensor|cable|assembly)( \w+){0,2} (disconnected|unplugged|removed)\b",
        Cue::Seen("works_with_earpiece_flex_disconnected"),
    ),
    // A locked device: passcode, disabled or unavailable, forgotten passcode, Trust not tapped.
    // Activation, carrier and SIM locks are other things (no subject word before "locked").
    (
        r"\b(phone|iphone|ipad|ipod|device|it|screen)( (is|was|got|gets|stays|stayed|remained|being|still|not|never|wasn'?t|isn'?t|is still|was still))* (passcode[- ])?locked\b|\blocked (phone|iphone|ipad|device|screen)\b|\blocked (with|by) (a |the |my |its )?(passcode|pass code|pin|code)\b|\b(passcode|pass code)[- ]locked\b|\b(stuck )?(on|at) (the )?lock ?screen\b|\blocked out of (it|my|the|her|his)\b",
        Cue::SeenUnless("device_locked"),
    ),
    (DISABLED, Cue::SeenUnless("device_locked")),
    (FORGOT_PASSCODE, Cue::Seen("device_locked")),
    (
        r"\basks? for (a |the |my |its )?(passcode|pass code)\b",
        Cue::Seen("device_locked"),
    ),
    (
        r"\b(didn'?t|did not|never|forgot to|without|not) (tap|tapping|tapped|press|pressed|click|clicked|accept|accepted|hit|confirm|confirmed)( on)? (the )?'?trust\b|\btrust this computer\b( \w+){0,3} (never|didn'?t|did not|doesn'?t|does not|won'?t|not) (appear|appears|appeared|show|shows|showed|pop|pops|popped|come|comes|came)\b",
        Cue::Seen("device_locked"),
    ),
    (
        r"\b(unlocked it|kept it unlocked|(it|phone|iphone|ipad|device) (was|is|stayed|kept) unlocked|tapped trust|trusted the computer)\b",
        Cue::SeenNo("device_locked"),
    ),
    // failure points
    (r"\bwaiting for (the )?nand\b|\bnand\b", Cue::Stage("nand")),
    (
        r"\b(waiting for|updating) (the )?baseband\b|\bbaseband (step|stage|update|firmware)\b",
        Cue::Stage("baseband"),
    ),
    (
        r"\b(verifying|verify) (the )?(restore|image)\b",
        Cue::Stage("verify"),
    ),
    (r"\b(sep|secure enclave)\b", Cue::Stage("sep")),
    // data
    (
        r"\b(backed up|have a backup|has a backup|icloud backup|data (does not|doesn'?t) matter|don'?t care about (the )?data|can lose (the )?data|ok to erase)\b",
        Cue::Expendable,
    ),
    (
        r"\b(no backup|not backed up|never backed up|without (a )?backup|need (my|the) (data|photos))\b",
        Cue::NoBackup,
    ),
];

/// "iPhone is disabled", "iPhone Unavailable", "security lockout": the passcode was entered
/// wrong too often.
const DISABLED: &str = r"\b(iphone|ipad|ipod|phone|device|it)( (is|was|got|gets|says|said|shows|showed|became|went|being|still|not|never|now))* (disabled|unavailable)\b|\bsecurity lockout\b";

/// "I forgot my passcode", "can't remember the passcode", "passcode forgotten".
const FORGOT_PASSCODE: &str = r"\b(forgot|forgotten|forget|forgetting|lost|don'?t remember|can'?t remember|do not remember|cannot remember|don'?t know|do not know)( \w+){0,2} (passcode|pass code|(phone|iphone|ipad|screen|lock ?screen|unlock) (password|pin|code))\b|\b(passcode|pass code)( is| was)? forgotten\b";

/// Whether a matched phrase carries its own negation ("it was not locked").
fn says_not(phrase: &str) -> bool {
    phrase
        .split_whitespace()
        .any(|w| matches!(w, "not" | "never" | "wasnt" | "isnt") || w.ends_with("n't"))
}

const NEGATORS: &[&str] = &[
    "not", "no", "never", "didn't", "didnt", "did", "haven't", "havent", "hasn't", "hasnt",
    "wasn't", "wasnt", "isn't", "isnt", "nor", "don't", "dont", "neither", "without", "nothing",
];

fn compiled() -> &'static Vec<(Regex, Cue)> {
    static RE: OnceLock<Vec<(Regex, Cue)>> = OnceLock::new();
    RE.get_or_init(|| {
        CUES.iter()
            .map(|(p, c)| (Regex::new(p).expect("cue pattern compiles"), *c))
            .collect()
    })
}

fn re(pattern: &'static str, slot: &'static OnceLock<Regex>) -> &'static Regex {
    slot.get_or_init(|| Regex::new(pattern).expect("pattern compiles"))
}

/// Whether the words just before `start` (in the same clause) negate what follows.
fn negated(text: &str, start: usize) -> bool {
    let before = &text[..start];
    let clause_start = before
        .rfind(['.', ';', '!', '?', ',', '\n'])
        .map_or(0, |i| i + 1);
    let mut clause = &before[clause_start..];
    if let Some(i) = clause.rfind(" but ") {
        clause = &clause[i + 5..];
    }
    let words: Vec<&str> = clause
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\''))
        .collect();
    // A clause word after the negator ends its reach: "face id not available after a screen
    // replacement" does not negate the replacement.
    let clause_from = words
        .iter()
        .rposition(|w| CLAUSE_WORDS.contains(w))
        .map_or(0, |i| i + 1);
    let words = &words[clause_from..];
    let window = &words[words.len().saturating_sub(4)..];
    window.iter().enumerate().any(|(i, w)| {
        // "did" negates only as "did not"; handled by "not".
        *w != "did"
            && NEGATORS.contains(w)
            // "not working, dropped": the negator belongs to its own predicate.
            && !window[i + 1..].iter().any(|x| NEGATED_PREDICATES.contains(x))
    })
}

/// Words that start a new clause inside a sentence.
const CLAUSE_WORDS: &[&str] = &[
    "after", "since", "because", "when", "then", "so", "although", "though", "while", "and",
];

/// Predicates a negator commonly belongs to instead of the symptom that follows them.
const NEGATED_PREDICATES: &[&str] = &[
    "available",
    "working",
    "work",
    "works",
    "detected",
    "recognised",
    "recognized",
    "showing",
    "charging",
    "responding",
    "booting",
    "turning",
    "helping",
    "help",
    "helped",
    "fixed",
];

/// Words that name a symptom without meaning it: a phone "dropped in the toilet" or "into
/// water" met liquid, not the floor; a connection that "drops" or a device that "falls back to
/// DFU" is a USB drop-out or a mode change; "water-resistant" and "waterproof" describe a case or
/// a phone; a liquid indicator's colour is read by its own cues.
fn not_really(obs: &str, t: &str, start: usize, end: usize) -> bool {
    let after = &t[end..];
    let before = t[..start].trim_end();
    match obs {
        "recent_drop" => {
            static INTO_LIQUID: OnceLock<Regex> = OnceLock::new();
            static NOT_A_FALL: OnceLock<Regex> = OnceLock::new();
            let into_liquid = re(
                r"^( \w+){0,2} (in|into|inside) (the |a |an |my |some |his |her |our )?(\w+ )?(toilet|water|pool|sink|bath|bathtub|tub|sea|ocean|lake|river|puddle|pond|glass|cup|mug|coffee|tea|drink|beer|wine|juice|snow|bucket|washing machine|dishwasher|shower|liquid|loo)\b",
                &INTO_LIQUID,
            );
            let not_a_fall = re(
                r"^(s|ped|ping)?( \w+)? (off|out)( of)? (the )?(usb|itunes|finder|apple devices|computer|pc|mac|connection|3utools|restore)\b|^( \w+)? (the |its |my )?(usb |itunes |finder )?connection\b|^s? (back|into (dfu|recovery))\b|^( \w+)? back (to|into|in)\b|^( \w+){0,2} (from|off) (usb|itunes|finder|the computer|the pc|the mac|apple devices)\b",
                &NOT_A_FALL,
            );
            // "keeps dropping out", "it drops out at 60%": a disconnection.
            static DROPS_OUT: OnceLock<Regex> = OnceLock::new();
            let drops_out = t[start..end].starts_with("drop")
                && re(r"^(s|ped|ping)? out\b", &DROPS_OUT).is_match(after);
            let season = t[start..end].starts_with("fall")
                && ["last", "this", "since", "in the"]
                    .iter()
                    .any(|w| before.ends_with(w));
            let link = [
                "connection",
                "usb",
                "signal",
                "wifi",
                "wi-fi",
                "cable",
                "plug",
                "cord",
                "connector",
            ]
            .iter()
            .any(|w| before.ends_with(w));
            into_liquid.is_match(after) || not_a_fall.is_match(after) || drops_out || season || link
        }
        // "it was full" of data, not "a full restore" / "full backup" / "fully charged".
        "low_storage" => {
            let next = after.split_whitespace().next().unwrap_or("");
            matches!(
                next.trim_matches(|c: char| !c.is_alphanumeric()),
                "restore"
                    | "backup"
                    | "back"
                    | "charge"
                    | "charged"
                    | "battery"
                    | "erase"
                    | "wipe"
                    | "reset"
                    | "screen"
                    | "version"
                    | "install"
                    | "update"
                    | "flash"
                    | "speed"
                    | "power"
                    | "brightness"
                    | "day"
                    | "night"
                    | "time"
            )
        }
        // "find my iPhone disabled" is a setting turned off before a restore, not a lock.
        // "locked to AT&T" is a carrier lock.
        // "locked up" is frozen; "locked in recovery" is stuck in a mode.
        "device_locked" => {
            before.ends_with("find my")
                || before.ends_with("find my's")
                || [" to ", " by carrier", " by the carrier", " up", " in "]
                    .iter()
                    .any(|w| after.starts_with(w))
        }
        "liquid_exposure" => {
            static RESISTANT: OnceLock<Regex> = OnceLock::new();
            static INDICATOR: OnceLock<Regex> = OnceLock::new();
            re(r"^[- ]?(resistant|resistance|proof|rated)\b", &RESISTANT).is_match(after)
                || re(r"^ (damage )?(contact )?indicators?\b", &INDICATOR).is_match(after)
        }
        _ => false,
    }
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

/// The observations the free-text reader can find (what a text that does not mention them is
/// silent about).
pub fn readable_observations() -> &'static [String] {
    static IDS: OnceLock<Vec<String>> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut ids: Vec<String> = CUES
            .iter()
            .filter_map(|(_, c)| match c {
                Cue::Seen(o) | Cue::SeenNo(o) | Cue::SeenUnless(o) => Some(o.to_string()),
                Cue::Stage(_) => Some("failure_stage".to_string()),
                _ => None,
            })
            .chain(
                ["downgrade_attempt", "error_varies", "host_app"]
                    .iter()
                    .map(|s| s.to_string()),
            )
            .collect();
        ids.sort();
        ids.dedup();
        ids
    })
}

/// Read free text.
pub fn understand(kb: &KnowledgeBase, text: &str) -> Understood {
    let t = text.to_lowercase().replace(['’', '‘'], "'");
    let (device, device_candidates) = find_device_or_candidates(kb, &t);
    let mut u = Understood {
        device,
        device_candidates,
        error_code: find_error_code(kb, &t),
        ..Understood::default()
    };

    // Host app and computer.
    static WIN: OnceLock<Regex> = OnceLock::new();
    static MAC: OnceLock<Regex> = OnceLock::new();
    if re(r"\b(windows|win ?10|win ?11|win ?7|pc)\b", &WIN).is_match(&t) {
        u.computer_os = Some("windows".into());
    } else if re(r"\b(mac|macbook|imac|macos|mac os|os x|osx)\b", &MAC).is_match(&t) {
        u.computer_os = Some("macos".into());
    }
    let win = u.computer_os.as_deref() == Some("windows");
    u.host = if t.contains("legacy ios kit") || t.contains("legacy-ios-kit") {
        Some("legacy_ios_kit".into())
    } else if t.contains("pymobiledevice") {
        Some("pymobiledevice3".into())
    } else if [
        "leetdown",
        "n1ghtshade",
        "sunst0rm",
        "powdersn0w",
        "odysseus",
        "downr1n",
        "semaphorin",
        "ota downgrader",
        "cherrytree",
        "turdus merula",
    ]
    .iter()
    .any(|w| t.contains(w))
    {
        Some("downgrade_tool".into())
    } else if t.contains("futurerestore") || t.contains("future restore") {
        Some("futurerestore".into())
    } else if t.contains("idevicerestore") {
        Some("idevicerestore".into())
    } else if t.contains("3utools") || t.contains("3u tools") {
        Some("3utools".into())
    } else if t.contains("imazing") {
        Some("imazing".into())
    } else if t.contains("configurator") {
        Some("apple_configurator".into())
    } else if t.contains("apple devices") {
        Some("windows_apple_devices".into())
    } else if t.contains("finder") {
        Some("macos_finder".into())
    } else if t.contains("itunes") {
        Some(match u.computer_os.as_deref() {
            Some("windows") => "windows_itunes".into(),
            Some("macos") => "macos_itunes".into(),
            _ => "itunes".into(),
        })
    } else {
        None
    };
    let _ = win;

    // Cues with negation.
    for (re, cue) in compiled() {
        for m in re.find_iter(&t) {
            if t[..m.start()].ends_with("non-") || t[..m.start()].ends_with("non ") {
                continue;
            }
            // "the update was not interrupted": the negation sits inside the phrase.
            let inner = matches!(cue, Cue::Seen("update_interrupted"))
                && m.as_str()
                    .split_whitespace()
                    .any(|w| w == "not" || w == "never" || w.ends_with("n't"));
            let inner = inner || (matches!(cue, Cue::SeenUnless(_)) && says_not(m.as_str()));
            let neg = inner || negated(&t, m.start());
            match (*cue, neg) {
                (Cue::Tried(flag), false) => {
                    if !u.tried.iter().any(|x| x == flag) {
                        u.tried.push(flag.to_string());
                    }
                }
                (Cue::Tried(flag), true) => {
                    let n = format!("tried {flag}");
                    if !u.negated.contains(&n) {
                        u.negated.push(n);
                    }
                }
                (Cue::SeenNo(obs), _) => {
                    u.observed
                        .entry(obs.to_string())
                        .or_insert("no".to_string());
                }
                (Cue::Seen(obs) | Cue::SeenUnless(obs), _)
                    if not_really(obs, &t, m.start(), m.end()) => {}
                (Cue::Seen(obs) | Cue::SeenUnless(obs), neg) => {
                    let v = if neg { "no" } else { "yes" };
                    // A "yes" anywhere wins over a "no" for the same symptom? No: the first
                    // reading stands unless a later one is positive and the first negative.
                    let e = u.observed.entry(obs.to_string()).or_insert(v.to_string());
                    if neg && e == "no" && !u.negated.iter().any(|x| x == obs) {
                        u.negated.push(obs.to_string());
                    }
                }
                (Cue::Stage(stage), false) => {
                    u.observed
                        .entry("failure_stage".into())
                        .or_insert(stage.to_string());
                }
                (Cue::Stage(_), true) => {}
                (Cue::Expendable, false) => u.data_expendable = true,
                (Cue::Expendable, true) | (Cue::NoBackup, false) => {
                    u.observed.insert("backup_exists".into(), "no".into());
                }
                (Cue::NoBackup, true) => {}
            }
        }
    }
    if u.data_expendable && u.observed.get("backup_exists").is_none_or(|v| v == "yes") {
        u.observed.insert("backup_exists".into(), "yes".into());
    } else if u.observed.get("backup_exists").is_some_and(|v| v == "no") {
        u.data_expendable = false;
    }
    // Negated tries are removed ("didn't try DFU").
    let neg_tried: Vec<String> = u
        .negated
        .iter()
        .filter_map(|n| n.strip_prefix("tried ").map(str::to_string))
        .collect();
    u.tried.retain(|f| !neg_tried.contains(f));
    // "DFU" as a mode the device is detected in is not a DFU restore attempt when the text says
    // "detected in dfu"/"in dfu mode" without restoring; keep it simple: a DFU restore needs a
    // word of restoring nearby or "tried".
    if u.tried.iter().any(|f| f == "dfu_restore") {
        static DFU_RESTORE: OnceLock<Regex> = OnceLock::new();
        let r = re(
            r"(tried|try|trying|did|done|do|restor\w*|using|used|put|via|through|in|with|and)( \w+){0,3} dfu|dfu( \w+){0,3} (restor\w*|mode|too|also|as well|didn'?t|did not|failed|fails|help\w*)",
            &DFU_RESTORE,
        );
        // "falls back to DFU", "stuck in DFU": a state the device ends in, not a DFU restore.
        static DFU_STATE: OnceLock<Regex> = OnceLock::new();
        let state = re(
            r"\b(back (in)?to|stuck in|ends? up in|ended up in|comes? back in|came back in|drops? (in)?to|dropped (in)?to|goes (in)?to|went (in)?to|only (in|shows up in)) (the )?dfu\b",
            &DFU_STATE,
        );
        let mentions = t.matches("dfu").count();
        if !r.is_match(&t) || state.find_iter(&t).count() >= mentions {
            u.tried.retain(|f| f != "dfu_restore");
        }
    }

    // Several different error codes named: the error varies.
    if !u.observed.contains_key("error_varies") && all_error_codes(kb, &t).len() >= 2 {
        u.observed.insert("error_varies".into(), "yes".into());
    }

    static DOWNGRADE: OnceLock<Regex> = OnceLock::new();
    u.wants_downgrade = re(
        r"\b(downgrad\w*|go(ing)? back to (ios|an older|the old)|roll(ing)? back|older (ios|version|firmware)|leave the (ios )?beta|leaving the (ios )?beta|unsigned)\b",
        &DOWNGRADE,
    )
    .is_match(&t);
    if u.wants_downgrade {
        u.observed
            .entry("downgrade_attempt".into())
            .or_insert("yes".into());
    }

    // A forgotten passcode or a disabled device: the passcode cannot be entered.
    static FORGOT: OnceLock<Regex> = OnceLock::new();
    static DISABLED_RE: OnceLock<Regex> = OnceLock::new();
    if u.observed.get("device_locked").is_some_and(|v| v == "yes") {
        let forgot = re(FORGOT_PASSCODE, &FORGOT).find_iter(&t);
        let disabled = re(DISABLED, &DISABLED_RE).find_iter(&t);
        u.passcode_forgotten = forgot.chain(disabled).any(|m| {
            !negated(&t, m.start())
                && !says_not(m.as_str())
                && !not_really("device_locked", &t, m.start(), m.end())
        });
    }

    static TECH: OnceLock<Regex> = OnceLock::new();
    if re(
        r"\b(tech here|technician|i'?m a tech|repair shop here|(on|at) (the|my|our) bench|bench (test|tested|power|supply)|dc (power )?supply|boot current|microscope|ammeter|stations?\b.*\b(cables?|restores?))\b",
        &TECH,
    )
    .is_match(&t)
    {
        u.role = Some("technician".into());
    }
    static DC_LOW: OnceLock<Regex> = OnceLock::new();
    static DC_SHORT: OnceLock<Regex> = OnceLock::new();
    static DC_NORMAL: OnceLock<Regex> = OnceLock::new();
    if re(
        r"\b(boot current|current draw|dc (power )?supply|ammeter|power supply)( \w+){0,4} (stuck|stays|sits|hangs|hanging|only|stops)( \w+){0,2} (low|at 2\d ?ma|around 2\d ?ma|2\d ?ma)\b",
        &DC_LOW,
    )
    .is_match(&t)
    {
        u.bench.insert("dc_boot_current".into(), "low_no_cpu".into());
    } else if re(
        r"\b(boot current|current draw|dc (power )?supply|ammeter|power supply)( \w+){0,4} (short|shorted|shorts|maxe?s? out|jumps? to (the )?(limit|max)|high current)\b|\bshort (on|in) (the )?(main|vcc|pp)",
        &DC_SHORT,
    )
    .is_match(&t)
    {
        u.bench.insert("dc_boot_current".into(), "short".into());
    } else if re(
        r"\b(boot current|current draw)( \w+){0,3} (looks |is |seems )?(normal|fine|ok|good)\b",
        &DC_NORMAL,
    )
    .is_match(&t)
    {
        u.bench.insert("dc_boot_current".into(), "normal".into());
    }

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
    if let Some(c) = a.captures(t) {
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
                return Some(found);
            }
        }
    }
    // Bare model phrases: "my X", "11 pro max", "7+", "xs max".
    static BARE: OnceLock<Regex> = OnceLock::new();
    let bare = re(
        r"\b(?:my|an?|the|this|her|his)?\s*((?:1[1-7]|[4-8])(?:\s*(?:pro max|pro|plus|\+|mini|s plus|s|c))?|xs max|xs|xr|x|se(?: (?:2|3|2nd|3rd)(?: gen)?)?)(?:\s|$|[,.!?])",
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
        // "my x" only as a whole word; ignore "error 14 x" style noise.
        let before = &t[..m.start()];
        if before.trim_end().ends_with("error") || before.trim_end().ends_with("err") {
            continue;
        }
        if let Some(found) = try_find(&format!("iphone {phrase}")) {
            return Some(found);
        }
    }
    None
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
