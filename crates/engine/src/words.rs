//! Evidence in plain words, for people: no observation ids, outcome ids or `--host` values
//! (`apple_current`, `failure_stage=nand`, `windows_apple_devices`) in what a front end shows.
//! The posterior's own trace names findings by their question and raw outcome; the response
//! builder ([`crate::api::respond`]) uses these words instead, and the front ends use them for
//! what the free text was read as.

use crate::evidence::Finding;
use crate::model::Model;
use kb::{KnowledgeBase, Stage, vocab};

/// A stage of a restore in words ("updating the storage chip (NAND)").
pub fn stage(s: Stage) -> &'static str {
    match s {
        Stage::Partition => "partitioning the storage",
        Stage::Filesystem => "preparing the file systems",
        Stage::ImageTransfer => "sending the system image",
        Stage::Verify => "verifying the system image",
        Stage::Nand => "updating the storage chip (NAND)",
        Stage::Baseband => "updating the modem (baseband)",
        Stage::Firmware => "updating a part's firmware",
        Stage::Sep => "updating the Secure Enclave (SEP)",
        Stage::Fdr => "the factory data check (FDR)",
        Stage::Reboot => "the restart at the end",
        Stage::Tss => "Apple's signing server",
        Stage::Usb => "the USB connection",
        Stage::Other => "another step",
        Stage::Detection => "finding the device",
        Stage::BootChain => "starting the restore (boot chain)",
        Stage::Ramdisk => "starting the restore system (ramdisk)",
    }
}

/// What the program a `host_app` outcome stands for is, in words.
fn host_app(outcome: &str) -> Option<&'static str> {
    Some(match outcome {
        "macos_itunes" => "iTunes on a Mac",
        "windows_itunes" => "iTunes on Windows",
        "itunes" => "iTunes",
        "apple_current" => "a current Apple app (Finder, Apple Devices or Apple Configurator)",
        "third_party" => "a third-party tool (3uTools, iMazing...)",
        "idevicerestore" => "idevicerestore",
        "pymobiledevice3" => "pymobiledevice3",
        "futurerestore" => "futurerestore",
        "downgrade_tool" => "a downgrade tool",
        _ => return None,
    })
}

/// An answer in words: `yes`/`no` as they are, a stage or a program by its name, other ids
/// with spaces ("face_id_camera" → "face ID camera" is left to the data: "face id camera").
pub fn outcome(observation: &str, outcome: &str) -> String {
    let named = match observation {
        "failure_stage" => Stage::parse(outcome).map(stage),
        "host_app" => host_app(outcome),
        "dc_boot_current" => match outcome {
            "normal" => Some("rises normally"),
            "low_no_cpu" => Some("stays near 23 mA (the CPU does not run)"),
            "short" => Some("a short (high current at once)"),
            _ => None,
        },
        "failed_component" => match outcome {
            "face_id_camera" => Some("the Face ID camera"),
            "touch_id_sensor" => Some("the Touch ID sensor"),
            "u1_chip" => Some("the U1 chip"),
            "secure_element" => Some("the secure element (NFC)"),
            _ => None,
        },
        _ => None,
    };
    named.map_or_else(|| outcome.replace('_', " "), str::to_string)
}

/// A question shortened to its point, for a line of evidence: up to its first aside
/// (" (", ": ", ", or "), without the question mark. "Which program ran the restore (iTunes on a
/// Mac, …)?" → "Which program ran the restore".
pub fn short_question(question: &str) -> String {
    let q = question.trim().trim_end_matches('?');
    let cut = [" (", ": ", ", or ", "; "]
        .iter()
        .filter_map(|sep| q.find(sep))
        .filter(|&i| i >= 12)
        .min()
        .unwrap_or(q.len());
    q[..cut].trim_end_matches([',', ' ']).to_string()
}

/// An answered question in words ("Does it charge badly: yes", "At which stage did the
/// restore fail: updating the storage chip (NAND)").
pub fn answer(kb: &KnowledgeBase, observation: &str, value: &str) -> String {
    match observation {
        "host_app" => format!("Program used: {}", outcome(observation, value)),
        "failure_stage" => format!("Where the restore stopped: {}", outcome(observation, value)),
        _ => {
            let q = kb.observation(observation).map_or_else(
                || observation.replace('_', " "),
                |o| short_question(&o.question),
            );
            format!("{q}: {}", outcome(observation, value))
        }
    }
}

/// A step in words: its title ("Use a different USB cable").
pub fn action(kb: &KnowledgeBase, id: &str) -> String {
    kb.action(id)
        .map_or_else(|| id.replace('_', " "), |a| a.title.clone())
}

/// A `--host` value in words.
pub fn host(id: &str) -> String {
    vocab::host_name(id).map_or_else(|| id.replace('_', " "), str::to_string)
}

/// A finding in plain words (what the posterior's trace says with ids). `host`: the program
/// the person named, which the program's finding names rather than its kind.
pub fn finding(kb: &KnowledgeBase, model: &Model, f: &Finding, host_id: Option<&str>) -> String {
    match f {
        Finding::Observed {
            observation,
            origin: o,
            ..
        } if observation == "host_app" && host_id.and_then(vocab::host_name).is_some() => {
            format!(
                "Program used: {}{}",
                host(host_id.unwrap_or_default()),
                o.suffix()
            )
        }
        Finding::Observed {
            observation,
            outcome: value,
            origin: o,
        } => {
            let text = if model.observation(observation).is_some() {
                answer(kb, observation, value)
            } else {
                format!("{}: {}", observation.replace('_', " "), value)
            };
            format!("{text}{}", o.suffix())
        }
        Finding::ActionFailed {
            action: a,
            origin: o,
        } => {
            format!("{}: done, still fails{}", action(kb, a), o.suffix())
        }
        Finding::ActionFixed {
            action: a,
            origin: o,
        } => {
            format!("{}: made it work{}", action(kb, a), o.suffix())
        }
        Finding::Silent { .. } => crate::posterior::describe(model, f),
    }
}

/// What the free text was read as, in plain words (device, error, program, steps tried,
/// answers, what was negated).
pub fn understood(kb: &KnowledgeBase, u: &crate::text::Understood) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(d) = &u.device {
        parts.push(d.clone());
    }
    if let Some(c) = u.error_code {
        parts.push(format!("error {c}"));
    }
    if let Some(h) = &u.host {
        parts.push(host(h));
    }
    if !u.tried.is_empty() {
        let tried: Vec<String> = u
            .tried
            .iter()
            .map(|t| vocab::action(kb, t).map_or_else(|| t.replace('_', " "), |a| a.title.clone()))
            .collect();
        parts.push(format!("tried: {}", tried.join(", ")));
    }
    for (k, v) in u.observed.iter().chain(&u.bench) {
        parts.push(answer(kb, k, v));
    }
    if let Some(role) = &u.role {
        parts.push(format!("written by a {role}"));
    }
    if let Some(n) = u.attempts {
        parts.push(format!("{n} attempts"));
    }
    if !u.negated.is_empty() {
        let negated: Vec<String> = u
            .negated
            .iter()
            .map(|n| match n.strip_prefix("tried ") {
                Some(a) => format!("tried {}", action(kb, a)),
                None => kb
                    .observation(n)
                    .map_or_else(|| n.replace('_', " "), |o| short_question(&o.question)),
            })
            .collect();
        parts.push(format!("not: {}", negated.join("; ")));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_shorten_to_their_point() {
        assert_eq!(
            short_question(
                "Which program ran the restore (iTunes on a Mac, iTunes on Windows, a current Apple app)?"
            ),
            "Which program ran the restore"
        );
        assert_eq!(
            short_question(
                "Does it charge badly: only at some cable angles, the bolt shows but the percentage does not rise?"
            ),
            "Does it charge badly"
        );
        assert_eq!(short_question("Is it wet?"), "Is it wet");
    }

    #[test]
    fn answers_name_no_ids() {
        let kb = kb::kb();
        assert_eq!(
            answer(kb, "host_app", "apple_current"),
            "Program used: a current Apple app (Finder, Apple Devices or Apple Configurator)"
        );
        assert_eq!(
            answer(kb, "failure_stage", "nand"),
            "Where the restore stopped: updating the storage chip (NAND)"
        );
        for s in Stage::ALL {
            assert!(!stage(s).contains('_'));
        }
        for o in &kb.observation("host_app").unwrap().outcomes {
            assert!(host_app(o).is_some(), "host_app outcome {o} has words");
        }
    }
}
