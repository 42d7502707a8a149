//! `restore-doctor devices [NAME]`: the device table, optionally filtered.

use crate::output::{self, CmdResult, DIM, Out, bad_input, paint};
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
    tracing::info!(
        "{} devices match {}",
        devices.len(),
        args.name
            .as_deref()
            .map_or("(no filter)".to_string(), |n| format!("`{n}`"))
    );
    if out.json {
        let list: Vec<DeviceJson> = devices.iter().map(|d| DeviceJson::new(d)).collect();
        out.json(&serde_json::json!({ "devices": list }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = output::Table::new(&[
        "Name",
        "Product",
        "Board",
        "CPID",
        "BDID",
        "SoC",
        "Year",
        "Connector",
        "Buttons",
        "Biometric",
    ]);
    table.bold_first = true;
    for d in &devices {
        table.row(vec![
            d.name.clone(),
            d.product_type.clone(),
            d.board.clone(),
            format!("{:04X}", d.cpid),
            format!("{:02X}", d.bdid),
            d.soc.clone(),
            d.year.to_string(),
            match d.connector {
                kb::Connector::ThirtyPin => "30-pin",
                kb::Connector::Lightning => "Lightning",
                kb::Connector::UsbC => "USB-C",
            }
            .to_string(),
            d.button_scheme.as_str().to_string(),
            match d.biometric {
                kb::Biometric::FaceId => "Face ID",
                kb::Biometric::TouchId => "Touch ID",
                kb::Biometric::None => "-",
            }
            .to_string(),
        ]);
    }
    let mut s = table.render();
    s.push_str(&format!(
        "{}\n",
        paint(DIM, format!("{} devices", devices.len()))
    ));
    crate::say!("{s}");
    Ok(ExitCode::SUCCESS)
}
