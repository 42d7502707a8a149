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
    /// When the CPID is known but not this board id: the chip and the models that use it.
    #[serde(skip_serializing_if = "Option::is_none")]
    chip_family: Option<ChipFamilyJson>,
}

/// The chip a CPID names, and its models, for a board id the device table lacks.
#[derive(Serialize)]
struct ChipFamilyJson {
    soc: String,
    models: Vec<String>,
    /// The board ids the table knows for this chip.
    known_bdids: Vec<String>,
}

/// The models with this CPID (deduplicated, in table order).
fn chip_family(kb: &kb::KnowledgeBase, cpid: u32) -> Option<ChipFamilyJson> {
    let devices: Vec<&kb::Device> = kb.devices().iter().filter(|d| d.cpid == cpid).collect();
    let first = devices.first()?;
    let mut models: Vec<String> = Vec::new();
    let mut known_bdids: Vec<String> = Vec::new();
    for d in &devices {
        if !models.contains(&d.name) {
            models.push(d.name.clone());
        }
        let b = format!("0x{:02X}", d.bdid);
        if !known_bdids.contains(&b) {
            known_bdids.push(b);
        }
    }
    Some(ChipFamilyJson {
        soc: first.soc.clone(),
        models,
        known_bdids,
    })
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
        chip_family: match (device, info.cpid) {
            (None, Some(c)) => chip_family(kb, c),
            _ => None,
        },
    };
    match (&report.device, &report.chip_family) {
        (Some(d), _) => tracing::info!("CPID/BDID found in the device table: {}", d.name),
        (None, Some(f)) => tracing::info!(
            "CPID known ({}, {} models), board id {} not in the device table",
            f.soc,
            f.models.len(),
            report.bdid.as_deref().unwrap_or("missing")
        ),
        (None, None) => tracing::info!("no device with this CPID/BDID in the table"),
    }
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
        None => match (cpid, &r.chip_family, &r.bdid) {
            (Some(c), Some(f), Some(b)) => format!(
                "{} (CPID {c:04X}) with board id {b}: the chip is known, this board is not in \
                 the device table",
                f.soc
            ),
            (Some(c), Some(f), None) => format!(
                "{} (CPID {c:04X}): the chip is known; the string has no board id (BDID)",
                f.soc
            ),
            (Some(c), None, _) => format!("Unknown model (CPID {c:04X}: not in the device table)"),
            (None, _, _) => "Device not identified (no CPID/BDID in the string)".to_string(),
        },
    };
    s.push_str(&format!("{}\n", paint(HEADING, title)));
    if let Some(f) = &r.chip_family {
        s.push_str(&output::wrap(
            &format!(
                "The {} is in: {}. Known board ids for it: {}. A board id the table lacks is a \
                 model newer than this table or a misread string: check the BDID.",
                f.soc,
                f.models.join(", "),
                f.known_bdids.join(", ")
            ),
            "  ",
        ));
    }
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
    crate::say!("{s}");
}
