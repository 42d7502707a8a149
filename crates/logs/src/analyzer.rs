//! The streaming core: bytes in, [`RestoreLog`] out, in constant memory.
//!
//! Input is decoded to UTF-8 ([`crate::decode`]) and gathered in a buffer of at most
//! [`BUFFER_CAP`] bytes. Each time the buffer holds [`PROCESS_AT`] bytes, its complete lines
//! (but the last, which may have a wrapped continuation still to come) are cut off as a
//! *region*. A region is read by [`crate::region::read_region`] (the signature scan and the
//! per-line parsers, pure) and the [`Signal`]s it yields are folded, region by region and line
//! by line in input order, into a small state machine ([`State`]). The timeline keeps the first
//! and last [`TIMELINE_EDGE`] events plus the failure's context, so memory does not grow with
//! the input.
//!
//! Reading regions is most of the work and needs nothing from earlier regions, so
//! [`Analyzer::with_readers`] hands them to reader threads and folds their readings in order;
//! the result is the same as reading them inline (same regions, same order).

use crate::decode::{Decoder, Encoding};
use crate::formats::Family;
use crate::model::*;
use crate::reference;
use crate::region::{self, EVENT_TEXT, LineKind, RegionReading, Scratch};
use crate::signal::{FailKind, Signal};
use crate::text::cut_owned;
use kb::Stage;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// The most bytes held at once (longer lines are read in pieces of this size).
pub const BUFFER_CAP: usize = 2 << 20;
/// Cut a region once the buffer holds this much.
const PROCESS_AT: usize = 1 << 20;
/// Events kept at each end of the timeline.
pub const TIMELINE_EDGE: usize = 200;
/// Events kept before the failure.
const FAILURE_CONTEXT: usize = 12;

/// Where the restore was at some moment: the last operation and the open checkpoint.
#[derive(Debug, Clone, Default)]
struct Context {
    op: Option<(OperationRef, Option<Stage>, u64)>,
    cp: Option<(CheckpointRef, Option<Stage>, u64)>,
    /// The last step outside the numbered operations (boot chain, ramdisk, root ticket...).
    step: Option<(Stage, u64)>,
    /// A mode hand-off (recovery/DFU bootstrap, a phase that finished) at this line, not
    /// followed by an operation, a checkpoint or restore mode.
    hand_off: Option<u64>,
    /// Lines of the context (for evidence).
    op_text: Option<String>,
    cp_text: Option<String>,
    step_text: Option<String>,
    /// `cp` had begun and not ended (else it is the last one that completed).
    cp_open: bool,
}

impl Context {
    /// The stage the context points to: the most recent of step, hand-off, operation and
    /// checkpoint (on the same line, in that order).
    fn stage(&self) -> Option<Stage> {
        let op = self.op.as_ref().and_then(|(_, s, l)| s.map(|s| (s, *l)));
        let cp = self.cp.as_ref().and_then(|(_, s, l)| s.map(|s| (s, *l)));
        let hand_off = self.hand_off.map(|l| (Stage::Reboot, l));
        let mut best: Option<(Stage, u64)> = None;
        for (s, l) in [self.step, hand_off, op, cp].into_iter().flatten() {
            if best.is_none_or(|(_, b)| l > b) {
                best = Some((s, l));
            }
        }
        best.map(|(s, _)| s)
    }

    /// The line of the last operation or checkpoint (0: none).
    fn restore_line(&self) -> u64 {
        let op = self.op.as_ref().map_or(0, |o| o.2);
        let cp = self.cp.as_ref().map_or(0, |c| c.2);
        op.max(cp)
    }
}

#[derive(Debug, Clone)]
struct FailureSignal {
    kind: FailKind,
    line: u64,
    text: String,
    context: Context,
}

#[derive(Debug, Clone)]
struct FailedCheckpoint {
    cp: CheckpointRef,
    result: Option<i64>,
    line: u64,
    text: String,
}

/// The story so far.
#[derive(Debug, Default)]
struct State {
    tools: Vec<Tool>,
    device: DeviceIdentity,
    protocol: Option<u32>,
    target_version: Option<String>,
    target_build: Option<String>,
    modes: Vec<Mode>,
    restore_kind: Option<RestoreKind>,
    /// Target version and build read from file names (used when the log's lines say nothing).
    target_version_hint: Option<String>,
    target_build_hint: Option<String>,
    /// The first board in a firmware file name that the knowledge base knows.
    board_hint: Option<String>,
    head: Vec<TimelineEvent>,
    tail: VecDeque<TimelineEvent>,
    failure_context: Vec<TimelineEvent>,
    dropped: u64,
    last_op: Option<(OperationRef, Option<Stage>, u64, String)>,
    open_cps: Vec<(CheckpointRef, Option<Stage>, u64, String)>,
    /// The text buffer of the last checkpoint that closed, reused by the next that begins.
    spare_cp_text: Option<String>,
    last_cp: Option<(CheckpointRef, Option<Stage>, u64, String)>,
    hand_off: bool,
    hand_off_line: u64,
    /// The last step outside the numbered operations, its line and text.
    step: Option<(Stage, u64, String)>,
    firmware_updater_sent: bool,
    first_specific: Option<FailureSignal>,
    first_cp_failure: Option<FailureSignal>,
    last_recovery_op: Option<(OperationRef, u64, String)>,
    product_type_hint: Option<String>,
    weak: Option<FailureSignal>,
    first_disconnect: Option<FailureSignal>,
    /// A broken side channel not (yet) overruled by progress.
    first_soft: Option<FailureSignal>,
    removed: Option<FailureSignal>,
    first_final: Option<FailureSignal>,
    final_message: Option<(u64, String)>,
    failed_cp: Option<FailedCheckpoint>,
    status: Option<(Option<i64>, String, u64)>,
    error_codes: Vec<(i64, u64, String)>,
    tool_code: Option<i64>,
    success: Option<(u64, String, Source)>,
    last_hard_failure_line: u64,
    flags: Flags,
    tss_line: Option<(u64, String)>,
    storage_line: Option<(u64, String)>,
    usb_line: Option<(u64, String)>,
    device_progress: Option<i64>,
    in_previous_log: bool,
    no_data_reads: u32,
    matched_lines: u64,
    /// The first line of the attempt being read (0: the first attempt).
    attempt_first_line: u64,
    earlier_attempts: Vec<EarlierAttempt>,
}

/// Reads one log. Feed it bytes with [`Analyzer::feed`] (any chunking), then call
/// [`Analyzer::finish`].
pub struct Analyzer {
    decoder: Decoder,
    /// Decoded bytes waiting to be cut into regions: `buf[..filled]`. The vector only grows
    /// (to at most [`BUFFER_CAP`]) so that reads can land in it without zeroing it again.
    buf: Vec<u8>,
    filled: usize,
    bytes: u64,
    fold: Fold,
    /// Scratch space and reading buffer for regions read on this thread.
    scratch: Scratch,
    reading: RegionReading,
    /// Reader threads to use once a second region is cut (<= 1: none; a log of one region
    /// is always read on this thread).
    threads: usize,
    pool: Option<Pool>,
}

/// The in-order half: the state machine and the line count so far.
#[derive(Default)]
struct Fold {
    state: State,
    /// Newlines before the next region.
    line_base: u64,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    /// An analyser that reads every region on the calling thread.
    pub fn new() -> Analyzer {
        Analyzer {
            decoder: Decoder::default(),
            buf: Vec::new(),
            filled: 0,
            bytes: 0,
            fold: Fold::default(),
            scratch: Scratch::default(),
            reading: RegionReading::default(),
            threads: 1,
            pool: None,
        }
    }

    /// An analyser that reads regions on `threads` reader threads once the input is longer
    /// than one region (`threads` <= 1 is [`Analyzer::new`]). The result is the same.
    pub fn with_readers(threads: usize) -> Analyzer {
        Analyzer {
            threads,
            ..Analyzer::new()
        }
    }

    /// The encoding detected so far (None until enough bytes were seen).
    pub fn encoding(&self) -> Option<Encoding> {
        self.decoder.encoding()
    }

    /// Bytes fed so far (before decoding).
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Feed the next chunk of raw bytes (any size, any split, any encoding).
    pub fn feed(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        let mut decoder = std::mem::take(&mut self.decoder);
        decoder.feed(chunk, &mut |utf8| self.push_utf8(utf8));
        self.decoder = decoder;
    }

    /// Feed one line of text (a line terminator is added).
    pub fn feed_line(&mut self, line: &str) {
        self.feed(line.as_bytes());
        self.feed(b"\n");
    }

    fn push_utf8(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = BUFFER_CAP - self.filled;
            let take = room.min(data.len());
            let end = self.filled + take;
            if self.buf.len() < end {
                self.buf.resize(end, 0);
            }
            self.buf[self.filled..end].copy_from_slice(&data[..take]);
            self.filled = end;
            data = &data[take..];
            if self.filled >= PROCESS_AT {
                self.cut_region(false);
            }
        }
    }

    /// Read the next piece of a UTF-8 stream straight into the scan buffer (no copy through
    /// the decoder); only once [`Analyzer::encoding`] says UTF-8. Returns the bytes read
    /// (0 at the end of the input).
    pub(crate) fn read_utf8_from<R: std::io::Read>(
        &mut self,
        reader: &mut R,
    ) -> std::io::Result<usize> {
        let want = (BUFFER_CAP - self.filled).min(crate::READ_CHUNK);
        let end = self.filled + want;
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        let n = reader.read(&mut self.buf[self.filled..end])?;
        self.filled += n;
        self.bytes += n as u64;
        if self.filled >= PROCESS_AT {
            self.cut_region(false);
        }
        Ok(n)
    }

    /// End of input: read what is left and build the result.
    pub fn finish(mut self) -> RestoreLog {
        let mut decoder = std::mem::take(&mut self.decoder);
        decoder.finish(&mut |utf8| self.push_utf8(utf8));
        self.cut_region(true);
        if let Some(pool) = self.pool.take() {
            self.fold = pool.finish();
        }
        // A last line without a terminator still counts as a line.
        let lines = self.fold.line_base + 1;
        build(self.fold.state, lines, self.bytes)
    }

    /// Cut the buffer's complete lines off as a region and read it; at the end of input the
    /// whole rest is the last region.
    fn cut_region(&mut self, at_end: bool) {
        let filled = self.filled.min(self.buf.len());
        let end = if at_end {
            filled
        } else {
            deferred_end(&self.buf[..filled])
        };
        if end == 0 {
            return;
        }
        if self.pool.is_none() && self.threads > 1 && !at_end {
            self.pool = Some(Pool::start(self.threads, std::mem::take(&mut self.fold)));
        }
        match &mut self.pool {
            Some(pool) => pool.send(&mut self.buf, end, filled),
            None => {
                region::read_region(&self.buf[..end], &mut self.scratch, &mut self.reading);
                self.fold.fold(&mut self.reading);
                // Keep the deferred rest at the front.
                self.buf.copy_within(end..filled, 0);
            }
        }
        self.filled = if at_end { 0 } else { filled - end };
    }
}

impl Fold {
    /// Fold one region's reading into the story (regions strictly in input order).
    fn fold(&mut self, reading: &mut RegionReading) {
        let st = &mut self.state;
        let RegionReading {
            lines,
            signals,
            text,
            newlines,
        } = reading;
        let mut signals = signals.drain(..);
        for l in lines.iter() {
            st.matched_lines += 1;
            let line = self.line_base + l.line;
            let LineKind::Parsed {
                tool,
                family,
                source,
                time,
                body,
                signals: range,
                opens_run,
            } = &l.kind
            else {
                if let LineKind::ExportTrailer = l.kind {
                    st.flags.export_finished = true;
                    st.note_tool(Tool::Finder);
                }
                continue;
            };
            if let Some(t) = tool {
                st.note_tool(*t);
            }
            if *family == Some(Family::Idevicerestore) {
                st.note_tool(Tool::Idevicerestore);
            }
            if matches!(
                family,
                Some(Family::Idevicerestore | Family::Apple | Family::Futurerestore)
            ) && *source == Source::Host
            {
                st.in_previous_log = false;
            }
            let time = time.as_ref().map(|t| region::text_of(text, t));
            let body = region::text_of(text, body);
            if *opens_run && st.has_verdict() {
                st.new_attempt(line);
            }
            for sig in signals.by_ref().take(range.len()) {
                st.apply(sig, line, time, *source, body);
            }
        }
        self.line_base += *newlines;
    }
}

/// A region's buffer and the reading made from it, passed between the cutting thread and the
/// readers and reused.
#[derive(Default)]
struct Slot {
    region: Vec<u8>,
    reading: RegionReading,
}

struct Job {
    seq: u64,
    /// The region is `slot.region[..end]`.
    end: usize,
    slot: Slot,
}

type Panic = Box<dyn std::any::Any + Send>;

/// Reader threads. Regions go out numbered; a reader reads its region, leaves the reading in
/// `pending`, and folds every reading that is next in input order, unless another reader is
/// folding already (which then folds it too). So the fold needs no thread of its own and never
/// waits for the cutting thread. Slots come back to the cutting thread once folded: at most
/// [`Pool::slots`] regions are out at once, so memory stays bounded whatever the input size.
struct Pool {
    jobs: Option<mpsc::SyncSender<Job>>,
    /// Folded slots, back for reuse (an empty slot after a reader's panic, to wake us).
    folded: mpsc::Receiver<Slot>,
    shared: Arc<Shared>,
    workers: Vec<std::thread::JoinHandle<()>>,
    next_seq: u64,
    /// Slots made so far (up to [`Pool::slots`]).
    made: usize,
}

/// What the readers share.
struct Shared {
    fold: Mutex<Fold>,
    /// Readings that are not next in order yet, by region number.
    pending: Mutex<BTreeMap<u64, Slot>>,
    /// The number of the next region to fold (written only under the `fold` lock).
    next_fold: AtomicU64,
    /// A reader's panic, passed on to the caller (as reading inline would).
    panic: Mutex<Option<Panic>>,
}

impl Shared {
    fn record_panic(&self, p: Panic) {
        if let Ok(mut slot) = self.panic.lock() {
            slot.get_or_insert(p);
        }
    }

    fn take_pending(&self, seq: u64) -> Option<Slot> {
        self.pending.lock().ok()?.remove(&seq)
    }

    fn has_pending(&self, seq: u64) -> bool {
        self.pending.lock().is_ok_and(|p| p.contains_key(&seq))
    }

    /// Fold every reading that is next in order, unless another reader is folding. Returns
    /// false after a panic in the fold.
    fn fold_ready(&self, folded: &mpsc::Sender<Slot>) -> bool {
        loop {
            let Ok(mut fold) = self.fold.try_lock() else {
                // Another reader holds the fold: it looks at `pending` again after letting go,
                // so what was left there is not forgotten. (A poisoned lock cannot happen:
                // panics in the fold are caught below.)
                return true;
            };
            loop {
                let next = self.next_fold.load(Ordering::Acquire);
                let Some(mut slot) = self.take_pending(next) else {
                    break;
                };
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    fold.fold(&mut slot.reading)
                }));
                if let Err(p) = r {
                    self.record_panic(p);
                    return false;
                }
                self.next_fold.store(next + 1, Ordering::Release);
                // The cutting thread may have stopped listening (an analyser dropped unfinished).
                let _ = folded.send(slot);
            }
            drop(fold);
            // A reading deposited after the last look, while the fold was held, is ours.
            if !self.has_pending(self.next_fold.load(Ordering::Acquire)) {
                return true;
            }
        }
    }
}

impl Pool {
    fn start(threads: usize, fold: Fold) -> Pool {
        let (jobs, job_rx) = mpsc::sync_channel::<Job>(threads);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (folded_tx, folded) = mpsc::channel::<Slot>();
        let shared = Arc::new(Shared {
            fold: Mutex::new(fold),
            pending: Mutex::new(BTreeMap::new()),
            next_fold: AtomicU64::new(0),
            panic: Mutex::new(None),
        });
        let workers = (0..threads)
            .map(|_| {
                let job_rx = Arc::clone(&job_rx);
                let folded_tx = folded_tx.clone();
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let mut scratch = Scratch::default();
                    loop {
                        let job = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(Job { seq, end, mut slot }) = job else {
                            return;
                        };
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            let Slot { region, reading } = &mut slot;
                            region::read_region(&region[..end], &mut scratch, reading);
                        }));
                        if let Err(p) = r {
                            shared.record_panic(p);
                            let _ = folded_tx.send(Slot::default());
                            return;
                        }
                        if let Ok(mut pending) = shared.pending.lock() {
                            pending.insert(seq, slot);
                        }
                        if !shared.fold_ready(&folded_tx) {
                            let _ = folded_tx.send(Slot::default());
                            return;
                        }
                    }
                })
            })
            .collect();
        Pool {
            jobs: Some(jobs),
            folded,
            shared,
            workers,
            next_seq: 0,
            made: 0,
        }
    }

    /// Regions out at once (read, waiting or being folded).
    fn slots(&self) -> usize {
        self.workers.len() + 2
    }

    fn rethrow_panic(&self) {
        let p = self.shared.panic.lock().ok().and_then(|mut p| p.take());
        if let Some(p) = p {
            std::panic::resume_unwind(p);
        }
    }

    /// Send `buf[..end]` to the readers. The buffer itself goes (no copy of the region): `buf`
    /// becomes a free slot's buffer holding the deferred rest `buf[end..filled]` at its front.
    fn send(&mut self, buf: &mut Vec<u8>, end: usize, filled: usize) {
        self.rethrow_panic();
        let mut slot = if self.made < self.slots() {
            self.made += 1;
            Slot::default()
        } else {
            let slot = self.folded.recv();
            self.rethrow_panic();
            slot.expect("log reader threads stopped before reading every region")
        };
        let rest = filled - end;
        if slot.region.len() < rest {
            slot.region.resize(rest, 0);
        }
        slot.region[..rest].copy_from_slice(&buf[end..filled]);
        std::mem::swap(buf, &mut slot.region);
        let job = Job {
            seq: self.next_seq,
            end,
            slot,
        };
        self.next_seq += 1;
        if let Some(jobs) = &self.jobs {
            // The readers only stop when `jobs` is dropped or after a panic, which the next
            // call (or `finish`) passes on.
            let _ = jobs.send(job);
        }
    }

    /// Wait until every region sent is read and folded; stop the readers; the fold.
    fn finish(mut self) -> Fold {
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        self.rethrow_panic();
        let fold = match self.shared.fold.lock() {
            Ok(mut f) => std::mem::take(&mut *f),
            Err(_) => panic!("the log fold stopped part-way"),
        };
        debug_assert_eq!(self.shared.next_fold.load(Ordering::Acquire), self.next_seq);
        fold
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the job channel stops the readers; they are not joined here (an analyser
        // dropped unfinished must not wait for them).
        self.jobs = None;
    }
}

/// Give a timeline entry another line, time and text, reusing its buffers.
fn rewrite(ev: &mut TimelineEvent, line: u64, time: Option<&str>, text: &str) {
    ev.line = line;
    ev.text.clear();
    ev.text.push_str(text);
    match (time, ev.time.as_mut()) {
        (Some(t), Some(buf)) => {
            buf.clear();
            buf.push_str(t);
        }
        (t, _) => ev.time = t.map(str::to_string),
    }
}

/// Where to stop scanning now: after the second-to-last line terminator, so the last complete
/// line stays in the buffer until we know whether a wrapped continuation follows it.
fn deferred_end(buf: &[u8]) -> usize {
    let Some(t1) = memchr::memrchr2(b'\n', b'\r', buf) else {
        return if buf.len() >= BUFFER_CAP {
            buf.len()
        } else {
            0
        };
    };
    let mut e = t1;
    if buf[t1] == b'\n' && t1 > 0 && buf[t1 - 1] == b'\r' {
        e = t1 - 1;
    }
    match memchr::memrchr2(b'\n', b'\r', &buf[..e]) {
        Some(t0) => t0 + 1,
        None if buf.len() >= BUFFER_CAP => t1 + 1,
        None => 0,
    }
}

impl State {
    fn note_tool(&mut self, t: Tool) {
        if !self.tools.contains(&t) {
            self.tools.push(t);
        }
    }

    /// The attempt being read has ended one way or the other.
    fn has_verdict(&self) -> bool {
        self.first_specific.is_some()
            || self.first_cp_failure.is_some()
            || self.first_disconnect.is_some()
            || self.first_soft.is_some()
            || self.first_final.is_some()
            || self.removed.is_some()
            || self.success.is_some()
    }

    /// The device has said itself that the restore failed (a failing checkpoint, a non-zero
    /// status). It reboots after that, so leaving USB then is the failure's consequence, not a
    /// USB drop-out (pymobiledevice3 reads on until the device is gone).
    fn device_reported_failure(&self) -> bool {
        self.first_cp_failure.is_some() || self.status.as_ref().is_some_and(|s| s.0.is_some())
    }

    /// A removal that never came back is a disconnect.
    fn settle_removal(&mut self) {
        if let Some(r) = self.removed.take() {
            self.flags.usb_dropout |= !self.device_reported_failure();
            if self.first_disconnect.is_none() {
                self.last_hard_failure_line = self.last_hard_failure_line.max(r.line);
                self.first_disconnect = Some(r);
            }
        }
    }

    /// How the attempt ended (after [`State::settle_removal`]).
    fn outcome(&self) -> Outcome {
        let hard_failure = self.first_specific.is_some()
            || self.first_disconnect.is_some()
            || self.first_soft.is_some()
            || self.first_final.is_some();
        match &self.success {
            Some((line, _, source))
                if *line > self.last_hard_failure_line
                    && !(hard_failure && *source == Source::Wrapper) =>
            {
                Outcome::Success
            }
            Some(_) if hard_failure => Outcome::Failure,
            Some(_) => Outcome::Success,
            None if hard_failure => Outcome::Failure,
            None => Outcome::Incomplete,
        }
    }

    /// The root of the failure: the device's own first failing checkpoint when there is one;
    /// then the first line that names a stage; then the first of the device vanishing and a
    /// broken side channel (each is the connection giving way: the earlier one is where it
    /// began); then weak hints; then the verdict.
    fn root(&self) -> Option<&FailureSignal> {
        let lost = match (&self.first_disconnect, &self.first_soft) {
            (Some(d), Some(s)) => Some(if s.line < d.line { s } else { d }),
            (d, s) => d.as_ref().or(s.as_ref()),
        };
        self.first_cp_failure
            .as_ref()
            .or(self.first_specific.as_ref())
            .or(lost)
            .or(self.weak.as_ref())
            .or(self.first_final.as_ref())
    }

    /// The failure's stage, from its root or else where the restore was.
    fn failure_stage(root: Option<&FailureSignal>, ctx: &Context) -> Option<Stage> {
        match root.map(|r| r.kind) {
            Some(FailKind::Specific(s) | FailKind::Weak(s) | FailKind::Soft(s)) => Some(s),
            _ => ctx.stage(),
        }
    }

    /// The stage of a mode change that failed before the restore proper: the step it followed
    /// when that is one of the steps before the restore (or entering Recovery) and no
    /// operation or checkpoint came after it, else `fallback` (what the line itself says).
    fn mode_change_stage(&self, fallback: Stage) -> Stage {
        let ctx = self.context();
        match ctx.step {
            Some((s, l))
                if (s.before_restore() || s == Stage::Reboot) && l >= ctx.restore_line() =>
            {
                s
            }
            _ => fallback,
        }
    }

    /// The failure's error code: the host's, a signing refusal's, the failing checkpoint's,
    /// the device status's (see [`RestoreLog::error_code_for_engine`] for which the engine
    /// gets).
    fn error_code(&self) -> Option<i64> {
        let host_code = self.error_codes.iter().map(|e| e.0).find(|&c| c != 0);
        host_code
            .or(self.flags.tss_refused.then_some(3194))
            .or_else(|| {
                self.failed_cp
                    .as_ref()
                    .and_then(|f| f.result)
                    .filter(|&r| r != 0)
            })
            .or_else(|| self.status.as_ref().and_then(|s| s.0).filter(|&c| c != 0))
    }

    /// A new run starts at `line` after the current one ended: keep what describes the log
    /// and the device, summarise the finished attempt, and read the new one from scratch.
    fn new_attempt(&mut self, line: u64) {
        self.settle_removal();
        let outcome = self.outcome();
        let root = self.root().filter(|_| outcome != Outcome::Success);
        let ctx = root.map_or_else(|| self.context(), |r| r.context.clone());
        let ended = match (root, &self.success) {
            (Some(r), _) => Some((r.line, r.text.as_str(), "how the earlier attempt failed")),
            (None, Some((l, t, _))) => Some((*l, t.as_str(), "the earlier attempt succeeded")),
            (None, None) => None,
        };
        let summary = EarlierAttempt {
            first_line: self.attempt_first_line.max(1),
            outcome,
            stage: (outcome != Outcome::Success)
                .then(|| Self::failure_stage(root, &ctx))
                .flatten(),
            operation: ctx.op.as_ref().map(|o| o.0.clone()),
            error_code: (outcome != Outcome::Success)
                .then(|| self.error_code())
                .flatten(),
            kind: self.restore_kind,
            ended: ended.map(|(line, text, why)| EvidenceLine {
                line,
                text: cut_owned(text, EVENT_TEXT),
                why: why.to_string(),
            }),
        };
        let old = std::mem::take(self);
        let mut earlier = old.earlier_attempts;
        if earlier.len() == crate::EARLIER_ATTEMPTS_KEPT {
            earlier.remove(0);
        }
        earlier.push(summary);
        // Everything not named here belongs to one attempt and starts again.
        *self = State {
            tools: old.tools,
            device: old.device,
            protocol: old.protocol,
            target_version: old.target_version,
            target_build: old.target_build,
            target_version_hint: old.target_version_hint,
            target_build_hint: old.target_build_hint,
            board_hint: old.board_hint,
            head: old.head,
            tail: old.tail,
            dropped: old.dropped,
            product_type_hint: old.product_type_hint,
            matched_lines: old.matched_lines,
            flags: Flags {
                panic_log: old.flags.panic_log,
                export_finished: old.flags.export_finished,
                previous_restore_failed: old.flags.previous_restore_failed
                    || outcome != Outcome::Success,
                ..Flags::default()
            },
            attempt_first_line: line,
            earlier_attempts: earlier,
            failure_context: {
                let mut v = old.failure_context;
                v.clear();
                v
            },
            ..State::default()
        };
    }

    fn context(&self) -> Context {
        let cp = self.open_cps.last().or(self.last_cp.as_ref());
        let recovery_op = || {
            self.last_recovery_op
                .as_ref()
                .map(|(o, l, _)| (o.clone(), Some(Stage::Reboot), *l))
        };
        Context {
            op: self
                .last_op
                .as_ref()
                .map(|(o, s, l, _)| (o.clone(), *s, *l))
                .or_else(recovery_op),
            cp: cp.map(|(c, s, l, _)| (c.clone(), *s, *l)),
            step: self.step.as_ref().map(|(s, l, _)| (*s, *l)),
            hand_off: self.hand_off.then_some(self.hand_off_line),
            op_text: self
                .last_op
                .as_ref()
                .map(|x| x.3.clone())
                .or_else(|| self.last_recovery_op.as_ref().map(|x| x.2.clone())),
            cp_text: cp.map(|x| x.3.clone()),
            step_text: self.step.as_ref().map(|x| x.2.clone()),
            cp_open: !self.open_cps.is_empty(),
        }
    }

    fn push_event_alloc(
        &mut self,
        line: u64,
        time: Option<&str>,
        source: Source,
        kind: EventKind,
        text: &str,
    ) {
        let ev = TimelineEvent {
            line,
            time: time.map(str::to_string),
            source,
            kind,
            text: text.to_string(),
        };
        if self.head.len() < TIMELINE_EDGE {
            self.head.push(ev);
            return;
        }
        if self.tail.len() == TIMELINE_EDGE {
            self.tail.pop_front();
            self.dropped += 1;
        }
        self.tail.push_back(ev);
    }

    /// Once head and tail are full: the oldest tail entry, dropped from the timeline, with
    /// `line`, `time`, `source` and `text` written into its buffers (its kind is the old one).
    fn recycle_event(
        &mut self,
        line: u64,
        time: Option<&str>,
        source: Source,
        text: &str,
    ) -> Option<TimelineEvent> {
        if self.head.len() < TIMELINE_EDGE || self.tail.len() < TIMELINE_EDGE {
            return None;
        }
        let mut ev = self.tail.pop_front()?;
        self.dropped += 1;
        ev.source = source;
        rewrite(&mut ev, line, time, text);
        Some(ev)
    }

    /// Add an event; reuses the oldest tail entry's buffers once the tail is full.
    fn push_event(
        &mut self,
        line: u64,
        time: Option<&str>,
        source: Source,
        kind: EventKind,
        text: &str,
    ) {
        match self.recycle_event(line, time, source, text) {
            Some(mut ev) => {
                ev.kind = kind;
                self.tail.push_back(ev);
            }
            None => self.push_event_alloc(line, time, source, kind, text),
        }
    }

    /// [`State::push_event`] for a checkpoint: a recycled entry takes the checkpoint's id and
    /// name, borrowed from the knowledge base for the checkpoints it knows.
    #[allow(clippy::too_many_arguments)]
    fn push_checkpoint_event(
        &mut self,
        line: u64,
        time: Option<&str>,
        source: Source,
        cp: &CheckpointRef,
        state: CheckpointState,
        result: Option<i64>,
        text: &str,
    ) {
        let Some(mut ev) = self.recycle_event(line, time, source, text) else {
            let kind = EventKind::Checkpoint {
                checkpoint: cp.clone(),
                state,
                result,
            };
            self.push_event_alloc(line, time, source, kind, text);
            return;
        };
        match &mut ev.kind {
            EventKind::Checkpoint {
                checkpoint,
                state: s,
                result: r,
            } => {
                // Borrowed from the knowledge base for every checkpoint it knows: no copy.
                checkpoint.clone_from(cp);
                *s = state;
                *r = result;
            }
            other => {
                *other = EventKind::Checkpoint {
                    checkpoint: cp.clone(),
                    state,
                    result,
                }
            }
        }
        self.tail.push_back(ev);
    }

    /// A progress update of the operation the timeline ends with: that entry shows the latest
    /// progress (its line, time and text with it), so the timeline says how far the step got.
    /// An update after other entries changes nothing (the timeline stays in line order).
    fn update_progress(
        &mut self,
        id: u32,
        progress: Option<i64>,
        line: u64,
        time: Option<&str>,
        body: &str,
    ) {
        let last = if self.tail.is_empty() {
            self.head.last_mut()
        } else {
            self.tail.back_mut()
        };
        let Some(ev) = last else {
            return;
        };
        let EventKind::Operation {
            operation,
            progress: p,
            restore_phase: true,
        } = &mut ev.kind
        else {
            return;
        };
        if operation.id != id {
            return;
        }
        *p = progress;
        rewrite(ev, line, time, body);
    }

    fn signal(&self, kind: FailKind, line: u64, text: &str) -> FailureSignal {
        FailureSignal {
            kind,
            line,
            text: text.to_string(),
            context: self.context(),
        }
    }

    fn fail(&mut self, kind: FailKind, line: u64, text: &str) {
        match kind {
            FailKind::Specific(_) => {
                self.last_hard_failure_line = line;
                if self.first_specific.is_none() {
                    self.capture_failure_context();
                    self.first_specific = Some(self.signal(kind, line, text));
                }
            }
            FailKind::Weak(_) => {
                if self.weak.is_none() {
                    self.weak = Some(self.signal(kind, line, text));
                }
            }
            FailKind::Disconnect => {
                self.last_hard_failure_line = line;
                if !self.device_reported_failure() {
                    self.flags.usb_dropout = true;
                    if self.usb_line.is_none() {
                        self.usb_line = Some((line, text.to_string()));
                    }
                }
                if self.first_disconnect.is_none() {
                    if self.first_specific.is_none() {
                        self.capture_failure_context();
                    }
                    self.first_disconnect = Some(self.signal(kind, line, text));
                }
            }
            FailKind::Soft(_) => {
                if self.first_soft.is_none() {
                    if self.first_specific.is_none() && self.first_disconnect.is_none() {
                        self.capture_failure_context();
                    }
                    self.first_soft = Some(self.signal(kind, line, text));
                }
            }
            FailKind::ModeChange(fallback) => {
                let stage = self.mode_change_stage(fallback);
                self.fail(FailKind::Specific(stage), line, text);
            }
            FailKind::Final => {
                self.last_hard_failure_line = line;
                self.final_message = Some((line, text.to_string()));
                if self.first_final.is_none() {
                    if self.first_specific.is_none() && self.first_disconnect.is_none() {
                        self.capture_failure_context();
                    }
                    self.first_final = Some(self.signal(kind, line, text));
                }
            }
        }
    }

    /// Where the log is now: a step outside the numbered operations (its buffer reused).
    fn set_step(&mut self, stage: Stage, line: u64, body: &str) {
        match &mut self.step {
            Some(step) => {
                step.0 = stage;
                step.1 = line;
                step.2.clear();
                step.2.push_str(body);
            }
            None => self.step = Some((stage, line, body.to_string())),
        }
    }

    /// Keep the events just before the first failure, whatever the timeline drops later.
    fn capture_failure_context(&mut self) {
        if !self.failure_context.is_empty() {
            return;
        }
        let n = self.tail.len();
        // Into the vector kept from the previous attempt (see `new_attempt`): a fresh one per
        // attempt cost a heap consolidation each time in a paste of many runs.
        self.failure_context.extend(
            self.tail
                .iter()
                .skip(n.saturating_sub(FAILURE_CONTEXT))
                .cloned(),
        );
    }

    /// Progress of the restore clears weak failures, a broken side channel and pending
    /// removals.
    /// Forget the open checkpoint `num` (keeping its text buffer for the next one).
    fn close_checkpoint(&mut self, num: u32) {
        if let Some(i) = self.open_cps.iter().position(|(c, ..)| c.num == num) {
            let (_, _, _, text) = self.open_cps.remove(i);
            self.spare_cp_text = Some(text);
            // At most one entry per number: `Begin` closes the same number first.
            debug_assert!(self.open_cps.iter().all(|(c, ..)| c.num != num));
        }
    }

    fn progressed(&mut self) {
        self.weak = None;
        // Asked before it is cleared: `take()` would move the whole signal out (a copy of
        // its context) on every checkpoint and operation line, to drop it.
        let had_soft = self.first_soft.is_some();
        self.first_soft = None;
        if had_soft
            && self.first_specific.is_none()
            && self.first_disconnect.is_none()
            && self.first_final.is_none()
        {
            // The context kept for it: a later failure keeps its own.
            self.failure_context.clear();
        }
        self.removed = None;
        self.no_data_reads = 0;
    }

    fn apply(&mut self, sig: Signal, line: u64, time: Option<&str>, source: Source, body: &str) {
        if self.in_previous_log && source == Source::Device {
            // An older attempt's device log: remember that it failed, nothing more.
            if matches!(sig, Signal::Fail(_))
                || matches!(
                    sig,
                    Signal::Checkpoint {
                        state: CheckpointState::Failure,
                        ..
                    }
                )
            {
                self.flags.previous_restore_failed = true;
            }
            if let Signal::Format(t) = sig {
                self.note_tool(t);
            }
            return;
        }
        match sig {
            Signal::Format(t) => self.note_tool(t),
            Signal::Mode(m) => {
                if self.modes.last() != Some(&m) && self.modes.len() < 64 {
                    self.modes.push(m);
                    self.push_event(line, time, source, EventKind::Mode { mode: m }, body);
                }
                match m {
                    Mode::Restore => {
                        self.hand_off = false;
                        self.progressed();
                    }
                    Mode::Recovery | Mode::Dfu | Mode::Wtf | Mode::PortDfu => {
                        if self.last_op.is_none() {
                            self.hand_off = true;
                            self.hand_off_line = line;
                        }
                    }
                    Mode::Normal => {}
                }
            }
            Signal::Kind(k) => self.restore_kind = Some(k),
            Signal::ProductType {
                hardware_model,
                product_type,
            } => {
                if self.device.product_type.is_none() {
                    self.device.product_type = Some(cut_owned(&product_type, 24));
                }
                if self.device.hardware_model.is_none() {
                    self.device.hardware_model = hardware_model.map(|h| cut_owned(&h, 24));
                }
            }
            Signal::ProductTypeHint(pt) => {
                if self.product_type_hint.is_none() {
                    self.product_type_hint = Some(cut_owned(&pt, 24));
                }
            }
            Signal::HardwareModel(h) => {
                if self.device.hardware_model.is_none() {
                    self.device.hardware_model = Some(cut_owned(&h, 24));
                }
            }
            Signal::Ecid(e) => {
                if self.device.ecid.is_none() {
                    self.device.ecid = Some(cut_owned(&e, 24));
                }
            }
            Signal::Serial(s) => {
                if self.device.serial.is_none() {
                    self.device.serial = Some(cut_owned(&s, 24));
                }
            }
            Signal::Cpid(c) => {
                self.device.cpid.get_or_insert(c);
            }
            Signal::Bdid(b) => {
                self.device.bdid.get_or_insert(b);
            }
            Signal::TargetVersion(v) => {
                if self.target_version.is_none() && !v.is_empty() && v != "N/A" {
                    self.target_version = Some(cut_owned(&v, 24));
                }
            }
            Signal::TargetBuild(b) => {
                if self.target_build.is_none() && !b.is_empty() && b != "N/A" {
                    self.target_build = Some(cut_owned(&b, 24));
                }
            }
            Signal::Protocol(p) => {
                self.protocol.get_or_insert(p);
            }
            Signal::Operation {
                raw_id,
                label,
                progress,
                restore_phase,
            } => {
                if !restore_phase {
                    self.hand_off = true;
                    self.hand_off_line = line;
                    let op = OperationRef {
                        id: raw_id,
                        label: "Recovery-mode bootstrap step".into(),
                        raw_id: None,
                    };
                    match &mut self.last_recovery_op {
                        Some(last) => {
                            last.0 = op.clone();
                            last.1 = line;
                            last.2.clear();
                            last.2.push_str(body);
                        }
                        None => self.last_recovery_op = Some((op.clone(), line, body.to_string())),
                    }
                    self.push_event(
                        line,
                        time,
                        source,
                        EventKind::Operation {
                            operation: op,
                            progress,
                            restore_phase: false,
                        },
                        body,
                    );
                    self.progressed();
                    return;
                }
                if self.modes.last() != Some(&Mode::Restore) && self.modes.len() < 64 {
                    // A restore operation means the device runs the restore ramdisk.
                    self.modes.push(Mode::Restore);
                }
                let (op, stage) =
                    reference::resolve_operation(raw_id, label.as_deref(), self.protocol);
                let repeat = self.last_op.as_ref().is_some_and(|(o, ..)| o.id == op.id);
                self.hand_off = false;
                self.progressed();
                if repeat {
                    // The same operation again (a progress update): the proving line is the
                    // latest one, its text with it.
                    if let Some(last) = self.last_op.as_mut() {
                        last.2 = line;
                        last.3.clear();
                        last.3.push_str(body);
                    }
                    if progress.is_some_and(|p| p >= 0) {
                        self.update_progress(op.id, progress, line, time, body);
                    }
                    return;
                }
                self.push_event(
                    line,
                    time,
                    source,
                    EventKind::Operation {
                        operation: op.clone(),
                        progress,
                        restore_phase: true,
                    },
                    body,
                );
                match &mut self.last_op {
                    Some(last) => {
                        last.0 = op;
                        last.1 = stage;
                        last.2 = line;
                        last.3.clear();
                        last.3.push_str(body);
                    }
                    None => self.last_op = Some((op, stage, line, body.to_string())),
                }
            }
            Signal::Checkpoint {
                id,
                name,
                state,
                result,
            } => {
                let (cp, stage) = reference::resolve_checkpoint(id, name);
                self.hand_off = false;
                let failed = match state {
                    CheckpointState::Failure => true,
                    CheckpointState::End => result.is_some_and(|r| r != 0),
                    _ => false,
                };
                let state = if failed {
                    CheckpointState::Failure
                } else {
                    state
                };
                self.push_checkpoint_event(line, time, source, &cp, state, result, body);
                match state {
                    CheckpointState::Begin => {
                        self.progressed();
                        if self.open_cps.len() >= 32 {
                            self.open_cps.remove(0);
                        }
                        self.close_checkpoint(cp.num);
                        // The text buffer of a checkpoint that closed before, if any: one
                        // allocation less per checkpoint that begins.
                        let mut text = self.spare_cp_text.take().unwrap_or_default();
                        text.clear();
                        text.push_str(body);
                        self.open_cps.push((cp.clone(), stage, line, text));
                    }
                    CheckpointState::End => {
                        self.progressed();
                        self.close_checkpoint(cp.num);
                    }
                    CheckpointState::Failure => {
                        // Context before the failing checkpoint closes.
                        let mut ctx_stage = stage.or_else(|| self.context().stage());
                        // log_formats.md §6: FAILURE:1100 on asr_and_invert_image is the
                        // checksum verification.
                        if cp.num == 0x065B && result == Some(1100) {
                            ctx_stage = Some(Stage::Verify);
                        }
                        // §3.4: FAILURE:14 on restore_images after ASR said it could not
                        // repartition is the partitioning, not the image stream.
                        if self.flags.repartition_failed && result == Some(14) {
                            ctx_stage = Some(Stage::Partition);
                        }
                        if self.first_cp_failure.is_none() {
                            self.first_cp_failure = Some(FailureSignal {
                                kind: match ctx_stage {
                                    Some(s) => FailKind::Specific(s),
                                    None => FailKind::Final,
                                },
                                line,
                                text: body.to_string(),
                                context: self.context(),
                            });
                        }
                        if self.failed_cp.is_none() {
                            self.failed_cp = Some(FailedCheckpoint {
                                cp: cp.clone(),
                                result,
                                line,
                                text: body.to_string(),
                            });
                        }
                        match ctx_stage {
                            Some(s) => self.fail(FailKind::Specific(s), line, body),
                            None => self.fail(FailKind::Final, line, body),
                        }
                        self.close_checkpoint(cp.num);
                    }
                    CheckpointState::Retry | CheckpointState::Warning => {}
                }
                match &mut self.last_cp {
                    Some(last) => {
                        // Keep the text buffer: one allocation less per checkpoint line.
                        last.0 = cp;
                        last.1 = stage;
                        last.2 = line;
                        last.3.clear();
                        last.3.push_str(body);
                    }
                    None => self.last_cp = Some((cp, stage, line, body.to_string())),
                }
            }
            Signal::Status { code, text } => {
                let (code, stage) = reference::resolve_status(code, &text);
                self.push_event(
                    line,
                    time,
                    source,
                    EventKind::Status {
                        code: code.unwrap_or(-999),
                        text: cut_owned(&text, 120),
                    },
                    body,
                );
                if code == Some(0) {
                    self.success = Some((line, body.to_string(), source));
                    return;
                }
                self.status = Some((code, cut_owned(&text, 120), line));
                let stage = if code == Some(-1) {
                    // Verification Error: after the baseband op it is the modem; after the
                    // FirmwareUpdater data it is firmware (log_formats.md §1.5).
                    match self.last_op.as_ref().and_then(|o| o.1) {
                        Some(s @ (Stage::Baseband | Stage::Firmware)) => Some(s),
                        _ if self.firmware_updater_sent => Some(Stage::Firmware),
                        _ => stage,
                    }
                } else {
                    stage
                };
                match stage {
                    Some(s) => self.fail(FailKind::Specific(s), line, body),
                    None => self.fail(FailKind::Final, line, body),
                }
            }
            Signal::Fail(kind) => {
                let kind = match kind {
                    FailKind::ModeChange(fallback) => {
                        FailKind::Specific(self.mode_change_stage(fallback))
                    }
                    kind => kind,
                };
                let kind = match kind {
                    FailKind::Specific(Stage::Usb) | FailKind::Weak(Stage::Usb) => {
                        self.flags.usb_dropout = true;
                        self.usb_line.get_or_insert((line, body.to_string()));
                        kind
                    }
                    FailKind::Specific(Stage::Tss) | FailKind::Weak(Stage::Tss) => {
                        self.tss_line.get_or_insert((line, body.to_string()));
                        kind
                    }
                    _ => kind,
                };
                let stage = match kind {
                    FailKind::Specific(s) | FailKind::Weak(s) | FailKind::Soft(s) => Some(s),
                    _ => None,
                };
                self.push_event(
                    line,
                    time,
                    source,
                    EventKind::Failure {
                        stage,
                        disconnect: kind == FailKind::Disconnect,
                    },
                    body,
                );
                self.fail(kind, line, body);
            }
            Signal::ErrorCode(code) => {
                self.push_event(line, time, source, EventKind::ErrorCode { code }, body);
                // A wrapper (3uTools) that reports the device's own number for the failure (the
                // failing checkpoint's result, the `Status:` code) only repeats it: not a code
                // iTunes would show (log_formats.md §9), so not the host's code.
                let echoes_device = source == Source::Wrapper
                    && (self.failed_cp.as_ref().and_then(|f| f.result) == Some(code)
                        || self.status.as_ref().and_then(|s| s.0) == Some(code));
                if echoes_device {
                    if code != 0 {
                        self.fail(FailKind::Final, line, body);
                    }
                    return;
                }
                if self.error_codes.len() < 16 {
                    self.error_codes.push((code, line, body.to_string()));
                }
                if code != 0 {
                    self.fail(FailKind::Final, line, body);
                }
            }
            Signal::ToolCode(code) => {
                self.tool_code.get_or_insert(code);
            }
            Signal::Success => {
                self.push_event(line, time, source, EventKind::Success, body);
                self.success = Some((line, body.to_string(), source));
            }
            Signal::Progressed => {
                self.progressed();
                if self.last_op.is_none() {
                    self.hand_off = true;
                    self.hand_off_line = line;
                }
                self.push_event(line, time, source, EventKind::Note, body);
            }
            Signal::Removed => {
                if self.removed.is_none() {
                    self.removed = Some(FailureSignal {
                        kind: FailKind::Disconnect,
                        line,
                        text: body.to_string(),
                        context: self.context(),
                    });
                    self.push_event(line, time, source, EventKind::Warning, body);
                }
            }
            Signal::UsbTrouble => {
                self.flags.usb_dropout = true;
                self.usb_line.get_or_insert((line, body.to_string()));
                if body.starts_with("No data to read") {
                    self.no_data_reads += 1;
                    if self.no_data_reads == 3 {
                        self.fail(FailKind::Disconnect, line, body);
                    }
                } else {
                    self.push_event(line, time, source, EventKind::Warning, body);
                }
            }
            Signal::LowStorage => {
                self.flags.low_storage = true;
                self.storage_line.get_or_insert((line, body.to_string()));
            }
            Signal::TssRefused => {
                self.flags.tss_refused = true;
                self.tss_line = Some((line, body.to_string()));
            }
            Signal::BlobMismatch => {
                self.flags.blob_mismatch = true;
            }
            Signal::IpswCorrupt => {
                self.flags.ipsw_corrupt = true;
            }
            Signal::TssUnreachable => {
                self.flags.tss_unreachable = true;
                self.tss_line.get_or_insert((line, body.to_string()));
            }
            Signal::PanicLog => {
                self.flags.panic_log = true;
                self.push_event(line, time, source, EventKind::Warning, body);
            }
            Signal::PreviousLogStart => {
                self.in_previous_log = true;
                self.flags.previous_restore_failed = true;
                self.push_event(line, time, source, EventKind::Note, body);
            }
            Signal::DeviceLogStart => {
                self.in_previous_log = false;
                self.push_event(line, time, source, EventKind::Note, body);
            }
            Signal::UserProgress(p) => {
                self.device_progress = Some(p);
            }
            Signal::ExportFinished => self.flags.export_finished = true,
            Signal::Step(stage) => {
                self.progressed();
                self.set_step(stage, line, body);
                self.push_event(line, time, source, EventKind::Step { stage }, body);
            }
            Signal::During(stage) => self.set_step(stage, line, body),
            Signal::HostToolLacks => self.flags.host_tool_lacked = true,
            Signal::IpswLacksFile => self.flags.ipsw_lacks_file = true,
            Signal::Repartition => self.flags.repartition_failed = true,
            Signal::DownloadFailed => {
                self.flags.download_failed = true;
                self.tss_line.get_or_insert((line, body.to_string()));
            }
            Signal::TargetVersionHint(v) => {
                if self.target_version_hint.is_none() && !v.is_empty() {
                    self.target_version_hint = Some(cut_owned(&v, 24));
                }
            }
            Signal::TargetBuildHint(b) => {
                if self.target_build_hint.is_none() && !b.is_empty() {
                    self.target_build_hint = Some(cut_owned(&b, 24));
                }
            }
            Signal::BoardHint(b) => {
                if self.board_hint.is_none() && reference::product_type_for_board(&b).is_some() {
                    self.board_hint = Some(cut_owned(&b, 24));
                }
            }
            Signal::Warn => self.push_event(line, time, source, EventKind::Warning, body),
            Signal::Note => {
                if body.starts_with("Done sending FirmwareUpdater data") {
                    self.firmware_updater_sent = true;
                }
                self.push_event(line, time, source, EventKind::Note, body)
            }
        }
    }
}

/// Pick the file's tool: the outermost wrapper seen.
fn file_tool(tools: &[Tool]) -> Tool {
    if tools.contains(&Tool::Imazing) {
        return Tool::Imazing;
    }
    tools
        .iter()
        .copied()
        .max_by_key(|t| t.wrapper_rank())
        .unwrap_or(Tool::Unknown)
}

fn build(mut st: State, lines: u64, bytes: u64) -> RestoreLog {
    let tool = file_tool(&st.tools);

    // Device identity: fill the gaps from the knowledge base.
    if st.device.product_type.is_none()
        && let (Some(c), Some(b)) = (st.device.cpid, st.device.bdid)
    {
        st.device.product_type = reference::product_type_for(c, b);
    }
    if st.device.product_type.is_none()
        && let Some(h) = st.device.hardware_model.as_deref()
    {
        st.device.product_type = reference::product_type_for_board(h);
    }
    if st.device.product_type.is_none() {
        st.device.product_type = st.product_type_hint.take();
    }
    if st.device.product_type.is_none()
        && let Some(board) = st.board_hint.as_deref()
    {
        // A board in a firmware file's name: the files of one board can serve sibling models
        // (iBSS.d20 for the iPhone 8 of either modem), so it comes after every other hint.
        st.device.product_type = reference::product_type_for_board(board);
    }
    if st.target_version.is_none() {
        st.target_version = st.target_version_hint.take();
    }
    if st.target_build.is_none() {
        st.target_build = st.target_build_hint.take();
    }
    if let Some(pt) = st.device.product_type.as_deref() {
        st.device.name = reference::device_name(pt);
    }

    st.settle_removal();
    let outcome = st.outcome();
    let root = st.root().cloned();

    let end_context = st.context();
    let failure = match outcome {
        Outcome::Success => None,
        _ => {
            let ctx = root
                .as_ref()
                .map(|r| r.context.clone())
                .unwrap_or_else(|| end_context.clone());
            let stage = State::failure_stage(root.as_ref(), &ctx);
            let checkpoint = st
                .failed_cp
                .as_ref()
                .map(|f| f.cp.clone())
                .or_else(|| ctx.cp.as_ref().map(|c| c.0.clone()));
            let error_code = st.error_code();
            let message = st
                .final_message
                .as_ref()
                .map(|m| m.1.clone())
                .or_else(|| root.as_ref().map(|r| r.text.clone()));
            let any_signal = root.is_some() || ctx.op.is_some() || ctx.cp.is_some();
            any_signal.then(|| FailurePoint {
                line: root.as_ref().map(|r| r.line),
                operation: ctx.op.as_ref().map(|o| o.0.clone()),
                checkpoint,
                stage,
                error_code,
                message,
                checkpoint_result: st.failed_cp.as_ref().and_then(|f| f.result),
                device_status: st.status.as_ref().map(|s| s.1.clone()),
                first_failure: root.as_ref().map(|r| r.text.clone()),
                disconnect: root
                    .as_ref()
                    .is_some_and(|r| r.kind == FailKind::Disconnect),
            })
        }
    };

    // Timeline: head, failure context, tail; by line, without repeats.
    let mut timeline: Vec<TimelineEvent> = st.head;
    let tail: Vec<TimelineEvent> = st.tail.into_iter().collect();
    let mut extra = st.failure_context;
    extra.extend(tail);
    for ev in extra {
        if !timeline
            .iter()
            .rev()
            .take(2 * TIMELINE_EDGE + FAILURE_CONTEXT)
            .any(|e| e.line == ev.line && e.kind == ev.kind)
        {
            timeline.push(ev);
        }
    }
    timeline.sort_by_key(|e| e.line);

    let mut log = RestoreLog {
        tool,
        formats_seen: st.tools,
        device: st.device,
        protocol_version: st.protocol,
        target_version: st.target_version,
        target_build: st.target_build,
        modes: st.modes,
        restore_kind: st.restore_kind,
        outcome,
        failure,
        timeline,
        events_dropped: st.dropped,
        flags: st.flags,
        error_codes: st.error_codes.iter().map(|e| e.0).collect(),
        tool_code: st.tool_code,
        last_operation: st.last_op.as_ref().map(|o| o.0.clone()),
        last_checkpoint: st.last_cp.as_ref().map(|c| c.0.clone()),
        device_progress: st.device_progress,
        reading: String::new(),
        evidence: Vec::new(),
        lines,
        bytes,
        matched_lines: st.matched_lines,
        earlier_attempts: std::mem::take(&mut st.earlier_attempts),
    };

    // Evidence: the lines that prove the reading.
    let mut ev: Vec<EvidenceLine> = Vec::new();
    let mut add = |line: u64, text: &str, why: &str| {
        if line > 0 && !ev.iter().any(|e| e.line == line) {
            ev.push(EvidenceLine {
                line,
                text: cut_owned(text, EVENT_TEXT),
                why: why.to_string(),
            });
        }
    };
    if log.outcome != Outcome::Success {
        if let Some(r) = &root {
            if let (Some((_, _, l)), Some(t)) = (&r.context.op, &r.context.op_text) {
                add(*l, t, "last operation before the failure");
            }
            // The step the failure's stage comes from (the boot chain's upload before a device that
            // did not come back, the root ticket before a device that gave up).
            let failed_stage = log.failure.as_ref().and_then(|f| f.stage);
            if let (Some((s, l)), Some(t)) = (&r.context.step, &r.context.step_text)
                && *l > r.context.restore_line()
                && Some(*s) == failed_stage
            {
                add(*l, t, "last step before the failure");
            }
            if let (Some((_, _, l)), Some(t)) = (&r.context.cp, &r.context.cp_text) {
                let why = if r.context.cp_open {
                    "checkpoint in progress"
                } else {
                    "last checkpoint completed"
                };
                add(*l, t, why);
            }
            add(r.line, &r.text, "first sign of the failure");
        } else {
            if let Some((_, _, l, t)) = &st.last_op {
                add(*l, t, "last operation reached");
            }
            if let Some((_, _, l, t)) = st.open_cps.last() {
                add(*l, t, "checkpoint begun and never finished");
            }
        }
        if let Some(f) = &st.failed_cp {
            add(f.line, &f.text, "failing checkpoint");
        }
        if let Some((l, t)) = &st.storage_line {
            add(*l, t, "storage full");
        }
        if let Some((l, t)) = &st.tss_line {
            add(*l, t, "signing server");
        }
        if let Some((_, t, l)) = &st.status {
            add(*l, t, "device status");
        }
        if let Some((l, t)) = &st.usb_line {
            add(*l, t, "USB connection");
        }
        if let Some((c, l, t)) = st.error_codes.iter().find(|e| e.0 != 0) {
            let _ = c;
            add(*l, t, "final error code");
        }
        if let Some((l, t)) = &st.final_message {
            add(*l, t, "final error");
        }
    } else {
        if let Some((_, _, l, t)) = &st.last_op {
            add(*l, t, "last operation");
        }
        if let Some((l, t, _)) = &st.success {
            add(*l, t, "success");
        }
    }
    ev.sort_by_key(|e| e.line);
    log.evidence = ev;
    log.reading = crate::reading::reading(&log);
    log
}
