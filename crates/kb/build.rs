//! Parses every TOML file under `knowledge/` into the typed records of `src/model.rs` and writes
//! them as postcard blobs (one per table) into OUT_DIR, so the binary never parses TOML at
//! start-up and decodes only the tables a command needs.
//! A malformed entry fails the build, naming the file, the line and the field.

#[path = "src/model.rs"]
#[allow(dead_code)]
mod model;

use model::*;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SourcesFile {
    #[serde(default)]
    source: Vec<Source>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ErrorCodesFile {
    #[serde(default)]
    family: Vec<Family>,
    #[serde(default)]
    code: Vec<ErrorCode>,
    #[serde(default)]
    range: Vec<ErrorRange>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CausesFile {
    #[serde(default)]
    cause: Vec<Cause>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ObservationsFile {
    #[serde(default)]
    observation: Vec<Observation>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActionsFile {
    #[serde(default)]
    action: Vec<Action>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct GuidesFile {
    #[serde(default)]
    guide: Vec<Guide>,
    #[serde(default)]
    host_app: Vec<HostApp>,
    #[serde(default)]
    host_wording: Vec<HostWording>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DevicesFile {
    #[serde(default)]
    device: Vec<Device>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FaultsFile {
    #[serde(default)]
    fault: Vec<KnownFault>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OperationsFile {
    #[serde(default)]
    operation: Vec<RestoreOperation>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CheckpointsFile {
    #[serde(default)]
    checkpoint: Vec<Checkpoint>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StatusFile {
    #[serde(default)]
    status: Vec<RestoreStatus>,
    #[serde(default)]
    progress_hint: Vec<ProgressHint>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LanguageFile {
    #[serde(default)]
    language: Vec<Language>,
    #[serde(default)]
    cue: Vec<Cue>,
}
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct UsbFile {
    #[serde(default)]
    usb_id: Vec<UsbId>,
    #[serde(default)]
    serial_field: Vec<SerialField>,
}

fn load<T: for<'de> Deserialize<'de> + Default>(dir: &Path, name: &str) -> T {
    let path = dir.join(name);
    println!("cargo:rerun-if-changed={}", path.display());
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => {
            println!("cargo:warning=knowledge/{name} is missing: its tables are empty");
            return T::default();
        }
    };
    match toml::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            // toml's message names the line, the column and the key; add the file.
            panic!("\nknowledge/{name} is malformed:\n{e}\n");
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let dir = manifest.join("../../knowledge");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed=src/model.rs");

    let sources: SourcesFile = load(&dir, "sources.toml");
    let codes: ErrorCodesFile = load(&dir, "error_codes.toml");
    let causes: CausesFile = load(&dir, "causes.toml");
    let observations: ObservationsFile = load(&dir, "observations.toml");
    let actions: ActionsFile = load(&dir, "actions.toml");
    let guides: GuidesFile = load(&dir, "guides.toml");
    let devices: DevicesFile = load(&dir, "devices.toml");
    let faults: FaultsFile = load(&dir, "known_faults.toml");
    let operations: OperationsFile = load(&dir, "restore_operations.toml");
    let checkpoints: CheckpointsFile = load(&dir, "checkpoints.toml");
    let status: StatusFile = load(&dir, "restore_status.toml");
    let usb: UsbFile = load(&dir, "usb.toml");
    let cases = load_cases(&dir.join("cases"));
    let language: LanguageFile = load(&dir, "language.toml");

    let tables = Tables {
        sources: sources.source,
        families: codes.family,
        codes: codes.code,
        ranges: codes.range,
        causes: causes.cause,
        observations: observations.observation,
        actions: actions.action,
        guides: guides.guide,
        host_apps: guides.host_app,
        host_wordings: guides.host_wording,
        devices: devices.device,
        known_faults: faults.fault,
        operations: operations.operation,
        checkpoints: checkpoints.checkpoint,
        statuses: status.status,
        progress_hints: status.progress_hint,
        usb_ids: usb.usb_id,
        serial_fields: usb.serial_field,
        cases,
        languages: language.language,
        cues: language.cue,
    };
    // One blob per table, so a command decodes only the tables it touches.
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    macro_rules! write_tables {
        ($($field:ident),*) => {$(
            let blob = postcard::to_allocvec(&tables.$field).expect("serialise knowledge table");
            std::fs::write(out.join(concat!(stringify!($field), ".postcard")), blob)
                .expect("write knowledge blob");
        )*};
    }
    write_tables!(
        sources,
        families,
        codes,
        ranges,
        causes,
        observations,
        actions,
        guides,
        host_apps,
        host_wordings,
        devices,
        known_faults,
        operations,
        checkpoints,
        statuses,
        progress_hints,
        usb_ids,
        serial_fields,
        cases,
        languages,
        cues
    );
}

/// Every `*.jsonl` file of `knowledge/cases/` in name order, one [`RealCase`] a line. A line
/// that is not a case fails the build, naming the file, the line and what is wrong.
fn load_cases(dir: &Path) -> Vec<RealCase> {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else {
        println!("cargo:warning=knowledge/cases is missing: the corpus of real cases is empty");
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("\nknowledge/cases/{name} cannot be read: {e}\n"));
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("\nknowledge/cases/{name}:{}: not JSON: {e}\n", i + 1));
            if let Some(obj) = value.as_object() {
                for key in obj.keys() {
                    if !RealCase::FIELDS.contains(&key.as_str()) {
                        panic!(
                            "\nknowledge/cases/{name}:{}: unknown field `{key}`\n",
                            i + 1
                        );
                    }
                }
            }
            match serde_json::from_value::<RealCase>(value) {
                Ok(c) => cases.push(c),
                Err(e) => panic!("\nknowledge/cases/{name}:{}: not a case: {e}\n", i + 1),
            }
        }
    }
    cases
}
