//! Fleet analytics: which stations (benches/computers), cables, host ports and devices fail
//! more than they should, once everything else on each attempt is accounted for.
//!
//! Model (documented in `crates/store/FLEET.md`): a penalised logistic regression with one
//! effect per device, station, cable and port,
//! `logit P(fail) = α + device[d] + station[s] + cable[c] + port[p]`,
//! with Gaussian priors (ridge penalties) on the effects: N(0, 1.5²) for devices, N(0, 1) for
//! components. It is fitted to the (device, station, cable, port) cells by block-coordinate
//! Newton: every attempt has exactly one level of each factor, so the Hessian block of one
//! factor is diagonal and each block update is an exact Newton step. The posterior of each
//! effect is approximated by a normal (Laplace) with variance 1 / (Fisher information +
//! prior precision); `p_faulty` is P(effect > τ) under it, with τ = ln 2 for components (at least
//! doubles the odds of failure) and τ = 2 for devices (odds × 7.4: the device itself is the
//! problem).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};

/// Marks a missing cable or port in a [`Cell`].
pub const NONE: u32 = u32::MAX;

/// Attempts sharing one device, station, cable and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub device: u32,
    pub station: u32,
    /// Index into [`FleetData::cables`], or [`NONE`].
    pub cable: u32,
    /// Index into [`FleetData::ports`], or [`NONE`].
    pub port: u32,
    pub n: u32,
    pub failures: u32,
}

/// A device as the fleet report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetDevice {
    /// Report id (the store's device id as a string).
    pub id: String,
    /// What the person typed for it (model name or product type; never an ECID or serial).
    pub label: String,
}

/// The model's input: names of every level and the cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetData {
    pub stations: Vec<String>,
    pub cables: Vec<String>,
    /// `station/port` names.
    pub ports: Vec<String>,
    pub devices: Vec<FleetDevice>,
    pub cells: Vec<Cell>,
}

/// Model settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetOptions {
    /// Prior standard deviation of device effects (log-odds).
    pub device_prior_sd: f64,
    /// Prior standard deviation of station, cable and port effects.
    pub component_prior_sd: f64,
    /// An item is faulty when its effect exceeds this (log-odds) ...
    pub component_threshold: f64,
    pub device_threshold: f64,
    /// ... and it is flagged when P(faulty) reaches this.
    pub flag_probability: f64,
    /// Stop after this many sweeps, or once no effect moved by more than `tolerance`
    /// (log-odds) in a sweep.
    pub max_sweeps: u32,
    pub tolerance: f64,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            device_prior_sd: 1.5,
            component_prior_sd: 1.0,
            component_threshold: std::f64::consts::LN_2,
            device_threshold: 2.0,
            flag_probability: 0.9,
            max_sweeps: 60,
            tolerance: 5e-3,
        }
    }
}

/// One row of the report (design.md §8 `R`, plus extra fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemReport {
    pub id: String,
    pub attempts: u64,
    pub failures: u64,
    pub failure_rate: f64,
    /// 95% credible interval of the failure rate (Jeffreys Beta(½, ½) prior).
    pub failure_rate_ci: [f64; 2],
    /// Observed failure rate minus the rate expected for the same attempts with this item's
    /// effect set to zero (i.e. with an average item in its place).
    pub excess_failure_rate: f64,
    /// Fitted effect (log odds ratio against an average item) and its posterior sd.
    pub effect: f64,
    pub effect_sd: f64,
    /// P(effect > threshold | data).
    pub p_faulty: f64,
    pub flagged: bool,
    /// Devices only: what the person typed for the device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Devices only: distinct stations the device was tried on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stations_tried: Option<u32>,
    /// Devices only: `device` (the device is faulty), `bench` (its failures happened on
    /// flagged stations/cables/ports), `no_fault_found`, or `no_failures`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
}

/// Model fit summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub model: String,
    pub attempts: u64,
    pub failures: u64,
    pub cells: u64,
    pub sweeps: u32,
    pub converged: bool,
    /// Fitted baseline failure probability (all effects zero).
    pub baseline_failure_rate: f64,
    pub options: FleetOptions,
}

/// `fleet report` (design.md §8): stations, cables, ports, devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetReport {
    pub stations: Vec<ItemReport>,
    pub cables: Vec<ItemReport>,
    pub ports: Vec<ItemReport>,
    pub devices: Vec<ItemReport>,
    pub model: ModelSummary,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Standard normal CDF.
fn phi(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

/// 95% Jeffreys interval for `f` failures in `n` attempts.
pub fn jeffreys_interval(f: u64, n: u64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let a = f as f64 + 0.5;
    let b = (n - f) as f64 + 0.5;
    let lo = if f == 0 {
        0.0
    } else {
        statrs::function::beta::inv_beta_reg(a, b, 0.025)
    };
    let hi = if f == n {
        1.0
    } else {
        statrs::function::beta::inv_beta_reg(a, b, 0.975)
    };
    [lo, hi]
}

/// Per-factor parameters and running sums during the fit.
struct Factor {
    effect: Vec<f64>,
    precision: f64,
}

const FACTORS: usize = 4; // device, station, cable, port

fn level(cell: &Cell, f: usize) -> u32 {
    match f {
        0 => cell.device,
        1 => cell.station,
        2 => cell.cable,
        _ => cell.port,
    }
}

/// Fit the model and build the report.
pub fn fit(data: &FleetData, opts: &FleetOptions) -> FleetReport {
    fit_with_progress(data, opts, &mut |_, _| {})
}

/// [`fit`], calling `progress(sweep, max_sweeps)` after each sweep.
pub fn fit_with_progress(
    data: &FleetData,
    opts: &FleetOptions,
    progress: &mut dyn FnMut(u32, u32),
) -> FleetReport {
    let sizes = [
        data.devices.len(),
        data.stations.len(),
        data.cables.len(),
        data.ports.len(),
    ];
    let mut factors: Vec<Factor> = (0..FACTORS)
        .map(|f| Factor {
            effect: vec![0.0; sizes[f]],
            precision: if f == 0 {
                1.0 / opts.device_prior_sd.powi(2)
            } else {
                1.0 / opts.component_prior_sd.powi(2)
            },
        })
        .collect();
    let total_n: u64 = data.cells.iter().map(|c| u64::from(c.n)).sum();
    let total_f: u64 = data.cells.iter().map(|c| u64::from(c.failures)).sum();
    let p0 = ((total_f as f64 + 0.5) / (total_n as f64 + 1.0)).clamp(1e-6, 1.0 - 1e-6);
    let mut alpha = (p0 / (1.0 - p0)).ln();
    let mut eta: Vec<f64> = vec![alpha; data.cells.len()];
    let mut grad: Vec<f64> = Vec::new();
    let mut hess: Vec<f64> = Vec::new();
    let mut sweeps = 0;
    let mut converged = false;
    // Blocks: 0 is the intercept (one level, flat prior), 1..=4 the factors. Each pass over the
    // cells first applies the previous block's steps to the linear predictor, then accumulates
    // this block's gradient and curvature: one pass per block.
    let block_level = |c: &Cell, b: usize| if b == 0 { 0 } else { level(c, b - 1) };
    let mut pending: (usize, Vec<f64>) = (0, vec![0.0]);
    let mut steps: Vec<f64> = Vec::new();
    while sweeps < opts.max_sweeps {
        sweeps += 1;
        let mut max_step: f64 = 0.0;
        for b in 0..=FACTORS {
            let n_levels = if b == 0 {
                1
            } else {
                factors[b - 1].effect.len()
            };
            grad.clear();
            grad.resize(n_levels, 0.0);
            hess.clear();
            hess.resize(n_levels, 0.0);
            let (pb, ref pending_steps) = pending;
            for (c, e) in data.cells.iter().zip(eta.iter_mut()) {
                let lp = block_level(c, pb);
                if lp != NONE {
                    *e += pending_steps[lp as usize];
                }
                let l = block_level(c, b);
                if l == NONE {
                    continue;
                }
                let mu = sigmoid(*e);
                grad[l as usize] += f64::from(c.failures) - f64::from(c.n) * mu;
                hess[l as usize] += f64::from(c.n) * mu * (1.0 - mu);
            }
            steps.clear();
            for l in 0..n_levels {
                let (value, precision) = if b == 0 {
                    (alpha, 0.0)
                } else {
                    (factors[b - 1].effect[l], factors[b - 1].precision)
                };
                let g = grad[l] - precision * value;
                let h = hess[l] + precision;
                let step = if h > 0.0 {
                    (g / h).clamp(-3.0, 3.0)
                } else {
                    0.0
                };
                if b == 0 {
                    alpha += step;
                } else {
                    factors[b - 1].effect[l] += step;
                }
                steps.push(step);
                max_step = max_step.max(step.abs());
            }
            std::mem::swap(&mut pending.1, &mut steps);
            pending.0 = b;
        }
        progress(sweeps, opts.max_sweeps);
        if max_step < opts.tolerance {
            converged = true;
            break;
        }
    }
    {
        let (pb, ref pending_steps) = pending;
        for (c, e) in data.cells.iter().zip(eta.iter_mut()) {
            let lp = block_level(c, pb);
            if lp != NONE {
                *e += pending_steps[lp as usize];
            }
        }
    }

    // Final pass: per level attempts, failures, information, expected failures without the
    // level's own effect.
    struct Acc {
        n: u64,
        f: u64,
        info: f64,
        expected_without: f64,
    }
    let mut accs: Vec<Vec<Acc>> = sizes
        .iter()
        .map(|&s| {
            (0..s)
                .map(|_| Acc {
                    n: 0,
                    f: 0,
                    info: 0.0,
                    expected_without: 0.0,
                })
                .collect()
        })
        .collect();
    // Devices: stations tried, and failures on flagged components (filled after flags known).
    let mut device_stations: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); sizes[0]];
    for (c, &e) in data.cells.iter().zip(&eta) {
        let mu = sigmoid(e);
        for (f, acc) in accs.iter_mut().enumerate() {
            let l = level(c, f);
            if l == NONE {
                continue;
            }
            let a = &mut acc[l as usize];
            a.n += u64::from(c.n);
            a.f += u64::from(c.failures);
            a.info += f64::from(c.n) * mu * (1.0 - mu);
            a.expected_without += f64::from(c.n) * sigmoid(e - factors[f].effect[l as usize]);
        }
        device_stations[c.device as usize].insert(c.station);
    }
    let names: [Vec<String>; FACTORS] = [
        data.devices.iter().map(|d| d.id.clone()).collect(),
        data.stations.clone(),
        data.cables.clone(),
        data.ports.clone(),
    ];
    let mut reports: Vec<Vec<ItemReport>> = Vec::with_capacity(FACTORS);
    for f in 0..FACTORS {
        let threshold = if f == 0 {
            opts.device_threshold
        } else {
            opts.component_threshold
        };
        let mut items = Vec::new();
        for (l, a) in accs[f].iter().enumerate() {
            if a.n == 0 {
                continue;
            }
            let effect = factors[f].effect[l];
            let sd = 1.0 / (a.info + factors[f].precision).sqrt();
            let p_faulty = phi((effect - threshold) / sd);
            let rate = a.f as f64 / a.n as f64;
            items.push(ItemReport {
                id: names[f][l].clone(),
                attempts: a.n,
                failures: a.f,
                failure_rate: rate,
                failure_rate_ci: jeffreys_interval(a.f, a.n),
                excess_failure_rate: rate - a.expected_without / a.n as f64,
                effect,
                effect_sd: sd,
                p_faulty,
                flagged: p_faulty >= opts.flag_probability,
                label: (f == 0).then(|| data.devices[l].label.clone()),
                stations_tried: (f == 0).then(|| device_stations[l].len() as u32),
                verdict: None,
            });
        }
        reports.push(items);
    }
    // Device verdicts: failures explained by flagged components → "bench".
    let flagged: Vec<HashSet<u32>> = (1..FACTORS)
        .map(|f| {
            accs[f]
                .iter()
                .enumerate()
                .filter(|(l, a)| {
                    a.n > 0 && {
                        let sd = 1.0 / (a.info + factors[f].precision).sqrt();
                        phi((factors[f].effect[*l] - opts.component_threshold) / sd)
                            >= opts.flag_probability
                    }
                })
                .map(|(l, _)| l as u32)
                .collect()
        })
        .collect();
    let mut unexplained = vec![0u64; sizes[0]];
    for c in &data.cells {
        if c.failures == 0 {
            continue;
        }
        let on_flagged = flagged[0].contains(&c.station)
            || (c.cable != NONE && flagged[1].contains(&c.cable))
            || (c.port != NONE && flagged[2].contains(&c.port));
        if !on_flagged {
            unexplained[c.device as usize] += u64::from(c.failures);
        }
    }
    let device_index: std::collections::HashMap<&str, usize> = data
        .devices
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    for item in &mut reports[0] {
        let i = device_index[item.id.as_str()];
        item.verdict = Some(
            if item.flagged {
                "device"
            } else if item.failures == 0 {
                "no_failures"
            } else if unexplained[i] == 0 {
                "bench"
            } else {
                "no_fault_found"
            }
            .to_string(),
        );
    }
    let devices = reports.remove(0);
    let stations = reports.remove(0);
    let cables = reports.remove(0);
    let ports = reports.remove(0);
    FleetReport {
        stations,
        cables,
        ports,
        devices,
        model: ModelSummary {
            model: "penalised logistic regression: logit P(fail) = α + device + station + cable + port; block-coordinate Newton; Laplace posterior".into(),
            attempts: total_n,
            failures: total_f,
            cells: data.cells.len() as u64,
            sweeps,
            converged,
            baseline_failure_rate: sigmoid(alpha),
            options: opts.clone(),
        },
    }
}

/// Precision and recall of the flags against planted faults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub flagged: usize,
    pub planted: usize,
    pub true_positives: usize,
    pub precision: f64,
    pub recall: f64,
}

/// Scores per kind (stations, cables, ports, devices) and over all items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub stations: Score,
    pub cables: Score,
    pub ports: Score,
    pub devices: Score,
    pub all: Score,
}

fn score_one(items: &[ItemReport], planted: &[String]) -> Score {
    let truth: HashSet<&str> = planted.iter().map(String::as_str).collect();
    let flagged: Vec<&str> = items
        .iter()
        .filter(|i| i.flagged)
        .map(|i| i.id.as_str())
        .collect();
    let tp = flagged.iter().filter(|id| truth.contains(*id)).count();
    Score {
        flagged: flagged.len(),
        planted: truth.len(),
        true_positives: tp,
        precision: if flagged.is_empty() {
            1.0
        } else {
            tp as f64 / flagged.len() as f64
        },
        recall: if truth.is_empty() {
            1.0
        } else {
            tp as f64 / truth.len() as f64
        },
    }
}

/// Compare a report's flags with the planted faults.
pub fn score(report: &FleetReport, truth: &crate::simulate::Truth) -> Scores {
    let parts = [
        score_one(&report.stations, &truth.stations),
        score_one(&report.cables, &truth.cables),
        score_one(&report.ports, &truth.ports),
        score_one(&report.devices, &truth.devices),
    ];
    let flagged: usize = parts.iter().map(|s| s.flagged).sum();
    let planted: usize = parts.iter().map(|s| s.planted).sum();
    let tp: usize = parts.iter().map(|s| s.true_positives).sum();
    let [stations, cables, ports, devices] = parts;
    Scores {
        stations,
        cables,
        ports,
        devices,
        all: Score {
            flagged,
            planted,
            true_positives: tp,
            precision: if flagged == 0 {
                1.0
            } else {
                tp as f64 / flagged as f64
            },
            recall: if planted == 0 {
                1.0
            } else {
                tp as f64 / planted as f64
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{SimConfig, SimWorld};

    #[test]
    fn jeffreys_interval_brackets_the_rate() {
        let [lo, hi] = jeffreys_interval(10, 100);
        assert!(lo > 0.04 && lo < 0.1 && hi > 0.1 && hi < 0.2, "{lo} {hi}");
        assert_eq!(jeffreys_interval(0, 10)[0], 0.0);
        assert_eq!(jeffreys_interval(10, 10)[1], 1.0);
    }

    #[test]
    fn finds_planted_faults_in_a_small_world() {
        let mut cfg = SimConfig::new(200_000);
        cfg.stations = 20;
        cfg.cables = 60;
        cfg.devices = 5_000;
        cfg.seed = 11;
        let world = SimWorld::new(cfg);
        let (data, truth) = world.to_fleet_data();
        let report = fit(&data, &FleetOptions::default());
        assert!(report.model.converged, "{:?}", report.model);
        let s = score(&report, &truth);
        assert!(
            s.all.precision >= 0.9 && s.all.recall >= 0.9,
            "{}",
            serde_json::to_string_pretty(&s).unwrap()
        );
        // A flagged station shows a positive excess failure rate.
        for st in report.stations.iter().filter(|s| s.flagged) {
            assert!(st.excess_failure_rate > 0.0, "{st:?}");
        }
    }

    #[test]
    fn a_device_failing_everywhere_is_the_device_not_the_bench() {
        // Two stations, two devices: device 1 fails on both stations, device 0 never fails.
        let data = FleetData {
            stations: vec!["a".into(), "b".into()],
            cables: vec![],
            ports: vec![],
            devices: vec![
                FleetDevice {
                    id: "0".into(),
                    label: "iPhone X".into(),
                },
                FleetDevice {
                    id: "1".into(),
                    label: "iPhone 7".into(),
                },
            ],
            cells: vec![
                Cell {
                    device: 0,
                    station: 0,
                    cable: NONE,
                    port: NONE,
                    n: 30,
                    failures: 0,
                },
                Cell {
                    device: 0,
                    station: 1,
                    cable: NONE,
                    port: NONE,
                    n: 30,
                    failures: 0,
                },
                Cell {
                    device: 1,
                    station: 0,
                    cable: NONE,
                    port: NONE,
                    n: 30,
                    failures: 30,
                },
                Cell {
                    device: 1,
                    station: 1,
                    cable: NONE,
                    port: NONE,
                    n: 30,
                    failures: 30,
                },
            ],
        };
        let r = fit(&data, &FleetOptions::default());
        let d1 = r.devices.iter().find(|d| d.id == "1").unwrap();
        assert!(d1.flagged, "{d1:?}");
        assert_eq!(d1.verdict.as_deref(), Some("device"));
        assert_eq!(d1.stations_tried, Some(2));
        assert!(r.stations.iter().all(|s| !s.flagged), "{:?}", r.stations);
    }
}
