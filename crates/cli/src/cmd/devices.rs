//! `restore-doctor devices [NAME]`: the device table, optionally filtered.

use crate::output::{BOLD, CmdResult, DIM, HEADING, Out, bad_input, paint};
use kb::report::{self, DeviceJson, ReportError};
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
    let devices = match report::devices_matching(args.name.as_deref()) {
        Ok(d) => d,
        Err(ReportError::UnknownDevice { query, closest }) => {
            return bad_input(format!(
                "no device matches `{query}`. Closest: {}",
                closest.join(", ")
            ));
        }
        Err(e) => return Err(anyhow::anyhow!(e)),
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
