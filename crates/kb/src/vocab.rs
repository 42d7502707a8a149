//! The *stable* vocabularies of design.md §3 and §6. Checks outside the code rely on these
//! spellings: extend them, never rename or drop one.

/// Cause ids with their group, in the order design.md §3 lists them.
pub const CAUSES: [(&str, &str); 19] = [
    ("usb_cable", "connection"),
    ("usb_port_or_hub", "connection"),
    ("device_charge_port", "connection"),
    ("host_software_outdated", "host"),
    ("host_computer_or_os", "host"),
    ("security_software_or_hosts", "host"),
    ("network_or_apple_servers", "host"),
    ("firmware_or_ipsw", "software"),
    ("signing_or_downgrade", "software"),
    ("ios_system_software", "software"),
    ("device_storage_full", "software"),
    ("nand", "hardware"),
    ("baseband", "hardware"),
    ("earpiece_faceid_flex", "hardware"),
    ("tristar_hydra_charging_ic", "hardware"),
    ("audio_ic", "hardware"),
    ("cpu_or_board_solder", "hardware"),
    ("battery_or_power", "hardware"),
    ("other_hardware", "hardware"),
];

/// Cause groups, in display order.
pub const GROUPS: [&str; 4] = ["connection", "host", "software", "hardware"];

/// `--host` values.
pub const HOSTS: [&str; 15] = [
    "windows_itunes",
    "windows_apple_devices",
    "macos_finder",
    "macos_itunes",
    "itunes",
    "apple_configurator",
    "imazing",
    "3utools",
    "idevicerestore",
    "futurerestore",
    "other",
    "unknown",
    "legacy_ios_kit",
    "pymobiledevice3",
    "downgrade_tool",
];

/// A `--host` value in plain words, for people ("the Apple Devices app on Windows"); None for a
/// value outside the vocabulary.
pub fn host_name(host: &str) -> Option<&'static str> {
    Some(match host {
        "windows_itunes" => "iTunes on Windows",
        "windows_apple_devices" => "the Apple Devices app on Windows",
        "macos_finder" => "Finder on a Mac",
        "macos_itunes" => "iTunes on a Mac",
        "itunes" => "iTunes",
        "apple_configurator" => "Apple Configurator",
        "imazing" => "iMazing",
        "3utools" => "3uTools",
        "idevicerestore" => "idevicerestore",
        "futurerestore" => "futurerestore",
        "other" => "another program",
        "unknown" => "a program not known",
        "legacy_ios_kit" => "Legacy iOS Kit",
        "pymobiledevice3" => "pymobiledevice3",
        "downgrade_tool" => "a downgrade tool",
        _ => return None,
    })
}

/// A `--host` value or one of its longer spellings (the program with the computer's system, as
/// case records write it) → the `--host` value and the computer's system when the spelling
/// names one (`windows`, `macos`, `linux`).
pub fn host_alias(value: &str) -> Option<(&'static str, Option<&'static str>)> {
    let v = value.trim().to_ascii_lowercase();
    if let Some(h) = HOSTS.iter().find(|h| **h == v) {
        let os = match *h {
            "windows_itunes" | "windows_apple_devices" => Some("windows"),
            "macos_finder" | "macos_itunes" => Some("macos"),
            _ => None,
        };
        return Some((h, os));
    }
    Some(match v.as_str() {
        "itunes_unknown_os" => ("itunes", None),
        "idevicerestore_linux" => ("idevicerestore", Some("linux")),
        "idevicerestore_macos" => ("idevicerestore", Some("macos")),
        "idevicerestore_windows" => ("idevicerestore", Some("windows")),
        "configurator" => ("apple_configurator", Some("macos")),
        "finder" => ("macos_finder", Some("macos")),
        "apple_devices" => ("windows_apple_devices", Some("windows")),
        "legacyioskit" | "legacy-ios-kit" => ("legacy_ios_kit", None),
        _ => return None,
    })
}

/// A spelling case records and people use for a step that is neither its `--tried` word nor
/// its action id (those two are accepted everywhere, see [`action`]) → the `--tried` word.
pub fn tried_alias(value: &str) -> Option<&'static str> {
    Some(match normalise(value).as_str() {
        "itunes_update" | "os_update" | "driver_reinstall" | "drivers_reinstalled" => {
            "host_software_update"
        }
        "antivirus_disabled" | "firewall_disabled" => "security_software_disabled",
        "usb_hub_change" | "no_hub" => "hub_removed",
        "other_cable" | "new_cable" => "cable_swap",
        "other_port" => "port_swap",
        "ipsw_redownload" => "firmware_redownload",
        _ => return None,
    })
}

/// `--tried` values: done, and the restore still fails.
pub const TRIED: [&str; 17] = [
    "cable_swap",
    "port_swap",
    "hub_removed",
    "other_computer",
    "host_software_update",
    "force_restart",
    "recovery_update",
    "recovery_restore",
    "dfu_restore",
    "firmware_redownload",
    "third_party_tool",
    "security_software_disabled",
    "hosts_file_checked",
    "network_change",
    "battery_replaced",
    "device_port_cleaned",
    "storage_freed",
];

/// `--observed` keys that take no value.
pub const OBSERVED: [&str; 32] = [
    "liquid_exposure",
    "recent_drop",
    "recent_repair",
    "speaker_greyed_out",
    "no_service",
    "face_id_broken",
    "true_tone_missing",
    "boot_loop",
    "not_detected",
    "detected_in_dfu",
    "detected_in_recovery",
    "same_failure_point",
    "error_varies",
    "works_with_earpiece_flex_disconnected",
    "low_storage",
    "battery_dead",
    "charging_problem",
    "old_host_software",
    "update_interrupted",
    "hub_or_adapter",
    "port_debris",
    "downgrade_attempt",
    "device_locked",
    "virtual_machine",
    "host_usb_service",
    "saved_blobs",
    "custom_firmware",
    "beta_firmware",
    "after_update",
    "widespread",
    "network_trouble",
    "hard_drive_ipod",
];

/// `--observed` keys that take a value (`key=value`).
pub const OBSERVED_WITH_VALUE: [&str; 3] = ["failure_stage", "progress", "attempts"];

/// The group of a stable cause id.
pub fn group_of(cause: &str) -> Option<&'static str> {
    CAUSES.iter().find(|(id, _)| *id == cause).map(|(_, g)| *g)
}

// ---------------------------------------------------------------------------------------------
// One vocabulary for actions and observations. `--tried`, `cases step --action`, the free-text
// reader, stored cases and the API all name an action either by its id (`swap_cable`,
// `update_host_software`, `remove_hub`) or by its `--tried` word (`cable_swap`,
// `host_software_update`, `hub_removed`); both are accepted everywhere, with `-` or `_` and in
// any case, and each place stores its own canonical spelling. Observations are named by their
// id (`backup_exists`), the same id the free text produces.

use crate::{Action, KnowledgeBase, Observation};

/// A word as the vocabularies spell it: trimmed, lower case, `-` and spaces as `_`.
pub fn normalise(word: &str) -> String {
    word.trim()
        .to_ascii_lowercase()
        .split(|c: char| c == '-' || c == '_' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// The action a word names: an action id or the `--tried` word of one.
pub fn action<'k>(kb: &'k KnowledgeBase, word: &str) -> Option<&'k Action> {
    let w = normalise(word);
    kb.action(&w).or_else(|| kb.action_by_tried_flag(&w))
}

/// The canonical `--tried` word for a word that names an action which has one
/// (`swap_cable` → `cable_swap`; `cable_swap` → itself).
pub fn tried_flag<'k>(kb: &'k KnowledgeBase, word: &str) -> Option<&'k str> {
    action(kb, word)?
        .tried_flag
        .as_deref()
        .filter(|f| TRIED.contains(f))
}

/// Every word `--tried` accepts: the stable flags, then the action ids they stand for.
pub fn tried_words(kb: &KnowledgeBase) -> Vec<String> {
    let mut words: Vec<String> = TRIED.iter().map(|s| s.to_string()).collect();
    for flag in TRIED {
        if let Some(a) = kb.action_by_tried_flag(flag)
            && !words.contains(&a.id)
        {
            words.push(a.id.clone());
        }
    }
    words
}

/// Every word `cases step --action` accepts: the action ids, then the `--tried` words.
pub fn action_words(kb: &KnowledgeBase) -> Vec<String> {
    let mut words: Vec<String> = kb.actions().iter().map(|a| a.id.clone()).collect();
    for a in kb.actions() {
        if let Some(f) = &a.tried_flag
            && !words.contains(f)
        {
            words.push(f.clone());
        }
    }
    words
}

/// The observation a `--observed` key names (any observation id of the knowledge base).
pub fn observation<'k>(kb: &'k KnowledgeBase, key: &str) -> Option<&'k Observation> {
    kb.observation(&normalise(key))
}

/// The outcome a `--observed` value gives for `obs`: for a yes/no question, `yes` (also when no
/// value is given), `true`, `1`, `y` or `no`, `false`, `0`, `n`; otherwise one of its outcomes.
pub fn observed_outcome(obs: &Observation, value: Option<&str>) -> Option<String> {
    let yes_no = obs.outcomes.iter().any(|o| o == "yes") && obs.outcomes.iter().any(|o| o == "no");
    let v = value.map(normalise);
    match v.as_deref() {
        None if yes_no => Some("yes".into()),
        None => None,
        Some("yes" | "true" | "1" | "y") if yes_no => Some("yes".into()),
        Some("no" | "false" | "0" | "n") if yes_no => Some("no".into()),
        Some(v) => obs.outcomes.iter().find(|o| *o == v).cloned(),
    }
}

/// Every key `--observed` accepts, the stable ones first (for messages and help).
pub fn observed_keys(kb: &KnowledgeBase) -> Vec<String> {
    let mut keys: Vec<String> = OBSERVED.iter().map(|s| s.to_string()).collect();
    for o in kb.observations() {
        if !keys.contains(&o.id) && !OBSERVED_WITH_VALUE.contains(&o.id.as_str()) {
            keys.push(o.id.clone());
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_is_named_by_its_id_or_its_tried_word() {
        let kb = crate::kb();
        for (id, flag) in [
            ("swap_cable", "cable_swap"),
            ("update_host_software", "host_software_update"),
            ("remove_hub", "hub_removed"),
            ("clean_device_port", "device_port_cleaned"),
        ] {
            assert_eq!(action(kb, id).map(|a| a.id.as_str()), Some(id));
            assert_eq!(action(kb, flag).map(|a| a.id.as_str()), Some(id));
            assert_eq!(tried_flag(kb, id), Some(flag));
            assert_eq!(tried_flag(kb, flag), Some(flag));
        }
        assert_eq!(
            action(kb, " Swap-Cable ").map(|a| a.id.as_str()),
            Some("swap_cable")
        );
        assert!(action(kb, "cable").is_none());
        // An action without a --tried word is an action but not a --tried value.
        assert!(action(kb, "shop_diagnosis").is_some());
        assert_eq!(tried_flag(kb, "shop_diagnosis"), None);
    }

    #[test]
    fn every_host_has_a_plain_name() {
        for h in HOSTS {
            let name = host_name(h).unwrap_or_else(|| panic!("{h} has no plain name"));
            assert!(!name.contains('_'), "{h}: {name}");
        }
        assert_eq!(host_name("amiga"), None);
    }

    #[test]
    fn every_tried_flag_and_action_id_is_in_the_word_lists() {
        let kb = crate::kb();
        let tried = tried_words(kb);
        let actions = action_words(kb);
        for flag in TRIED {
            assert!(tried.iter().any(|w| w == flag) && actions.iter().any(|w| w == flag));
            let a = action(kb, flag).unwrap();
            assert!(tried.contains(&a.id) && actions.contains(&a.id), "{flag}");
        }
    }

    #[test]
    fn observations_take_their_own_outcomes() {
        let kb = crate::kb();
        let backup = observation(kb, "backup_exists").unwrap();
        assert_eq!(observed_outcome(backup, None).as_deref(), Some("yes"));
        assert_eq!(observed_outcome(backup, Some("No")).as_deref(), Some("no"));
        assert_eq!(observed_outcome(backup, Some("maybe")), None);
        let current = observation(kb, "dc_boot_current").unwrap();
        assert_eq!(
            observed_outcome(current, Some("short")).as_deref(),
            Some("short")
        );
        assert_eq!(observed_outcome(current, None), None);
        let keys = observed_keys(kb);
        assert!(keys.iter().any(|k| k == "backup_exists"));
        assert_eq!(keys[0], OBSERVED[0]);
    }
}
