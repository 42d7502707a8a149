//! End-to-end runs of the foundation commands: `explain`, `guide`, `devices`, `identify`, as a
//! person runs them. Human output is snapshotted (with colour off); JSON is checked against the
//! contract of design.md §6.

use assert_cmd::Command;
use serde_json::Value;

fn rd() -> Command {
    let mut cmd = Command::cargo_bin("restore-doctor").unwrap();
    cmd.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let out = rd().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_of(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&stdout_of(&all)).unwrap()
}

#[test]
fn explain_4013_human() {
    insta::assert_snapshot!(stdout_of(&["explain", "4013"]));
}

#[test]
fn explain_4013_json_has_causes_summing_to_one_and_first_steps() {
    let v = json_of(&["explain", "4013"]);
    assert_eq!(v["code"], 4013);
    assert_eq!(v["family"]["id"], "device_stopped_responding");
    let causes = v["causes"].as_array().unwrap();
    let sum: f64 = causes
        .iter()
        .map(|c| c["probability"].as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-9, "{sum}");
    let probs: Vec<f64> = causes
        .iter()
        .map(|c| c["probability"].as_f64().unwrap())
        .collect();
    assert!(
        probs.windows(2).all(|w| w[0] >= w[1]),
        "sorted by probability"
    );
    let ids: Vec<&str> = causes.iter().map(|c| c["id"].as_str().unwrap()).collect();
    for hw in ["nand", "earpiece_faceid_flex", "usb_cable"] {
        assert!(ids.contains(&hw), "{hw} missing from 4013's causes");
    }
    assert_eq!(v["first_steps"][0]["action"], "swap_cable");
    let related: Vec<i64> = v["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_i64().unwrap())
        .collect();
    assert!(related.contains(&4014) && related.contains(&9));
}

#[test]
fn a_code_inside_a_documented_range_is_explained_by_the_range() {
    let v = json_of(&["explain", "3456"]);
    assert_eq!(v["documented_as"], "range");
    assert_eq!(v["range"]["start"], 3000);
    assert_eq!(v["family"]["id"], "apple_servers");
}

#[test]
fn an_undocumented_code_names_the_nearest_family_and_exits_2() {
    let out = rd().args(["explain", "777"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("777") && err.contains("family"), "{err}");
    let out = rd().args(["explain", "forty"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an error code"));
}

#[test]
fn explain_list_lists_every_code_and_range() {
    let v = json_of(&["explain", "--list"]);
    let codes = v["codes"].as_array().unwrap();
    assert_eq!(codes.iter().filter(|c| c["code"].is_i64()).count(), 87);
    assert_eq!(codes.iter().filter(|c| c["range"].is_object()).count(), 5);
}

#[test]
fn every_documented_code_and_range_is_explained() {
    let v = json_of(&["explain", "--list"]);
    for entry in v["codes"].as_array().unwrap() {
        let code = match entry["code"].as_i64() {
            Some(c) => c,
            None => entry["range"]["start"].as_i64().unwrap(),
        };
        let e: Value =
            serde_json::from_str(&stdout_of(&["explain", "--json", "--", &code.to_string()]))
                .unwrap();
        let sum: f64 = e["causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["probability"].as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-9, "code {code}: causes sum to {sum}");
        assert!(!e["meaning"].as_str().unwrap().is_empty());
    }
}

#[test]
fn negative_codes_are_accepted() {
    let v = json_of(&["explain", "-1"]);
    assert_eq!(v["code"], -1);
    assert_eq!(v["family"]["id"], "baseband");
}

#[test]
fn guide_dfu_iphone_8_human() {
    insta::assert_snapshot!(stdout_of(&["guide", "dfu", "--device", "iPhone 8"]));
}

#[test]
fn guide_recovery_iphone_6s_human() {
    insta::assert_snapshot!(stdout_of(&["guide", "recovery", "--device", "iPhone 6s"]));
}

#[test]
fn guides_are_model_specific() {
    // iPhone 7: Side + Volume Down; iPhone X: Volume Up, Volume Down, Side; iPad Pro: Top button.
    let seven = json_of(&["guide", "force-restart", "--device", "7 plus"]);
    assert_eq!(seven["device"]["button_scheme"], "volume_down_side");
    let text = seven["steps"].to_string();
    assert!(
        text.contains("Volume Down") && !text.contains("Volume Up"),
        "{text}"
    );
    let x = json_of(&["guide", "dfu", "--device", "iphone-x"]);
    assert_eq!(
        x["device"]["product_types"],
        serde_json::json!(["iPhone10,3", "iPhone10,6"])
    );
    assert!(x["steps"].to_string().contains("Side button"));
    let ipad = json_of(&["guide", "recovery", "--device", "iPad Pro 11-inch (M4)"]);
    assert_eq!(ipad["device"]["button_scheme"], "top_button_ipad");
    assert!(ipad["steps"].to_string().contains("Top button"));
    let old = json_of(&["guide", "recovery", "--device", "iPhone 5s"]);
    assert!(
        old["steps"].to_string().contains("Top button"),
        "iPhone 5s has its power button on top"
    );
}

#[test]
fn every_device_answers_every_guide() {
    let devices = json_of(&["devices"]);
    let mut seen = std::collections::HashSet::new();
    for d in devices["devices"].as_array().unwrap() {
        let pt = d["product_type"].as_str().unwrap();
        if !seen.insert(pt.to_string()) {
            continue;
        }
        for kind in ["force-restart", "recovery", "dfu", "exit-recovery"] {
            let g = json_of(&["guide", kind, "--device", pt]);
            assert!(!g["steps"].as_array().unwrap().is_empty(), "{pt} {kind}");
            assert!(
                !g["steps"].to_string().contains("{power}"),
                "{pt} {kind}: unexpanded placeholder"
            );
        }
    }
    assert!(seen.len() >= 170);
}

#[test]
fn ambiguous_or_unknown_devices_list_the_closest_and_exit_2() {
    let out = rd()
        .args(["guide", "dfu", "--device", "ipad pro"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("iPad Pro 11-inch"));
    let out = rd()
        .args(["guide", "dfu", "--device", "iphone 99"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Closest"));
    let out = rd()
        .args(["guide", "reboot", "--device", "iphone 8"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Messages are wrapped to the width: compare the words.
    let words = String::from_utf8_lossy(&out.stderr)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(words.contains("force-restart, recovery, dfu or exit-recovery"));
}

#[test]
fn devices_filters_by_name_and_lists_everything_otherwise() {
    let all = json_of(&["devices"]);
    assert_eq!(all["devices"].as_array().unwrap().len(), 180);
    let elevens = json_of(&["devices", "iphone 11"]);
    let names: Vec<&str> = elevens["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"iPhone 11") && names.contains(&"iPhone 11 Pro Max"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("12")));
    let seven = json_of(&["devices", "iPhone 7"]);
    assert!(
        seven["devices"][0]["known_faults"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );
    let out = rd().args(["devices", "nokia"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Every real serial string of shared/reference/examples.txt (copied here verbatim).
const EXAMPLES: &[(&str, &str)] = &[
    (
        "ex1_iphone6_dfu",
        "CPID:7000 CPRV:11 CPFM:03 SCEP:01 BDID:00 ECID:00022D3C10981026 IBFL:1C SRTG:[iBoot-1992.0.0.1.19]",
    ),
    (
        "ex2_iphone6splus_dfu_truncated_ecid",
        "CPID:8000 CPRV:20 CPFM:03 SCEP:01 BDID:06 ECID:0000038xxxx IBFL:1C SRTG:[iBoot-2234.0.0.3.3]",
    ),
    (
        "ex3a_iphone6splus_dfu",
        "CPID:8000 CPRV:20 CPFM:03 SCEP:01 BDID:06 ECID:0000038E8E58B41C IBFL:1C SRTG:[iBoot-2234.0.0.3.3]",
    ),
    (
        "ex3b_iphone6_dfu",
        "CPID:7000 CPRV:11 CPFM:03 SCEP:01 BDID:06 ECID:001171201046E026 IBFL:1C SRTG:[iBoot-1992.0.0.1.19]",
    ),
    (
        "ex4_iphone6s_tsmc_dfu",
        "CPID:8003 CPRV:01 CPFM:03 SCEP:01 BDID:04 ECID:000264D410FB0226 IBFL:1C SRTG:[iBoot-2234.0.0.2.22]",
    ),
    (
        "ex5_iphone6s_samsung_dfu",
        "CPID:8000 CPRV:20 CPFM:03 SCEP:01 BDID:04 ECID:000004F628A48D2C IBFL:1C SRTG:[iBoot-2234.0.0.3.3]",
    ),
    (
        "ex6_iphone3gs_ibss_masked",
        "CPID:8920 CPRV:14 CPFM:03 SCEP:04 BDID:00 ECID:000003DxxxxC2D0D IBFL:00",
    ),
    (
        "ex7_iphone4_ibec_recovery",
        "CPID:8930 CPRV:20 CPFM:03 SCEP:01 BDID:00 ECID:00000363F615C377 IBFL:00 SRNM:[84033XXXXXX]",
    ),
    (
        "ex8_iphone3gs_windows_path",
        r"\??\USB#Vid_05ac&Pid_1281#CPID:8920_CPRV:15_CPFM:03_SCEP:04_BDID:00_ECID:000000143A045D0C_IBFL:01_SRNM:[889437XXXXX]_IMEI:[01203700XXXXXXX]#{a5dcbf10-6530-11d2-901f-00c04fb951ed}",
    ),
    (
        "ex9_iphone4_nonce_only",
        " NONC:977A728CA4DEC7636470F3A78D2D8DD9A2542C95",
    ),
    (
        "ex10_recovery_nonce_only",
        " NONC:5C80FEFA733C35D4F339911A20E6FBDCFFE7E809",
    ),
];

#[test]
fn identify_every_real_example() {
    for (name, serial) in EXAMPLES {
        let text = stdout_of(&["identify", serial]);
        insta::assert_snapshot!(format!("identify_{name}"), text);
    }
}

#[test]
fn identify_finds_the_model_and_redacts_the_ecid() {
    let v = json_of(&["identify", EXAMPLES[4].1]);
    assert_eq!(v["device"]["name"], "iPhone 6s");
    assert_eq!(v["mode"], "securerom_dfu");
    let ecid = v["ecid"].as_str().unwrap();
    assert!(
        !ecid.contains("000264D410FB"),
        "ECID must be redacted: {ecid}"
    );
    assert!(ecid.ends_with("0226"));
    let shown = json_of(&["identify", "--show-ids", EXAMPLES[4].1]);
    assert_eq!(shown["ecid"], "000264D410FB0226");
    let win = json_of(&["identify", EXAMPLES[8].1]);
    assert_eq!(win["device"]["name"], "iPhone 3GS");
    assert_eq!(win["usb_mode"], "recovery");
    assert!(!win["imei"].as_str().unwrap().contains("01203700"));
}

#[test]
fn identify_rejects_garbage_with_exit_2() {
    for bad in ["hello world", "", "Apple Inc.", "CPID:zz BDID:06"] {
        let out = rd().args(["identify", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "`{bad}`");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("serial string"),
            "`{bad}`"
        );
    }
}

#[test]
fn help_has_examples_and_completions_and_man_page_generate() {
    let help = stdout_of(&["--help"]);
    assert!(help.contains("Examples:") && help.contains("explain 4013"));
    let bash = stdout_of(&["completions", "bash"]);
    assert!(bash.contains("restore-doctor") && bash.contains("explain"));
    let man = stdout_of(&["completions", "man"]);
    assert!(man.contains(".TH"));
}

/// Error 53's "other hardware" is the Touch ID pairing check, and explain says so beside it.
#[test]
fn explain_53_says_what_other_hardware_means_for_it() {
    let out = stdout_of(&["explain", "53"]);
    assert!(out.contains("With this code:"), "{out}");
    assert!(out.contains("pairing check"), "{out}");
    let v = json_of(&["explain", "53"]);
    let other = v["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "other_hardware")
        .unwrap();
    assert!(other["note"].as_str().unwrap().contains("Touch ID"));
}

#[test]
fn identify_a_known_chip_with_an_unknown_board_says_so() {
    let serial = "CPID:8030 CPRV:11 CPFM:03 SCEP:01 BDID:0C ECID:001A2B3C4D5E6F70 IBFL:3C";
    let text = stdout_of(&["identify", serial]);
    let first = text.lines().next().unwrap();
    assert!(!first.contains("Unknown model"), "{text}");
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("A13 Bionic (CPID 8030) with board id 0x0C: the chip is known, this board is not in the device table"),
        "{text}"
    );
    assert!(words.contains("iPhone 11, iPhone 11 Pro"), "{text}");
    let v = json_of(&["identify", serial]);
    assert_eq!(v["device"], Value::Null);
    assert_eq!(v["chip_family"]["soc"], "A13 Bionic");
    assert!(
        v["chip_family"]["models"]
            .as_array()
            .unwrap()
            .contains(&Value::from("iPhone 11"))
    );
    // A CPID the table does not know at all is still an unknown model.
    let text = stdout_of(&["identify", "CPID:9999 BDID:01 ECID:001A2B3C4D5E6F70"]);
    assert!(text.contains("Unknown model (CPID 9999"), "{text}");
    assert!(json_of(&["identify", "CPID:9999 BDID:01"])["chip_family"].is_null());
}
