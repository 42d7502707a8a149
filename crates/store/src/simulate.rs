//! Synthetic shop histories with planted faults, for testing and benchmarking the fleet model.
//!
//! A world has `stations` benches, each with `ports_per_station` host ports and a home set of
//! cables (cable `k` lives at station `k mod stations`), and `devices` devices, each with a
//! home station. Every attempt happens at the device's home station 60% of the time (else at a
//! random one, the "try another computer" step), with one of that station's cables 80% of the
//! time (else any cable), on a random port. It fails with probability
//! `logistic(base + device + station + cable + port)`, where normal devices have a difficulty
//! drawn from N(0, 0.6²), normal components a small jitter N(0, 0.1²), and the planted faulty
//! ones a large positive effect (see [`SimConfig`]). Attempts are generated device by device,
//! deterministically from the seed, without holding them in memory.

use crate::fleet::{Cell, FleetData, FleetDevice, NONE};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Parameters of a simulated shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    pub attempts: u64,
    pub stations: u32,
    pub cables: u32,
    pub devices: u32,
    pub ports_per_station: u32,
    pub seed: u64,
    /// Failure probability of a normal attempt (before device difficulty).
    pub base_failure_rate: f64,
    /// Share of stations, cables, ports and devices planted faulty.
    pub faulty_station_share: f64,
    pub faulty_cable_share: f64,
    pub faulty_port_share: f64,
    pub faulty_device_share: f64,
    /// Log-odds added by a faulty item.
    pub station_fault_effect: f64,
    pub cable_fault_effect: f64,
    pub port_fault_effect: f64,
    pub device_fault_effect: f64,
}

impl SimConfig {
    /// The defaults: 40 stations, 200 cables, 4 ports per station, 50 000 devices, 6% base
    /// failure rate; 10% of stations (+1.6 log-odds), 5% of cables (+2.0), 5% of ports (+1.8)
    /// and 2% of devices (+4.5) faulty.
    pub fn new(attempts: u64) -> Self {
        SimConfig {
            attempts,
            stations: 40,
            cables: 200,
            devices: 50_000,
            ports_per_station: 4,
            seed: 7413,
            base_failure_rate: 0.06,
            faulty_station_share: 0.10,
            faulty_cable_share: 0.05,
            faulty_port_share: 0.05,
            faulty_device_share: 0.02,
            station_fault_effect: 1.6,
            cable_fault_effect: 2.0,
            port_fault_effect: 1.8,
            device_fault_effect: 4.5,
        }
    }

    /// Check the numbers make a world; the message names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        if self.stations == 0 || self.stations > 60_000 {
            return Err(format!(
                "--stations must be 1..=60000, got {}",
                self.stations
            ));
        }
        if self.cables == 0 || self.cables > 1_000_000 {
            return Err(format!("--cables must be 1..=1000000, got {}", self.cables));
        }
        if self.devices == 0 || self.devices > 50_000_000 {
            return Err(format!(
                "--devices must be 1..=50000000, got {}",
                self.devices
            ));
        }
        if self.ports_per_station == 0 || self.ports_per_station > 64 {
            return Err(format!(
                "ports per station must be 1..=64, got {}",
                self.ports_per_station
            ));
        }
        if self.attempts < u64::from(self.devices) {
            return Err(format!(
                "--attempts ({}) must be at least --devices ({}): every device needs an attempt",
                self.attempts, self.devices
            ));
        }
        Ok(())
    }
}

/// The planted faults, as ids the fleet report uses (`--truth FILE`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub stations: Vec<String>,
    pub cables: Vec<String>,
    pub ports: Vec<String>,
    pub devices: Vec<String>,
}

/// One simulated attempt (indices into the world's stations, cables, devices; port index is
/// within the station).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimAttempt {
    pub device: u32,
    pub station: u32,
    pub cable: u32,
    pub port: u32,
    pub at: i64,
    pub ok: bool,
}

/// A generated world: effects, faults and device homes.
#[derive(Debug, Clone)]
pub struct SimWorld {
    pub config: SimConfig,
    intercept: f64,
    station_effect: Vec<f64>,
    cable_effect: Vec<f64>,
    port_effect: Vec<f64>,
    device_effect: Vec<f64>,
    device_home: Vec<u32>,
    pub faulty_stations: Vec<u32>,
    pub faulty_cables: Vec<u32>,
    /// Global port indices (`station * ports_per_station + port`).
    pub faulty_ports: Vec<u32>,
    pub faulty_devices: Vec<u32>,
}

/// Product types given to simulated devices (round robin).
const SIM_PRODUCT_TYPES: &[&str] = &[
    "iPhone10,3",
    "iPhone10,6",
    "iPhone11,2",
    "iPhone12,1",
    "iPhone9,3",
    "iPhone13,2",
    "iPad7,5",
];

impl SimWorld {
    /// Draw a world from the config's seed.
    pub fn new(config: SimConfig) -> SimWorld {
        let mut rng = Pcg64Mcg::seed_from_u64(config.seed);
        let ports = config.stations * config.ports_per_station;
        let pick = |n: u32, share: f64, rng: &mut Pcg64Mcg| -> Vec<u32> {
            let k = ((f64::from(n) * share).round() as u32).clamp(u32::from(share > 0.0), n);
            let mut chosen = rand::seq::index::sample(rng, n as usize, k as usize)
                .into_iter()
                .map(|i| i as u32)
                .collect::<Vec<_>>();
            chosen.sort_unstable();
            chosen
        };
        let faulty_stations = pick(config.stations, config.faulty_station_share, &mut rng);
        let faulty_cables = pick(config.cables, config.faulty_cable_share, &mut rng);
        let faulty_ports = pick(ports, config.faulty_port_share, &mut rng);
        let faulty_devices = pick(config.devices, config.faulty_device_share, &mut rng);
        let jitter = |rng: &mut Pcg64Mcg, sd: f64| gaussian(rng) * sd;
        let effects = |n: u32, faulty: &[u32], fault: f64, sd: f64, rng: &mut Pcg64Mcg| {
            (0..n)
                .map(|i| {
                    jitter(rng, sd)
                        + if faulty.binary_search(&i).is_ok() {
                            fault
                        } else {
                            0.0
                        }
                })
                .collect::<Vec<f64>>()
        };
        let station_effect = effects(
            config.stations,
            &faulty_stations,
            config.station_fault_effect,
            0.1,
            &mut rng,
        );
        let cable_effect = effects(
            config.cables,
            &faulty_cables,
            config.cable_fault_effect,
            0.1,
            &mut rng,
        );
        let port_effect = effects(
            ports,
            &faulty_ports,
            config.port_fault_effect,
            0.1,
            &mut rng,
        );
        let device_effect = effects(
            config.devices,
            &faulty_devices,
            config.device_fault_effect,
            0.6,
            &mut rng,
        );
        let device_home = (0..config.devices)
            .map(|_| rng.random_range(0..config.stations))
            .collect();
        let p = config.base_failure_rate.clamp(1e-6, 1.0 - 1e-6);
        SimWorld {
            intercept: (p / (1.0 - p)).ln(),
            config,
            station_effect,
            cable_effect,
            port_effect,
            device_effect,
            device_home,
            faulty_stations,
            faulty_cables,
            faulty_ports,
            faulty_devices,
        }
    }

    /// Name of station `i` (`sim-station-07`).
    pub fn station_name(&self, i: u32) -> String {
        format!("sim-station-{:02}", i + 1)
    }
    /// Name of cable `i` (`sim-cable-012`).
    pub fn cable_name(&self, i: u32) -> String {
        format!("sim-cable-{:03}", i + 1)
    }
    /// Name of port `i` within a station (`port-3`).
    pub fn port_name(&self, i: u32) -> String {
        format!("port-{}", i + 1)
    }
    /// Label of device `i`.
    pub fn device_label(&self, i: u32) -> String {
        format!("sim-device-{:06}", i + 1)
    }
    /// Product type of device `i`.
    pub fn device_product_type(&self, i: u32) -> &'static str {
        SIM_PRODUCT_TYPES[i as usize % SIM_PRODUCT_TYPES.len()]
    }

    /// Number of attempts device `i` gets (pairs of devices share 2×mean, split at random).
    fn attempts_of(&self, i: u32, rng_pair_split: u64) -> u64 {
        let d = u64::from(self.config.devices);
        let base = self.config.attempts / d;
        let extra = u64::from(u64::from(i) < self.config.attempts % d);
        let swing = base / 2;
        if swing == 0 || (i.is_multiple_of(2) && i + 1 == self.config.devices) {
            return base + extra;
        }
        let r = rng_pair_split % (swing + 1);
        if i.is_multiple_of(2) {
            base + extra + r
        } else {
            base + extra - r
        }
    }

    /// All attempts, device by device, deterministic for the seed.
    pub fn attempts(&self) -> impl Iterator<Item = SimAttempt> + '_ {
        let cfg = &self.config;
        let mut rng = Pcg64Mcg::seed_from_u64(cfg.seed ^ 0x5eed_a77e_0000_0001);
        let t0: i64 = 1_767_225_600_000; // 2026-01-01
        let mut pair_split = 0u64;
        (0..cfg.devices).flat_map(move |dev| {
            if dev.is_multiple_of(2) {
                pair_split = rng.random();
            }
            let n = self.attempts_of(dev, pair_split);
            let mut out = Vec::with_capacity(n as usize);
            for k in 0..n {
                let station = if rng.random_bool(0.6) {
                    self.device_home[dev as usize]
                } else {
                    rng.random_range(0..cfg.stations)
                };
                let cable = if rng.random_bool(0.8) {
                    // One of this station's own cables (cable k lives at station k % stations).
                    let own = cfg.cables.saturating_sub(station).div_ceil(cfg.stations);
                    if own == 0 {
                        rng.random_range(0..cfg.cables)
                    } else {
                        station + cfg.stations * rng.random_range(0..own)
                    }
                } else {
                    rng.random_range(0..cfg.cables)
                };
                let port = rng.random_range(0..cfg.ports_per_station);
                let eta = self.intercept
                    + self.device_effect[dev as usize]
                    + self.station_effect[station as usize]
                    + self.cable_effect[cable as usize]
                    + self.port_effect[(station * cfg.ports_per_station + port) as usize];
                let p_fail = 1.0 / (1.0 + (-eta).exp());
                let ok = !rng.random_bool(p_fail);
                let at = t0 + (i64::from(dev) * 1000 + k as i64) * 60_000;
                out.push(SimAttempt {
                    device: dev,
                    station,
                    cable,
                    port,
                    at,
                    ok,
                });
            }
            out
        })
    }

    /// The planted faults as fleet-report ids; `device_ids[i]` is the id device `i` got in the
    /// database (its report id).
    pub fn truth(&self, device_ids: &[String]) -> Truth {
        let pps = self.config.ports_per_station;
        Truth {
            stations: self
                .faulty_stations
                .iter()
                .map(|&s| self.station_name(s))
                .collect(),
            cables: self
                .faulty_cables
                .iter()
                .map(|&c| self.cable_name(c))
                .collect(),
            ports: self
                .faulty_ports
                .iter()
                .map(|&p| format!("{}/{}", self.station_name(p / pps), self.port_name(p % pps)))
                .collect(),
            devices: self
                .faulty_devices
                .iter()
                .map(|&d| device_ids[d as usize].clone())
                .collect(),
        }
    }

    /// The world's attempts aggregated into fleet-model cells in memory (no database), with
    /// devices identified as `sim-device-NNNNNN`. Used by tests of the model itself.
    pub fn to_fleet_data(&self) -> (FleetData, Truth) {
        let cfg = &self.config;
        let pps = cfg.ports_per_station;
        let mut cells: HashMap<(u32, u32, u32, u32), (u32, u32)> = HashMap::new();
        for a in self.attempts() {
            let e = cells
                .entry((a.device, a.station, a.cable, a.station * pps + a.port))
                .or_insert((0, 0));
            e.0 += 1;
            e.1 += u32::from(!a.ok);
        }
        let labels: Vec<String> = (0..cfg.devices).map(|i| self.device_label(i)).collect();
        let data = FleetData {
            stations: (0..cfg.stations).map(|i| self.station_name(i)).collect(),
            cables: (0..cfg.cables).map(|i| self.cable_name(i)).collect(),
            ports: (0..cfg.stations * pps)
                .map(|p| format!("{}/{}", self.station_name(p / pps), self.port_name(p % pps)))
                .collect(),
            devices: labels
                .iter()
                .map(|l| FleetDevice {
                    id: l.clone(),
                    label: l.clone(),
                })
                .collect(),
            cells: cells
                .into_iter()
                .map(|((device, station, cable, port), (n, failures))| Cell {
                    device,
                    station,
                    cable,
                    port,
                    n,
                    failures,
                })
                .collect(),
        };
        let _ = NONE;
        (data, self.truth(&labels))
    }
}

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_exactly_the_requested_attempts_deterministically() {
        let mut cfg = SimConfig::new(10_001);
        cfg.devices = 333;
        cfg.stations = 7;
        cfg.cables = 20;
        let w = SimWorld::new(cfg.clone());
        let a: Vec<SimAttempt> = w.attempts().collect();
        assert_eq!(a.len(), 10_001);
        let b: Vec<SimAttempt> = SimWorld::new(cfg).attempts().collect();
        assert_eq!(a, b);
        assert!(
            a.iter()
                .all(|x| x.station < 7 && x.cable < 20 && x.port < 4)
        );
        let devices: std::collections::BTreeSet<u32> = a.iter().map(|x| x.device).collect();
        assert_eq!(devices.len(), 333, "every device gets at least one attempt");
    }

    #[test]
    fn faulty_devices_fail_far_more_often() {
        let mut cfg = SimConfig::new(60_000);
        cfg.devices = 2_000;
        let w = SimWorld::new(cfg);
        let (mut bad_n, mut bad_f, mut good_n, mut good_f) = (0, 0, 0, 0);
        for a in w.attempts() {
            if w.faulty_devices.binary_search(&a.device).is_ok() {
                bad_n += 1;
                bad_f += u32::from(!a.ok);
            } else {
                good_n += 1;
                good_f += u32::from(!a.ok);
            }
        }
        let bad = f64::from(bad_f) / f64::from(bad_n);
        let good = f64::from(good_f) / f64::from(good_n);
        assert!(bad > 0.8 && good < 0.2, "bad {bad} good {good}");
    }
}
