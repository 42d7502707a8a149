//! `restore-doctor devices [NAME]`: the device table, optionally filtered.

use crate::output::{BOLD, CmdResult, DIM, DeviceJson, HEADING, Out, bad_input, paint};
use kb::{DeviceMatch, kb, normalise_name};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  restore-doctor devices\n  restore-doctor devices \"iphone 11\"\n  restore-doctor devices ipad --json"
)]
pub struct Args {
    /// Filter: a name (any spelling, or part of one), a product type or a board.
    pub name: Option<String>,
}

pub fn run(args: Args, out: &Out) -> CmdResult {
    let kb = kb();
    let devices: Vec<&kb::Device> = match &args.name {
        None => kb.devices().iter().collect(),
        Some(q) => {
            // Every device whose name holds all the words of the query, plus an exact match
            // on a product type, board or spelling ("7+", "d22ap").
            let nq = normalise_name(q);
            let words: Vec<&str> = nq.split(' ').collect();
            let exact: Vec<&kb::Device> = match kb.find_device(q) {
                DeviceMatch::Found { variants, .. } => variants,
                _ => Vec::new(),
            };
            let hits: Vec<&kb::Device> = kb
                .devices()
                .iter()
                .filter(|d| {
                    let name = normalise_name(&d.name);
                    let have: Vec<&str> = name.split(' ').collect();
                    exact.iter().any(|e| std::ptr::eq(*e, *d))
                        || words.iter().all(|w| have.contains(w))
                })
                .collect();
            if hits.is_empty() {
                let closest = match kb.find_device(q) {
                    DeviceMatch::NotFound(c) | DeviceMatch::Ambiguous(c) => c,
                    DeviceMatch::Found { name, .. } => vec![name],
                };
                return bad_input(format!(
                    "no device matches `{q}`. Closest: {}",
                    closest.join(", ")
                ));
            }
            hits
        }
    };
    if out.json {
        let list: Vec<DeviceJson> = devices.iter().map(|d| DeviceJson::new(d)).collect();
        out.json(&serde_json::json!({ "devices": list }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = format!(
        "{}\n",
        paint(
            HEADING,
            format!(
                "{:<30} {:<12} {:<9} {:<6} {:<4} {:<20} {:<5} {:<10} {:<20} {}",
                "Name",
                "Product",
                "Board",
                "CPID",
                "BDID",
                "SoC",
                "Year",
                "Connector",
                "Buttons",
                "Biometric"
            )
        )
    );
    for d in &devices {
        s.push_str(&format!(
            "{} {:<12} {:<9} {:<6} {:<4} {:<20} {:<5} {:<10} {:<20} {}\n",
            paint(BOLD, format!("{:<30}", d.name)),
            d.product_type,
            d.board,
            format!("{:04X}", d.cpid),
            format!("{:02X}", d.bdid),
            d.soc,
            d.year,
            match d.connector {
                kb::Connector::ThirtyPin => "30-pin",
                kb::Connector::Lightning => "Lightning",
                kb::Connector::UsbC => "USB-C",
            },
            d.button_scheme.as_str(),
            match d.biometric {
                kb::Biometric::FaceId => "Face ID",
                kb::Biometric::TouchId => "Touch ID",
                kb::Biometric::None => "-",
            }
        ));
    }
    s.push_str(&format!(
        "{}\n",
        paint(DIM, format!("{} devices", devices.len()))
    ));
    anstream::print!("{s}");
    Ok(ExitCode::SUCCESS)
}
