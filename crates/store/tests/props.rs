//! Property tests: redaction never leaks more than the last four characters (device ids and the
//! ECID inside recorded USB events); the fleet model's
//! report keeps every attempt, stays within probability bounds, and never flags an item that has
//! no failures, whatever the data.

use proptest::prelude::*;
use store::fleet::{Cell, FleetData, FleetDevice, FleetOptions, NONE, fit};

proptest! {
    #[test]
    fn redaction_keeps_at_most_the_last_four_characters(id in "[0-9A-Za-z]{0,40}") {
        let r = store::redact(&id);
        let visible: String = r.chars().filter(|c| *c != '*').collect();
        prop_assert!(visible.chars().count() <= 4);
        if id.chars().count() > 6 {
            prop_assert!(id.ends_with(&visible));
        } else {
            prop_assert!(visible.is_empty());
        }
    }

    #[test]
    fn a_redacted_usb_event_never_shows_its_ecid(
        ecid in "[0-9A-F]{12,16}",
        before in "[ -~]{0,30}",
        after in "[ -~]{0,30}",
    ) {
        let e = store::UsbEventRecord {
            at: "2026-11-21T14:02:11Z".into(),
            kind: "came_back_after_drop".into(),
            mode: Some("dfu".into()),
            text: format!("{before}{ecid}{after}"),
            product_type: None,
            ecid: Some(ecid.clone()),
            alarm: true,
        };
        let r = e.redacted();
        let json = serde_json::to_string(&r).unwrap();
        prop_assert!(!json.contains(&ecid), "{}", json);
        prop_assert_eq!(r.ecid, Some(store::redact(&ecid)));
    }

    #[test]
    fn fleet_report_is_consistent_for_any_cells(
        cells in prop::collection::vec(
            (0u32..6, 0u32..3, prop::option::of(0u32..4), prop::option::of(0u32..5), 1u32..30, 0u32..=100),
            1..60,
        )
    ) {
        let cells: Vec<Cell> = cells
            .into_iter()
            .map(|(device, station, cable, port, n, pct)| Cell {
                device,
                station,
                cable: cable.unwrap_or(NONE),
                port: port.unwrap_or(NONE),
                n,
                failures: n * pct / 100,
            })
            .collect();
        let data = FleetData {
            stations: (0..3).map(|i| format!("s{i}")).collect(),
            cables: (0..4).map(|i| format!("c{i}")).collect(),
            ports: (0..5).map(|i| format!("p{i}")).collect(),
            devices: (0..6).map(|i| FleetDevice { id: i.to_string(), label: "iPhone 8".into() }).collect(),
            cells: cells.clone(),
        };
        let r = fit(&data, &FleetOptions::default());
        let total: u64 = cells.iter().map(|c| u64::from(c.n)).sum();
        let failures: u64 = cells.iter().map(|c| u64::from(c.failures)).sum();
        prop_assert_eq!(r.model.attempts, total);
        prop_assert_eq!(r.stations.iter().map(|s| s.attempts).sum::<u64>(), total);
        prop_assert_eq!(r.devices.iter().map(|s| s.failures).sum::<u64>(), failures);
        for item in r.stations.iter().chain(&r.cables).chain(&r.ports).chain(&r.devices) {
            prop_assert!((0.0..=1.0).contains(&item.p_faulty), "{item:?}");
            prop_assert!(item.failure_rate_ci[0] <= item.failure_rate + 1e-12);
            prop_assert!(item.failure_rate_ci[1] >= item.failure_rate - 1e-12);
            prop_assert!(item.excess_failure_rate.abs() <= 1.0);
            prop_assert!(item.effect.is_finite() && item.effect_sd > 0.0);
            if item.failures == 0 {
                prop_assert!(!item.flagged, "an item without failures was flagged: {item:?}");
            }
        }
    }
}
