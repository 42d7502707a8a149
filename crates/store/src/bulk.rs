//! Bulk paths for fleet scale: importing a simulated history (SQLite: prepared statements in
//! batched transactions; PostgreSQL: `COPY ... FROM STDIN`) and loading the fleet model's cells
//! (SQLite: one streaming scan aggregated in memory; PostgreSQL: `GROUP BY` in SQL, streamed).

use crate::db::{PgTx, SqliteTx, Tx, Value};
use crate::fleet::{Cell, FleetData, FleetDevice, NONE};
use crate::simulate::{SimWorld, Truth};
use crate::{Backend, Store, StoreError, now_millis, upsert_name, upsert_port};
use std::collections::HashMap;
use std::io::Write;

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attempts per transaction during an import: a crash loses at most the batch in flight.
pub const IMPORT_BATCH: u64 = 100_000;

/// Rows per multi-row `INSERT` in SQLite imports.
const ROWS_PER_INSERT: usize = 50;

/// Ids the world's stations, cables, ports and devices got in the database.
struct WorldIds {
    stations: Vec<i64>,
    cables: Vec<i64>,
    /// Global port index → id.
    ports: Vec<i64>,
    /// Device index → (device id, case id).
    devices: Vec<(i64, i64)>,
}

impl Store {
    /// Write a simulated history into the store: one device and one case per simulated device,
    /// then every attempt, in transactions of [`IMPORT_BATCH`] attempts. Calls
    /// `progress(done, total)` after each batch. Returns the planted faults as report ids.
    pub fn import_simulation(
        &mut self,
        world: &SimWorld,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Truth> {
        self.writable()?;
        let ids = self.create_world(world)?;
        let total = world.config.attempts;
        let pps = world.config.ports_per_station;
        let mut attempts = world.attempts().peekable();
        let mut done = 0u64;
        while attempts.peek().is_some() {
            let batch: Vec<_> = attempts.by_ref().take(IMPORT_BATCH as usize).collect();
            match &mut *self.backend {
                Backend::Sqlite(conn) => {
                    let tx = conn.transaction()?;
                    {
                        // Many rows per statement: far fewer statement executions.
                        let multi_sql = format!(
                            "INSERT INTO attempt (case_id, device_id, at, station_id, cable_id, \
                             port_id, kind, ok, error_code) VALUES {}",
                            vec!["(?, ?, ?, ?, ?, ?, 'restore', ?, ?)"; ROWS_PER_INSERT].join(", ")
                        );
                        let mut multi = tx.prepare_cached(&multi_sql)?;
                        let mut single = tx.prepare_cached(
                            "INSERT INTO attempt (case_id, device_id, at, station_id, cable_id, \
                             port_id, kind, ok, error_code) VALUES (?, ?, ?, ?, ?, ?, 'restore', ?, ?)",
                        )?;
                        let bind = |stmt: &mut rusqlite::CachedStatement<'_>,
                                    row: usize,
                                    a: &crate::simulate::SimAttempt|
                         -> rusqlite::Result<()> {
                            let (device_id, case_id) = ids.devices[a.device as usize];
                            let base = row * 8;
                            stmt.raw_bind_parameter(base + 1, case_id)?;
                            stmt.raw_bind_parameter(base + 2, device_id)?;
                            stmt.raw_bind_parameter(base + 3, a.at)?;
                            stmt.raw_bind_parameter(base + 4, ids.stations[a.station as usize])?;
                            stmt.raw_bind_parameter(base + 5, ids.cables[a.cable as usize])?;
                            stmt.raw_bind_parameter(
                                base + 6,
                                ids.ports[(a.station * pps + a.port) as usize],
                            )?;
                            stmt.raw_bind_parameter(base + 7, a.ok)?;
                            stmt.raw_bind_parameter(
                                base + 8,
                                if a.ok { None } else { Some(4013i64) },
                            )?;
                            Ok(())
                        };
                        let mut chunks = batch.chunks_exact(ROWS_PER_INSERT);
                        for chunk in chunks.by_ref() {
                            for (row, a) in chunk.iter().enumerate() {
                                bind(&mut multi, row, a)?;
                            }
                            multi.raw_execute()?;
                        }
                        for a in chunks.remainder() {
                            bind(&mut single, 0, a)?;
                            single.raw_execute()?;
                        }
                    }
                    tx.commit()?;
                }
                Backend::Postgres(pg) => {
                    let client = pg.client()?;
                    let mut tx = client.transaction()?;
                    // Bulk work may take longer than the session's statement timeout.
                    tx.batch_execute("SET LOCAL statement_timeout = 0")?;
                    {
                        let mut w = tx.copy_in(
                            "COPY attempt (case_id, device_id, at, station_id, cable_id, port_id, \
                             kind, ok, error_code) FROM STDIN (FORMAT binary)",
                        )?;
                        // PostgreSQL's binary COPY format: header, then per row the field count
                        // and each field as (length, big-endian bytes), length -1 for NULL.
                        let mut buf = Vec::with_capacity(19 + batch.len() * 96 + 2);
                        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
                        buf.extend_from_slice(&0i32.to_be_bytes());
                        buf.extend_from_slice(&0i32.to_be_bytes());
                        let int8 = |buf: &mut Vec<u8>, v: i64| {
                            buf.extend_from_slice(&8i32.to_be_bytes());
                            buf.extend_from_slice(&v.to_be_bytes());
                        };
                        for a in &batch {
                            let (device_id, case_id) = ids.devices[a.device as usize];
                            buf.extend_from_slice(&9i16.to_be_bytes());
                            int8(&mut buf, case_id);
                            int8(&mut buf, device_id);
                            int8(&mut buf, a.at);
                            int8(&mut buf, ids.stations[a.station as usize]);
                            int8(&mut buf, ids.cables[a.cable as usize]);
                            int8(&mut buf, ids.ports[(a.station * pps + a.port) as usize]);
                            buf.extend_from_slice(&7i32.to_be_bytes());
                            buf.extend_from_slice(b"restore");
                            buf.extend_from_slice(&1i32.to_be_bytes());
                            buf.push(u8::from(a.ok));
                            if a.ok {
                                buf.extend_from_slice(&(-1i32).to_be_bytes());
                            } else {
                                int8(&mut buf, 4013);
                            }
                        }
                        buf.extend_from_slice(&(-1i16).to_be_bytes());
                        w.write_all(&buf).map_err(|e| StoreError::Io {
                            path: "PostgreSQL COPY".into(),
                            source: e,
                        })?;
                        w.finish()?;
                    }
                    tx.commit()?;
                }
            }
            done += batch.len() as u64;
            progress(done, total);
        }
        let device_ids: Vec<String> = ids.devices.iter().map(|(d, _)| d.to_string()).collect();
        Ok(world.truth(&device_ids))
    }

    /// Create the world's stations, cables, ports, devices and cases (one transaction).
    fn create_world(&mut self, world: &SimWorld) -> Result<WorldIds> {
        let cfg = &world.config;
        let now = now_millis();
        let pps = cfg.ports_per_station;
        let components = |tx: &mut dyn Tx| -> Result<(Vec<i64>, Vec<i64>, Vec<i64>)> {
            let stations = (0..cfg.stations)
                .map(|s| upsert_name(tx, "station", &world.station_name(s)))
                .collect::<Result<Vec<_>>>()?;
            let cables = (0..cfg.cables)
                .map(|c| upsert_name(tx, "cable", &world.cable_name(c)))
                .collect::<Result<Vec<_>>>()?;
            let ports = (0..cfg.stations * pps)
                .map(|p| upsert_port(tx, stations[(p / pps) as usize], &world.port_name(p % pps)))
                .collect::<Result<Vec<_>>>()?;
            Ok((stations, cables, ports))
        };
        let next_id = |tx: &mut dyn Tx, table: &str| -> Result<i64> {
            Ok(tx
                .query(
                    &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"),
                    &[],
                )?
                .first()
                .and_then(|r| r.first())
                .and_then(Value::int)
                .unwrap_or(1))
        };
        match &mut *self.backend {
            Backend::Sqlite(conn) => {
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let mut t = SqliteTx(tx);
                let (stations, cables, ports) = components(&mut t)?;
                let first_device = next_id(&mut t, "device")?;
                let first_case = next_id(&mut t, "cases")?;
                let mut devices = Vec::with_capacity(cfg.devices as usize);
                {
                    let mut dev = t.0.prepare(
                        "INSERT INTO device (id, label, product_type, created_at) VALUES (?, ?, ?, ?)",
                    )?;
                    let mut case = t.0.prepare(
                        "INSERT INTO cases (id, device_id, ticket, error_code, opened_at) VALUES (?, ?, 'simulated', 4013, ?)",
                    )?;
                    for i in 0..cfg.devices {
                        let d = first_device + i64::from(i);
                        let c = first_case + i64::from(i);
                        dev.execute(rusqlite::params![
                            d,
                            world.device_label(i),
                            world.device_product_type(i),
                            now
                        ])?;
                        case.execute(rusqlite::params![c, d, now])?;
                        devices.push((d, c));
                    }
                }
                t.0.commit()?;
                Ok(WorldIds {
                    stations,
                    cables,
                    ports,
                    devices,
                })
            }
            Backend::Postgres(pg) => {
                let client = pg.client()?;
                let mut t = PgTx(client.transaction()?);
                let (stations, cables, ports) = components(&mut t)?;
                // Reserve ids from the identity sequences (no table lock, so writers of single
                // attempts are never blocked or deadlocked by an import).
                let mut reserve = |table: &str| -> Result<Vec<i64>> {
                    let rows = t.0.query(
                        &format!(
                            "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1::BIGINT)"
                        ),
                        &[&i64::from(cfg.devices)],
                    )?;
                    Ok(rows.iter().map(|r| r.get::<_, i64>(0)).collect())
                };
                let device_ids = reserve("device")?;
                let case_ids = reserve("cases")?;
                let mut devices = Vec::with_capacity(cfg.devices as usize);
                let io = |e: std::io::Error| StoreError::Io {
                    path: "PostgreSQL COPY".into(),
                    source: e,
                };
                let mut dev_buf = Vec::new();
                let mut case_buf = Vec::new();
                for i in 0..cfg.devices {
                    let d = device_ids[i as usize];
                    let c = case_ids[i as usize];
                    writeln!(
                        dev_buf,
                        "{d}\t{}\t{}\t{now}",
                        world.device_label(i),
                        world.device_product_type(i)
                    )
                    .map_err(io)?;
                    writeln!(case_buf, "{c}\t{d}\tsimulated\t4013\t{now}").map_err(io)?;
                    devices.push((d, c));
                }
                let mut w =
                    t.0.copy_in("COPY device (id, label, product_type, created_at) FROM STDIN")?;
                w.write_all(&dev_buf).map_err(io)?;
                w.finish()?;
                let mut w = t.0.copy_in(
                    "COPY cases (id, device_id, ticket, error_code, opened_at) FROM STDIN",
                )?;
                w.write_all(&case_buf).map_err(io)?;
                w.finish()?;
                t.0.commit()?;
                Ok(WorldIds {
                    stations,
                    cables,
                    ports,
                    devices,
                })
            }
        }
    }

    /// Load every attempt as fleet-model cells (device × station × cable × port). Interrupted
    /// attempts (stopped by the person or a kill signal) are left out: they are not failures
    /// of a station, cable, port or device. Calls `progress(done, total)` while reading.
    pub fn fleet_data(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<FleetData> {
        // Names of every level, and database id → dense index maps.
        let (stations, station_ix, cables, cable_ix, ports, port_ix, devices, device_ix, total) =
            self.transaction(|tx| {
                let index = |rows: Vec<Vec<Value>>| {
                    let mut names = Vec::with_capacity(rows.len());
                    let mut ix = IdIndex::default();
                    for r in rows {
                        ix.insert(r[0].int().unwrap_or(0), names.len() as u32);
                        names.push(r[1].text().unwrap_or_default());
                    }
                    (names, ix)
                };
                let (stations, station_ix) =
                    index(tx.query("SELECT id, name FROM station ORDER BY id", &[])?);
                let (cables, cable_ix) =
                    index(tx.query("SELECT id, name FROM cable ORDER BY id", &[])?);
                let (ports, port_ix) = index(tx.query(
                    "SELECT p.id, s.name || '/' || p.name FROM port p JOIN station s ON s.id = p.station_id ORDER BY p.id",
                    &[],
                )?);
                let (labels, device_ix) =
                    index(tx.query("SELECT id, label FROM device ORDER BY id", &[])?);
                let devices: Vec<FleetDevice> = device_ix
                    .ids_in_order()
                    .into_iter()
                    .zip(labels)
                    .map(|(id, label)| FleetDevice {
                        id: id.to_string(),
                        label,
                    })
                    .collect();
                let total = tx
                    .query("SELECT COUNT(*) FROM attempt WHERE NOT interrupted", &[])?
                    .first()
                    .and_then(|r| r.first())
                    .and_then(Value::int)
                    .unwrap_or(0) as u64;
                Ok((
                    stations, station_ix, cables, cable_ix, ports, port_ix, devices, device_ix,
                    total,
                ))
            })?;
        let lookup = |ix: &IdIndex, id: Option<i64>| -> Result<u32> {
            match id {
                None => Ok(NONE),
                Some(id) => ix.get(id).ok_or_else(|| {
                    StoreError::Corrupt(format!("attempt refers to unknown id {id}"))
                }),
            }
        };
        let mut cells: Vec<Cell> = Vec::new();
        match &mut *self.backend {
            Backend::Sqlite(conn) => {
                let tx = conn.transaction()?;
                let mut agg: HashMap<(u32, u32, u32, u32), (u32, u32), CellHasher> =
                    HashMap::with_hasher(CellHasher);
                {
                    let mut stmt = tx.prepare(
                        "SELECT device_id, station_id, cable_id, port_id, ok FROM attempt \
                         WHERE NOT interrupted",
                    )?;
                    let mut rows = stmt.query([])?;
                    let mut done = 0u64;
                    while let Some(r) = rows.next()? {
                        let key = (
                            lookup(&device_ix, Some(r.get(0)?))?,
                            lookup(&station_ix, Some(r.get(1)?))?,
                            lookup(&cable_ix, r.get(2)?)?,
                            lookup(&port_ix, r.get(3)?)?,
                        );
                        let ok: bool = r.get(4)?;
                        let e = agg.entry(key).or_insert((0, 0));
                        e.0 += 1;
                        e.1 += u32::from(!ok);
                        done += 1;
                        if done.is_multiple_of(1_000_000) {
                            progress(done, total);
                        }
                    }
                    progress(done, total);
                }
                tx.commit()?;
                cells.reserve(agg.len());
                cells.extend(agg.into_iter().map(
                    |((device, station, cable, port), (n, failures))| Cell {
                        device,
                        station,
                        cable,
                        port,
                        n,
                        failures,
                    },
                ));
            }
            Backend::Postgres(pg) => {
                let client = pg.client()?;
                let mut tx = client.transaction()?;
                tx.batch_execute("SET LOCAL statement_timeout = 0")?;
                // Room for the hash aggregate in memory (one entry per cell) instead of spilling.
                tx.batch_execute("SET LOCAL work_mem = '256MB'")?;
                let params: [&(dyn postgres::types::ToSql + Sync); 0] = [];
                let mut rows = tx.query_raw(
                    "SELECT device_id, station_id, cable_id, port_id, COUNT(*)::BIGINT, \
                     SUM(CASE WHEN ok THEN 0 ELSE 1 END)::BIGINT \
                     FROM attempt WHERE NOT interrupted \
                     GROUP BY device_id, station_id, cable_id, port_id",
                    params,
                )?;
                let mut done = 0u64;
                use postgres::fallible_iterator::FallibleIterator;
                while let Some(r) = rows.next()? {
                    let n: i64 = r.get(4);
                    let f: i64 = r.get(5);
                    cells.push(Cell {
                        device: lookup(&device_ix, Some(r.get(0)))?,
                        station: lookup(&station_ix, Some(r.get(1)))?,
                        cable: lookup(&cable_ix, r.get(2))?,
                        port: lookup(&port_ix, r.get(3))?,
                        n: n as u32,
                        failures: f as u32,
                    });
                    let before = done;
                    done += n as u64;
                    if done / 1_000_000 != before / 1_000_000 {
                        progress(done, total);
                    }
                }
                progress(done, total);
                drop(rows);
                tx.commit()?;
            }
        }
        Ok(FleetData {
            stations,
            cables,
            ports,
            devices,
            cells,
        })
    }
}

/// Database id → dense index: a vector indexed by id (ids are small, dense integers), with a
/// hash map for ids too large for that.
#[derive(Default)]
struct IdIndex {
    dense: Vec<u32>,
    sparse: HashMap<i64, u32>,
    order: Vec<i64>,
}

impl IdIndex {
    const DENSE_LIMIT: i64 = 1 << 27;

    fn insert(&mut self, id: i64, ix: u32) {
        if (0..Self::DENSE_LIMIT).contains(&id) {
            let i = id as usize;
            if self.dense.len() <= i {
                self.dense.resize(i + 1, NONE);
            }
            self.dense[i] = ix;
        } else {
            self.sparse.insert(id, ix);
        }
        self.order.push(id);
    }

    fn get(&self, id: i64) -> Option<u32> {
        if (0..Self::DENSE_LIMIT).contains(&id) {
            self.dense.get(id as usize).copied().filter(|&v| v != NONE)
        } else {
            self.sparse.get(&id).copied()
        }
    }

    /// Ids in insertion (= dense index) order.
    fn ids_in_order(&self) -> Vec<i64> {
        self.order.clone()
    }
}

/// A fast, non-cryptographic hasher for cell keys (multiply–rotate per word); the keys are our
/// own dense indices, so flooding is not a concern.
#[derive(Clone, Copy, Default)]
struct CellHasher;

impl std::hash::BuildHasher for CellHasher {
    type Hasher = CellHash;
    fn build_hasher(&self) -> CellHash {
        CellHash(0)
    }
}

struct CellHash(u64);

impl std::hash::Hasher for CellHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}
