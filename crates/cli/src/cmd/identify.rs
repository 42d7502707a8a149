//! `restore-doctor identify "<USB serial string>"`: read what a device in DFU or Recovery
//! reports (CPID, BDID, ECID, IBFL, SRTG...) into its mode, model and flags. The ECID, serial
//! number and IMEI are redacted unless `--show-ids`.

use crate::output::{self, BOLD, CmdResult, DIM, DeviceJson, HEADING, Out, bad_input, paint};
use kb::kb;
use serde::Serialize;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  restore-doctor identify \"CPID:8015 CPRV:11 CPFM:03 SCEP:01 BDID:06 ECID:001A2B3C4D5E6F70 IBFL:3C SRTG:[iBoot-3332.0.0.1.23]\"\n  restore-doctor identify --show-ids --json \"$(cat serial.txt)\""
)]
pub struct Args {
    /// The serial string, as shown by System Information, Device Manager, irecovery or ipwndfu.
    pub serial: String,
    /// Show the ECID, serial number and IMEI in full.
    #[arg(long)]
    pub show_ids: bool,
}

#[derive(Serialize)]
struct FlagJson {
    name: String,
    meaning: &'static str,
}

#[derive(Serialize)]
struct IdentifyJson {
    mode: &'static str,
    mode_description: &'static str,
    device: Option<DeviceJson>,
    cpid: Option<String>,
    cprv: Option<String>,
    cpfm: Option<String>,
    scep: Option<String>,
    bdid: Option<String>,
    ecid: Option<String>,
    ecid_redacted: bool,
    srnm: Option<String>,
    imei: Option<String>,
    ibfl: Option<String>,
    flags: Vec<FlagJson>,
    srtg: Option<String>,
    nonce: Option<String>,
    pwnd: Option<String>,
    usb_product_id: Option<String>,
    usb_mode: Option<String>,
}

pub fn run(args: Args, out: &Out) -> CmdResult {
    let info = match usb::serial::parse_serial(&args.serial) {
        Ok(i) => i,
        Err(e) => return bad_input(format!("cannot read the serial string: {e}")),
    };
    let shown = if args.show_ids {
        info.clone()
    } else {
        info.redacted()
    };
    let kb = kb();
    let device = match (info.cpid, info.bdid) {
        (Some(c), Some(b)) => kb.device_by_cpid_bdid(c, b),
        _ => None,
    };
    let hint = info.mode_hint();
    let usb_mode = info
        .usb_pid
        .and_then(|pid| kb.usb_mode(info.usb_vid.unwrap_or(0x05ac), pid))
        .map(|u| u.mode.clone());
    let report = IdentifyJson {
        mode: hint.as_str(),
        mode_description: hint.describe(),
        device: device.map(DeviceJson::new),
        cpid: info.cpid.map(|v| format!("0x{v:04X}")),
        cprv: info.cprv.map(|v| format!("0x{v:02X}")),
        cpfm: info.cpfm.map(|v| format!("0x{v:02X}")),
        scep: info.scep.map(|v| format!("0x{v:02X}")),
        bdid: info.bdid.map(|v| format!("0x{v:02X}")),
        ecid: shown.ecid_text(),
        ecid_redacted: !args.show_ids && info.ecid_text().is_some(),
        srnm: shown.srnm.clone(),
        imei: shown.imei.clone(),
        ibfl: info.ibfl.map(|v| format!("0x{v:02X}")),
        flags: info
            .ibfl_flags()
            .into_iter()
            .map(|f| FlagJson {
                name: f.name(),
                meaning: f.meaning(),
            })
            .collect(),
        srtg: info.srtg.clone(),
        nonce: info.nonc.clone(),
        pwnd: info.pwnd.clone(),
        usb_product_id: info.usb_pid.map(|p| format!("0x{p:04x}")),
        usb_mode,
    };
    if out.json {
        out.json(&report)?;
    } else {
        print_human(&report, info.cpid);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_human(r: &IdentifyJson, cpid: Option<u32>) {
    let mut s = String::new();
    let title = match &r.device {
        Some(d) => format!("{} ({}, {})", d.name, d.product_type, d.board),
        None => match cpid {
            Some(c) => format!("Unknown model (CPID {c:04X}: not in the device table)"),
            None => "Device not identified (no CPID/BDID in the string)".to_string(),
        },
    };
    s.push_str(&format!("{}\n", paint(HEADING, title)));
    s.push_str(&format!(
        "  {} {}\n",
        paint(BOLD, format!("{:<10}", "Mode")),
        r.mode_description
    ));
    if let Some(m) = &r.usb_mode {
        s.push_str(&format!(
            "  {} {} (USB product id {})\n",
            paint(BOLD, format!("{:<10}", "USB")),
            m,
            r.usb_product_id.as_deref().unwrap_or("?")
        ));
    }
    if let Some(d) = &r.device {
        s.push_str(&format!(
            "  {} {} · {} · BDID {}\n",
            paint(BOLD, format!("{:<10}", "Chip")),
            d.soc,
            r.cpid.as_deref().unwrap_or("?"),
            r.bdid.as_deref().unwrap_or("?")
        ));
        s.push_str(&format!(
            "  {} {}\n",
            paint(BOLD, format!("{:<10}", "Buttons")),
            output::scheme_words(d.button_scheme)
        ));
    }
    for (label, value) in [
        ("ECID", &r.ecid),
        ("Serial", &r.srnm),
        ("IMEI", &r.imei),
        ("Boot ROM", &r.srtg),
        ("Exploit", &r.pwnd),
        ("Nonce", &r.nonce),
    ] {
        if let Some(v) = value {
            s.push_str(&format!(
                "  {} {}\n",
                paint(BOLD, format!("{:<10}", label)),
                v
            ));
        }
    }
    if r.ecid_redacted {
        s.push_str(&format!(
            "  {}\n",
            paint(DIM, "(identifiers redacted: --show-ids shows them)")
        ));
    }
    if let Some(ibfl) = &r.ibfl {
        s.push_str(&format!(
            "  {} {}\n",
            paint(BOLD, format!("{:<10}", "IBFL")),
            ibfl
        ));
        for f in &r.flags {
            s.push_str(&format!("    {:<26} {}\n", f.name, paint(DIM, f.meaning)));
        }
    }
    anstream::print!("{s}");
}
