//! Small hand-built knowledge for unit tests.

use crate::model::Model;
use kb::{Action, Applicability, Cause, Cost, DataRisk, Observation, Skill};
use std::collections::BTreeMap;

pub fn cause(id: &str, group: &str) -> Cause {
    Cause {
        id: id.into(),
        group: group.into(),
        name: id.replace('_', " "),
        description: String::new(),
        applies_to: Applicability::default(),
        shop_test_first: format!("test {id}"),
        repair_usd: [0.0, 100.0],
        repair_source: "test".into(),
        keep_data: "ask for data recovery".into(),
    }
}

pub fn action(id: &str, minutes: f64, fixes: &[(&str, f64)]) -> Action {
    Action {
        id: id.into(),
        title: id.replace('_', " "),
        tried_flag: None,
        cost: Cost { minutes, usd: 0.0 },
        skill: Skill::Owner,
        needs: vec![],
        families: vec![],
        not_when: vec![],
        data_risk: DataRisk::None,
        is_restore: false,
        is_repair_software: false,
        fixes: fixes.iter().map(|(c, p)| (c.to_string(), *p)).collect(),
        source: "test".into(),
        instructions: vec![format!("do {id}")],
        guide: None,
        phrases: Default::default(),
        implies: vec![],
        reveals: vec![],
    }
}

pub fn binary(id: &str, kind: &str, minutes: f64, yes: &[(&str, f64)]) -> Observation {
    let mut m = BTreeMap::new();
    m.insert(
        "yes".to_string(),
        yes.iter().map(|(c, p)| (c.to_string(), *p)).collect(),
    );
    Observation {
        id: id.into(),
        kind: kind.into(),
        question: format!("{id}?"),
        outcomes: vec!["yes".into(), "no".into()],
        cost: Cost { minutes, usd: 0.0 },
        skill: Skill::Owner,
        needs: vec![],
        families: vec![],
        likelihood: m,
        source: "test".into(),
        phrases: Default::default(),
        known_device: None,
    }
}

/// Three causes (cable, host software, nand), a few actions and a symptom.
pub fn small_model() -> Model {
    let causes = vec![
        cause("usb_cable", "connection"),
        cause("host_software_outdated", "host"),
        cause("nand", "hardware"),
    ];
    let prior: BTreeMap<String, f64> = [
        ("usb_cable", 0.5),
        ("host_software_outdated", 0.3),
        ("nand", 0.2),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), *v))
    .collect();
    let mut recovery_update = action("recovery_update", 30.0, &[("host_software_outdated", 0.2)]);
    recovery_update.is_restore = true;
    let mut dfu = action(
        "dfu_restore",
        45.0,
        &[("host_software_outdated", 0.3), ("nand", 0.1)],
    );
    dfu.is_restore = true;
    dfu.data_risk = DataRisk::ErasesDevice;
    let mut repair_sw = action("third_party_repair_tool", 30.0, &[("nand", 0.05)]);
    repair_sw.is_repair_software = true;
    let mut shop = action(
        "shop_diagnosis",
        180.0,
        &[
            ("usb_cable", 1.0),
            ("host_software_outdated", 1.0),
            ("nand", 0.8),
        ],
    );
    shop.cost.usd = 150.0;
    let actions = vec![
        action("swap_cable", 10.0, &[("usb_cable", 0.9)]),
        action(
            "update_host_software",
            40.0,
            &[("host_software_outdated", 0.9)],
        ),
        recovery_update,
        dfu,
        repair_sw,
        shop,
    ];
    let observations = vec![
        binary(
            "liquid_exposure",
            "symptom",
            1.0,
            &[("nand", 0.9), ("default", 0.02)],
        ),
        binary("backup_exists", "question", 1.0, &[("default", 0.5)]),
    ];
    Model::new(
        None,
        Some(4013),
        causes,
        &prior,
        vec![],
        observations,
        actions,
        vec![],
    )
}
