//! Normal-mode model and iOS version through usbmuxd (Linux/macOS) or Apple Mobile Device
//! Service (Windows): list the devices usbmuxd knows, open a tunnel to each one's lockdownd
//! (port 62078) and ask `GetValue` for `ProductType` and `ProductVersion`, which lockdownd
//! answers without pairing. Nothing is written to the device, no pairing record is used, and
//! the device name (the owner's) is never asked for.
//!
//! Wire formats: usbmuxd messages are a 16-byte little-endian header (length, version 1,
//! type 8 = plist, tag) and an XML plist; lockdown messages are a 4-byte big-endian length and
//! an XML plist.

use plist::{Dictionary, Value};
use std::io::{Read, Write};
use std::time::Duration;

/// Environment variable overriding where usbmuxd listens (a socket path, or `host:port`).
pub const USBMUXD_ENV: &str = "RESTORE_DOCTOR_USBMUXD";

const LOCKDOWN_PORT: u16 = 62078;
const TIMEOUT: Duration = Duration::from_secs(3);
const MAX_MESSAGE: usize = 1 << 20;

/// Why usbmuxd or lockdownd could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum LockdownError {
    #[error("usbmuxd is not running or not reachable at {addr}: {source}")]
    NoMux {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("I/O error talking to usbmuxd/lockdownd: {0}")]
    Io(#[from] std::io::Error),
    #[error("unexpected answer from {who}: {what}")]
    Protocol { who: &'static str, what: String },
}

/// What lockdownd says about one device in normal mode.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockdownInfo {
    /// The UDID (the USB serial number in normal mode).
    pub udid: String,
    /// `iPhone10,3`.
    pub product_type: Option<String>,
    /// `16.7.10`.
    pub product_version: Option<String>,
}

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

fn default_addr() -> String {
    if let Ok(a) = std::env::var(USBMUXD_ENV)
        && !a.is_empty()
    {
        return a;
    }
    if cfg!(windows) {
        "127.0.0.1:27015".into()
    } else {
        "/var/run/usbmuxd".into()
    }
}

fn connect(addr: &str) -> Result<Box<dyn Stream>, LockdownError> {
    let no_mux = |source| LockdownError::NoMux {
        addr: addr.to_string(),
        source,
    };
    #[cfg(unix)]
    if addr.starts_with('/') {
        let s = std::os::unix::net::UnixStream::connect(addr).map_err(no_mux)?;
        s.set_read_timeout(Some(TIMEOUT))?;
        s.set_write_timeout(Some(TIMEOUT))?;
        return Ok(Box::new(s));
    }
    let s = std::net::TcpStream::connect(addr).map_err(no_mux)?;
    s.set_read_timeout(Some(TIMEOUT))?;
    s.set_write_timeout(Some(TIMEOUT))?;
    Ok(Box::new(s))
}

fn to_xml(dict: Dictionary) -> Result<Vec<u8>, LockdownError> {
    let mut out = Vec::new();
    Value::Dictionary(dict)
        .to_writer_xml(&mut out)
        .map_err(|e| LockdownError::Protocol {
            who: "plist encoder",
            what: e.to_string(),
        })?;
    Ok(out)
}

fn from_plist(who: &'static str, bytes: &[u8]) -> Result<Dictionary, LockdownError> {
    let value: Value = plist::from_bytes(bytes).map_err(|e| LockdownError::Protocol {
        who,
        what: format!("not a plist: {e}"),
    })?;
    value
        .into_dictionary()
        .ok_or_else(|| LockdownError::Protocol {
            who,
            what: "not a dictionary".into(),
        })
}

/// Send one usbmuxd plist message.
fn mux_send(s: &mut dyn Stream, tag: u32, dict: Dictionary) -> Result<(), LockdownError> {
    let body = to_xml(dict)?;
    let len = u32::try_from(16 + body.len()).map_err(|_| LockdownError::Protocol {
        who: "usbmuxd",
        what: "message too large".into(),
    })?;
    let mut msg = Vec::with_capacity(len as usize);
    for field in [len, 1, 8, tag] {
        msg.extend_from_slice(&field.to_le_bytes());
    }
    msg.extend_from_slice(&body);
    s.write_all(&msg)?;
    Ok(())
}

/// Read one usbmuxd plist message.
fn mux_recv(s: &mut dyn Stream) -> Result<Dictionary, LockdownError> {
    let mut header = [0u8; 16];
    s.read_exact(&mut header)?;
    let len = u32::from_le_bytes(header[0..4].try_into().unwrap_or_default()) as usize;
    if !(16..=MAX_MESSAGE).contains(&len) {
        return Err(LockdownError::Protocol {
            who: "usbmuxd",
            what: format!("message length {len}"),
        });
    }
    let mut body = vec![0u8; len - 16];
    s.read_exact(&mut body)?;
    from_plist("usbmuxd", &body)
}

fn request(message_type: &str) -> Dictionary {
    let mut d = Dictionary::new();
    d.insert("MessageType".into(), message_type.into());
    d.insert("ClientVersionString".into(), "restore-doctor".into());
    d.insert("ProgName".into(), "restore-doctor".into());
    d
}

/// Devices usbmuxd sees: (DeviceID, UDID).
fn list_devices(addr: &str) -> Result<Vec<(u64, String)>, LockdownError> {
    let mut s = connect(addr)?;
    mux_send(s.as_mut(), 1, request("ListDevices"))?;
    let answer = mux_recv(s.as_mut())?;
    let list = answer
        .get("DeviceList")
        .and_then(Value::as_array)
        .ok_or_else(|| LockdownError::Protocol {
            who: "usbmuxd",
            what: "no DeviceList in the ListDevices answer".into(),
        })?;
    let mut out = Vec::new();
    for entry in list {
        let Some(props) = entry
            .as_dictionary()
            .and_then(|d| d.get("Properties"))
            .and_then(Value::as_dictionary)
        else {
            continue;
        };
        // Network-paired devices show up too; only USB ones are on this bench.
        if props.get("ConnectionType").and_then(Value::as_string) != Some("USB") {
            continue;
        }
        let id = props.get("DeviceID").and_then(Value::as_unsigned_integer);
        let udid = props.get("SerialNumber").and_then(Value::as_string);
        if let (Some(id), Some(udid)) = (id, udid) {
            out.push((id, udid.to_string()));
        }
    }
    Ok(out)
}

/// Open a tunnel to the device's lockdownd.
fn connect_lockdown(addr: &str, device_id: u64) -> Result<Box<dyn Stream>, LockdownError> {
    let mut s = connect(addr)?;
    let mut req = request("Connect");
    req.insert("DeviceID".into(), Value::Integer(device_id.into()));
    // usbmuxd wants the port in network byte order inside a host-order integer.
    req.insert(
        "PortNumber".into(),
        Value::Integer(u64::from(LOCKDOWN_PORT.to_be()).into()),
    );
    mux_send(s.as_mut(), 2, req)?;
    let answer = mux_recv(s.as_mut())?;
    match answer.get("Number").and_then(Value::as_unsigned_integer) {
        Some(0) => Ok(s),
        other => Err(LockdownError::Protocol {
            who: "usbmuxd",
            what: format!("Connect refused (result {other:?})"),
        }),
    }
}

fn lockdown_get(s: &mut dyn Stream, key: &str) -> Result<Option<String>, LockdownError> {
    let mut req = Dictionary::new();
    req.insert("Label".into(), "restore-doctor".into());
    req.insert("Request".into(), "GetValue".into());
    req.insert("Key".into(), key.into());
    let body = to_xml(req)?;
    let len = u32::try_from(body.len()).map_err(|_| LockdownError::Protocol {
        who: "lockdownd",
        what: "message too large".into(),
    })?;
    s.write_all(&len.to_be_bytes())?;
    s.write_all(&body)?;
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_MESSAGE {
        return Err(LockdownError::Protocol {
            who: "lockdownd",
            what: format!("message length {len}"),
        });
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)?;
    let answer = from_plist("lockdownd", &body)?;
    if answer.get("Error").is_some() {
        return Ok(None);
    }
    Ok(answer
        .get("Value")
        .and_then(Value::as_string)
        .map(str::to_string))
}

/// Ask usbmuxd (at [`USBMUXD_ENV`] or the platform default) about every USB device it sees.
/// A device that does not answer is listed with no values rather than failing the rest.
pub fn query_devices() -> Result<Vec<LockdownInfo>, LockdownError> {
    query_devices_at(&default_addr())
}

/// [`query_devices`] against a given usbmuxd address (socket path or `host:port`).
pub fn query_devices_at(addr: &str) -> Result<Vec<LockdownInfo>, LockdownError> {
    let mut out = Vec::new();
    for (id, udid) in list_devices(addr)? {
        let mut info = LockdownInfo {
            udid,
            product_type: None,
            product_version: None,
        };
        if let Ok(mut s) = connect_lockdown(addr, id) {
            info.product_type = lockdown_get(s.as_mut(), "ProductType").ok().flatten();
            info.product_version = lockdown_get(s.as_mut(), "ProductVersion").ok().flatten();
        }
        out.push(info);
    }
    Ok(out)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::net::{UnixListener, UnixStream};

    /// A fake usbmuxd that knows one USB iPhone and one Wi-Fi one, and tunnels to a fake
    /// lockdownd answering ProductType/ProductVersion.
    fn fake_usbmuxd(path: &std::path::Path, connections: usize) -> std::thread::JoinHandle<()> {
        let listener = UnixListener::bind(path).unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(connections) {
                let mut s: UnixStream = stream.unwrap();
                let req = mux_recv(&mut s).unwrap();
                match req.get("MessageType").and_then(Value::as_string) {
                    Some("ListDevices") => {
                        let device = |id: u64, udid: &str, conn: &str| {
                            let mut props = Dictionary::new();
                            props.insert("DeviceID".into(), Value::Integer(id.into()));
                            props.insert("SerialNumber".into(), udid.into());
                            props.insert("ConnectionType".into(), conn.into());
                            let mut d = Dictionary::new();
                            d.insert("MessageType".into(), "Attached".into());
                            d.insert("Properties".into(), Value::Dictionary(props));
                            Value::Dictionary(d)
                        };
                        let mut answer = Dictionary::new();
                        answer.insert(
                            "DeviceList".into(),
                            Value::Array(vec![
                                device(3, "00008030-001A2B3C4D5E6F70", "USB"),
                                device(4, "00008101-000000000000BEEF", "Network"),
                            ]),
                        );
                        mux_send(&mut s, 1, answer).unwrap();
                    }
                    Some("Connect") => {
                        assert_eq!(
                            req.get("PortNumber").and_then(Value::as_unsigned_integer),
                            Some(u64::from(62078u16.to_be()))
                        );
                        let mut ok = Dictionary::new();
                        ok.insert("MessageType".into(), "Result".into());
                        ok.insert("Number".into(), Value::Integer(0u64.into()));
                        mux_send(&mut s, 2, ok).unwrap();
                        // Now speak lockdown on the same socket.
                        for _ in 0..2 {
                            let mut len = [0u8; 4];
                            s.read_exact(&mut len).unwrap();
                            let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
                            s.read_exact(&mut body).unwrap();
                            let q = from_plist("test", &body).unwrap();
                            let key = q.get("Key").and_then(Value::as_string).unwrap();
                            let mut a = Dictionary::new();
                            a.insert("Key".into(), key.into());
                            a.insert("Request".into(), "GetValue".into());
                            match key {
                                "ProductType" => {
                                    a.insert("Value".into(), "iPhone12,1".into());
                                }
                                "ProductVersion" => {
                                    a.insert("Value".into(), "17.5.1".into());
                                }
                                _ => {
                                    a.insert("Error".into(), "MissingValue".into());
                                }
                            }
                            let out = to_xml(a).unwrap();
                            s.write_all(&(out.len() as u32).to_be_bytes()).unwrap();
                            s.write_all(&out).unwrap();
                        }
                    }
                    other => panic!("unexpected request {other:?}"),
                }
            }
        })
    }

    #[test]
    fn asks_lockdown_for_model_and_version_of_usb_devices_only() {
        let dir = std::env::temp_dir().join(format!("rd-mux-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("usbmuxd");
        let _ = std::fs::remove_file(&path);
        let server = fake_usbmuxd(&path, 2);
        let infos = query_devices_at(path.to_str().unwrap()).unwrap();
        server.join().unwrap();
        assert_eq!(
            infos,
            vec![LockdownInfo {
                udid: "00008030-001A2B3C4D5E6F70".into(),
                product_type: Some("iPhone12,1".into()),
                product_version: Some("17.5.1".into()),
            }]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn no_usbmuxd_is_a_clear_error() {
        let err = query_devices_at("/nonexistent/usbmuxd").unwrap_err();
        assert!(matches!(err, LockdownError::NoMux { .. }));
        assert!(err.to_string().contains("usbmuxd is not running"));
    }

    #[test]
    fn garbage_from_usbmuxd_is_a_protocol_error_not_a_panic() {
        let dir = std::env::temp_dir().join(format!("rd-mux-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("usbmuxd");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let _ = mux_recv(&mut s);
            // A header claiming 8 bytes: shorter than the header itself.
            let mut bad = Vec::new();
            for f in [8u32, 1, 8, 1] {
                bad.extend_from_slice(&f.to_le_bytes());
            }
            s.write_all(&bad).unwrap();
        });
        let err = query_devices_at(path.to_str().unwrap()).unwrap_err();
        server.join().unwrap();
        assert!(matches!(err, LockdownError::Protocol { .. }), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
