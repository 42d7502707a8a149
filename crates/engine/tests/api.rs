//! The front-end API: model-specific instructions and request checking.

use engine::api::{
    DiagnoseRequest, RequestError, diagnose_request, instructions, instructions_for_host, resolve,
};
use engine::{ActionTried, StepOutcome};

fn steps_for(device: Option<&str>, action: &str) -> Vec<String> {
    let kb = kb::kb();
    let req = DiagnoseRequest {
        device: device.map(str::to_string),
        ..DiagnoseRequest::default()
    };
    let r = resolve(kb, &req).unwrap();
    instructions(kb, &r.model, kb.action(action).unwrap())
}

#[test]
fn button_guides_are_expanded_for_the_model() {
    let x = steps_for(Some("iPhone X"), "recovery_update").join("\n");
    assert!(x.contains("Side button"), "{x}");
    assert!(!x.contains("{power}"));
    let ipad = steps_for(Some("iPad Pro 12.9-inch (3rd gen)"), "dfu_restore").join("\n");
    assert!(ipad.contains("Top button"), "{ipad}");
    assert!(!ipad.contains("Side button"));
    let home = steps_for(Some("iPhone 6s"), "force_restart").join("\n");
    assert!(home.contains("Home button"), "{home}");
    let unknown = steps_for(None, "dfu_restore").join("\n");
    assert!(unknown.contains("restore-doctor guide dfu"), "{unknown}");
}

#[test]
fn steps_from_a_case_history_count_as_evidence() {
    let base = DiagnoseRequest {
        device: Some("iPhone 8".into()),
        error: Some(4013),
        ..DiagnoseRequest::default()
    };
    let fixed = DiagnoseRequest {
        steps: vec![ActionTried {
            action: "swap_cable".into(),
            outcome: StepOutcome::Fixed,
        }],
        ..base.clone()
    };
    let r = diagnose_request(&fixed).unwrap();
    assert_eq!(r.causes[0].id, "usb_cable");
    assert!(r.next_step.is_none());
    assert_eq!(r.verdict.unwrap().reason, "fixed");

    let bad = DiagnoseRequest {
        steps: vec![ActionTried {
            action: "sacrifice_a_goat".into(),
            outcome: StepOutcome::Failed,
        }],
        ..base
    };
    assert!(matches!(
        diagnose_request(&bad),
        Err(RequestError::UnknownValue { field: "steps", .. })
    ));
}

#[test]
fn the_request_deserialises_from_the_web_body() {
    let body = r#"{"device":"iPhone X","error":4013,"host":"macos_finder","tried":["cable_swap"],"observed":["face_id_broken"],"text":null,"case":null}"#;
    let req: DiagnoseRequest = serde_json::from_str(body).unwrap();
    let r = diagnose_request(&req).unwrap();
    assert_eq!(r.causes[0].id, "earpiece_faceid_flex");
    let round: serde_json::Value = serde_json::to_value(&r).unwrap();
    for key in [
        "device",
        "error_code",
        "causes",
        "groups",
        "next_step",
        "plan",
        "verdict",
        "warnings",
    ] {
        assert!(round.get(key).is_some(), "{key}");
    }
}

#[test]
fn a_shops_confirmed_causes_shift_the_prior() {
    let base = DiagnoseRequest {
        device: Some("iPhone 8".into()),
        error: Some(4013),
        ..DiagnoseRequest::default()
    };
    let p = |r: &engine::api::DiagnoseResponse, id: &str| {
        r.causes.iter().find(|c| c.id == id).unwrap().probability
    };
    // The knowledge base alone: the arithmetic below is on its prior (a fitted model's posterior
    // is also tempered, which this does not check).
    let kb_only = |r: &DiagnoseRequest| engine::api::diagnose_fitted(kb::kb(), None, r).unwrap();
    let plain = kb_only(&base);
    let mut counts = std::collections::BTreeMap::new();
    counts.insert("tristar_hydra_charging_ic".to_string(), 10u64);
    counts.insert("audio_ic".to_string(), 50u64); // not an iPhone 8 cause: ignored
    let shop = kb_only(&DiagnoseRequest {
        shop_counts: counts,
        ..base
    });
    // 10 cases against a prior worth 20: (p·20 + 10) / 30.
    let expected = (p(&plain, "tristar_hydra_charging_ic") * 20.0 + 10.0) / 30.0;
    assert!((p(&shop, "tristar_hydra_charging_ic") - expected).abs() < 1e-9);
    assert!(!shop.causes.iter().any(|c| c.id == "audio_ic"));
    let sum: f64 = shop.causes.iter().map(|c| c.probability).sum();
    assert!((sum - 1.0).abs() < 1e-9);
    assert!(
        shop.explanation
            .iter()
            .any(|e| e.evidence.contains("10 closed case"))
    );
}

/// A phrase that fits a few models ("iPad Pro 2018": two sizes) picks none of them and asks
/// which; one that names one model does not ask; the flag answers it.
#[test]
fn a_phrase_naming_two_models_asks_which() {
    let kb = kb::kb();
    let ask = |text: &str, device: Option<&str>| {
        let req = DiagnoseRequest {
            text: Some(text.to_string()),
            device: device.map(str::to_string),
            ..DiagnoseRequest::default()
        };
        let r = resolve(kb, &req).unwrap();
        (r.evidence.device.clone(), r.warnings.join("\n"))
    };
    let (device, warnings) = ask("ipad pro 2018 error 4013 stuck in recovery", None);
    assert_eq!(device, None);
    assert!(
        warnings.contains("iPad Pro 11-inch (1st gen) or iPad Pro 12.9-inch (3rd gen)"),
        "{warnings}"
    );
    let (device, warnings) = ask(
        "ipad pro 2018 error 4013",
        Some("iPad Pro 11-inch (1st gen)"),
    );
    assert!(device.is_some());
    assert!(!warnings.contains("more than one model"), "{warnings}");
    let (_, warnings) = ask("iphone 11 pro max error 4013", None);
    assert!(!warnings.contains("more than one model"), "{warnings}");
    // "ipad pro" alone fits too many models to list: nothing is asked.
    let (_, warnings) = ask("my ipad pro fails with 4013", None);
    assert!(!warnings.contains("more than one model"), "{warnings}");
}

/// Every action's instructions for a program name that program only: someone with the Apple
/// Devices app on Windows never reads "Open Finder", someone with Finder never reads about
/// Windows; without a program, every computer's words stay.
#[test]
fn instructions_are_for_the_program_chosen() {
    let kb = kb::kb();
    let req = DiagnoseRequest {
        device: Some("iPhone 11".into()),
        ..DiagnoseRequest::default()
    };
    let r = resolve(kb, &req).unwrap();
    let mac_words = ["Finder", "macOS", "Mac ", "Mac:", "a Mac", "Terminal"];
    let windows_words = [
        "Windows",
        "Apple Devices",
        "Microsoft Store",
        "Notepad",
        "%APPDATA%",
    ];
    let cases: [(&str, &[&str]); 5] = [
        ("windows_apple_devices", &mac_words),
        ("windows_itunes", &mac_words),
        ("macos_finder", &windows_words),
        ("macos_itunes", &windows_words),
        ("apple_configurator", &windows_words),
    ];
    for a in kb.actions() {
        for (host, foreign) in cases {
            let lines = instructions_for_host(kb, &r.model, a, Some(host));
            for line in &lines {
                for w in foreign {
                    assert!(!line.contains(w), "{} for {host} says {w:?}: {line}", a.id);
                }
            }
        }
        // Without a program: the instructions as written (plus the model's button guide).
        assert_eq!(
            instructions_for_host(kb, &r.model, a, None),
            instructions(kb, &r.model, a)
        );
    }
    let update = kb.action("update_host_software").unwrap();
    let win = instructions_for_host(kb, &r.model, update, Some("windows_apple_devices"));
    assert!(
        win.iter()
            .any(|l| l.contains("Apple Devices app from the Microsoft Store")),
        "{win:?}"
    );
    let mac = instructions_for_host(kb, &r.model, update, Some("macos_finder"));
    assert!(mac.iter().any(|l| l.contains("Software Update")), "{mac:?}");
    assert!(mac.len() < instructions(kb, &r.model, update).len());
    // An open-source restore tool is updated on its own, not through an Apple app or the
    // system's updates; idevicerestore updates (keeps the data) unless told to erase.
    for tool in [
        "idevicerestore",
        "futurerestore",
        "pymobiledevice3",
        "legacy_ios_kit",
        "downgrade_tool",
    ] {
        let lines = instructions_for_host(kb, &r.model, update, Some(tool));
        assert!(
            lines.iter().all(|l| !l.contains("Software Update")
                && !l.contains("Microsoft Store")
                && !l.contains("Windows Update")),
            "{tool}: {lines:?}"
        );
        assert!(lines[0].starts_with("Update "), "{tool}: {lines:?}");
    }
    let idr = instructions_for_host(kb, &r.model, update, Some("idevicerestore"));
    assert!(idr.iter().any(|l| l.contains("usbmuxd")), "{idr:?}");
    assert!(
        idr.iter().any(|l| l.contains("without -e"))
            && !idr
                .iter()
                .any(|l| l.contains("Recovery Mode choose Update")),
        "{idr:?}"
    );
    // The response carries them: the Apple Devices app, not Finder.
    let resp = diagnose_request(&DiagnoseRequest {
        device: Some("iPhone 11".into()),
        error: Some(4013),
        host: Some("windows_apple_devices".into()),
        tried: [
            "cable_swap",
            "port_swap",
            "force_restart",
            "device_port_cleaned",
        ]
        .map(String::from)
        .to_vec(),
        observed: vec!["hub_or_adapter=no".into(), "update_interrupted".into()],
        ..DiagnoseRequest::default()
    })
    .unwrap();
    let next = resp.next_step.unwrap();
    assert_eq!(next.action, "recovery_update");
    assert!(
        next.instructions
            .iter()
            .any(|l| l == "Open the Apple Devices app."),
        "{:?}",
        next.instructions
    );
}

/// What a person reads names no ids: not the program's (`apple_current`), not a stage's
/// (`failure_stage=nand`); the short why is a sentence or two without the evidence list, which
/// `why` and `explanation` keep.
#[test]
fn explanations_and_why_are_in_plain_words() {
    let resp = diagnose_request(&DiagnoseRequest {
        device: Some("iPhone 11".into()),
        error: Some(4013),
        host: Some("windows_apple_devices".into()),
        tried: vec!["cable_swap".into()],
        observed: vec!["failure_stage=nand".into()],
        ..DiagnoseRequest::default()
    })
    .unwrap();
    let all: Vec<&str> = resp
        .explanation
        .iter()
        .map(|e| e.text.as_str())
        .chain(resp.next_step.iter().map(|n| n.why.as_str()))
        .collect();
    for text in &all {
        for id in [
            "apple_current",
            "windows_apple_devices",
            "failure_stage",
            "=nand",
            "_",
        ] {
            assert!(!text.contains(id), "{id:?} in {text}");
        }
    }
    assert!(
        all.iter()
            .any(|t| t.contains("updating the storage chip (NAND)")),
        "{all:?}"
    );
    let next = resp.next_step.unwrap();
    assert!(!next.why_short.is_empty());
    assert!(
        next.why_short.len() <= 200,
        "a sentence or two: {}",
        next.why_short
    );
    assert!(!next.why_short.contains("Evidence so far"));
    assert!(next.why.len() > next.why_short.len());
}

/// "No hub" (`hub_or_adapter=no`) rules out removing hubs (an iPhone 8 with error 9 after a
/// cable and a port: without the rule, "Remove hubs" stays in the plan after "no hub").
#[test]
fn no_hub_rules_out_removing_one() {
    let plan = |observed: &[&str]| {
        let r = diagnose_request(&DiagnoseRequest {
            device: Some("iPhone 8".into()),
            error: Some(9),
            host: Some("windows_itunes".into()),
            tried: ["cable_swap", "port_swap"].map(String::from).to_vec(),
            observed: observed.iter().map(|s| s.to_string()).collect(),
            ..DiagnoseRequest::default()
        })
        .unwrap();
        r.next_step
            .iter()
            .map(|n| n.action.clone())
            .chain(r.plan.iter().map(|p| p.action.clone()))
            .collect::<Vec<_>>()
    };
    let with = plan(&[]);
    assert!(with.contains(&"remove_hub".to_string()), "{with:?}");
    let without = plan(&["hub_or_adapter=no"]);
    assert!(!without.contains(&"remove_hub".to_string()), "{without:?}");
}

#[test]
fn a_hedged_mention_is_not_silence() {
    let kb = kb::kb();
    let silent_on = |text: &str| {
        let req = DiagnoseRequest {
            text: Some(text.to_string()),
            ..DiagnoseRequest::default()
        };
        engine::api::resolve(kb, &req).unwrap().evidence.silent
    };
    // Said with a hedge: unknown, neither an answer nor the silence of a report that never
    // brings it up.
    let hedged = silent_on("restore fails, not sure if it got wet");
    assert!(!hedged.iter().any(|o| o == "liquid_exposure"), "{hedged:?}");
    let never = silent_on("restore fails with error 4013");
    assert!(never.iter().any(|o| o == "liquid_exposure"), "{never:?}");
}

#[test]
fn a_step_done_as_the_tool_guided_weighs_more_than_one_reported() {
    // People whose restore tool is too old often say they updated it (their way: a distro
    // package, an old build), so the fitted model learns that "I updated it" is weak evidence
    // against outdated software. An update done as the tool's instructions say, in the wizard or
    // the case history, and still failing is strong evidence: the knowledge base's P(fixes).
    let base = DiagnoseRequest {
        device: Some("iPhone 8".into()),
        host: Some("idevicerestore".into()),
        ..DiagnoseRequest::default()
    };
    let p = |r: &engine::api::DiagnoseResponse, id: &str| {
        r.causes
            .iter()
            .find(|c| c.id == id)
            .map_or(0.0, |c| c.probability)
    };
    let reported = diagnose_request(&DiagnoseRequest {
        tried: vec!["host_software_update".into()],
        ..base.clone()
    })
    .unwrap();
    let guided = diagnose_request(&DiagnoseRequest {
        steps: vec![ActionTried {
            action: "update_host_software".into(),
            outcome: StepOutcome::Failed,
        }],
        ..base
    })
    .unwrap();
    let (r, g) = (
        p(&reported, "host_software_outdated"),
        p(&guided, "host_software_outdated"),
    );
    assert!(g < r / 2.0, "guided {g:.3} against reported {r:.3}");
    assert!(
        guided
            .plan
            .iter()
            .all(|s| s.action != "update_host_software")
    );
}

#[test]
fn a_known_ipod_touch_is_not_asked_about_hard_drives_and_windows_users_see_no_mac_examples() {
    let ask = |device: Option<&str>, host: &str| -> Vec<String> {
        let r = diagnose_request(&DiagnoseRequest {
            device: device.map(str::to_string),
            error: Some(1439),
            host: Some(host.into()),
            steps: vec![ActionTried {
                action: "port_swap".into(),
                outcome: StepOutcome::Failed,
            }],
            ..DiagnoseRequest::default()
        })
        .unwrap();
        let mut q: Vec<String> = r.questions.iter().map(|q| q.question.clone()).collect();
        q.extend(r.tests.iter().map(|t| t.question.clone()));
        q.extend(r.next_step.map(|s| s.title));
        q
    };
    let iphone = ask(Some("iPod touch (7th generation)"), "windows_apple_devices");
    assert!(
        !iphone.iter().any(|q| q.contains("hard drive")),
        "{iphone:#?}"
    );
    let unknown = ask(None, "windows_itunes");
    assert!(
        unknown.iter().any(|q| q.contains("iPod with a hard drive")),
        "{unknown:#?}"
    );
    for host in ["windows_apple_devices", "windows_itunes"] {
        let q = ask(None, host);
        assert!(!q.iter().any(|q| q.contains("macOS")), "{host}: {q:#?}");
    }
    let mac = ask(None, "macos_finder");
    assert!(!mac.iter().any(|q| q.contains("Windows 7")), "{mac:#?}");
    // The question about an old computer, in each program's words.
    let old = |host: &str| -> String {
        let r = diagnose_request(&DiagnoseRequest {
            device: Some("iPhone 11".into()),
            error: Some(4013),
            host: Some(host.into()),
            tried: vec!["port_swap".into(), "cable_swap".into()],
            ..DiagnoseRequest::default()
        })
        .unwrap();
        r.questions
            .into_iter()
            .map(|q| q.question)
            .find(|q| q.contains("software old"))
            .unwrap_or_default()
    };
    assert!(old("windows_apple_devices").contains("Windows 7 or 8, or an Apple Devices app"));
    assert!(!old("windows_apple_devices").contains("macOS"));
    assert!(old("macos_finder").contains("macOS Catalina or earlier"));
    assert!(!old("macos_finder").contains("Windows"));
}
