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

/// A `--tried` word or a close spelling people and case records use → the `--tried` word.
pub fn tried_alias(value: &str) -> Option<&'static str> {
    let v = value.trim().to_ascii_lowercase();
    if let Some(t) = TRIED.iter().find(|t| **t == v) {
        return Some(t);
    }
    Some(match v.as_str() {
        "itunes_update"
        | "os_update"
        | "driver_reinstall"
        | "drivers_reinstalled"
        | "update_host_software" => "host_software_update",
        "antivirus_disabled" | "firewall_disabled" | "disable_security_software" => {
            "security_software_disabled"
        }
        "usb_hub_change" | "remove_hub" | "no_hub" => "hub_removed",
        "swap_cable" | "other_cable" | "new_cable" => "cable_swap",
        "other_port" => "port_swap",
        "redownload_firmware" | "ipsw_redownload" => "firmware_redownload",
        "clean_device_port" => "device_port_cleaned",
        "free_storage" => "storage_freed",
        "change_network" => "network_change",
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
pub const OBSERVED: [&str; 31] = [
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
    "hard_drive_ipod",
];

/// `--observed` keys that take a value (`key=value`).
pub const OBSERVED_WITH_VALUE: [&str; 3] = ["failure_stage", "progress", "attempts"];

/// The group of a stable cause id.
pub fn group_of(cause: &str) -> Option<&'static str> {
    CAUSES.iter().find(|(id, _)| *id == cause).map(|(_, g)| *g)
}
