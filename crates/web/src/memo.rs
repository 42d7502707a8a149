//! A bounded memo of diagnoses. The engine is a pure function of the request (and of the
//! knowledge base compiled into the binary), so an identical request gets the identical
//! answer: the wizard asks again for the state before the last answer (to show how the bars
//! moved), and shops send the same opening questions many times. Oldest entries are dropped
//! first.

use axum::body::Bytes;
use engine::api::{DiagnoseRequest, DiagnoseResponse, RequestError};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// An answer with its JSON (serialised once, served many times).
#[derive(Debug)]
pub struct Answer {
    pub response: DiagnoseResponse,
    pub json: Bytes,
}

impl Answer {
    fn new(response: DiagnoseResponse) -> Arc<Answer> {
        // Sized for a typical answer (16-20 KB) at once: no chain of reallocations.
        let mut buf = Vec::with_capacity(24 << 10);
        if serde_json::to_writer(&mut buf, &response).is_err() {
            buf.clear();
        }
        let json = Bytes::from(buf);
        Arc::new(Answer { response, json })
    }
}

/// How many answers are kept at most.
pub const CAPACITY: usize = 1024;
/// And how many bytes they may take (request key, JSON, and the answer itself, estimated
/// as twice its JSON).
pub const MAX_BYTES: usize = 24 << 20;
/// Requests longer than this (as JSON) are answered but not kept, to bound the memory used.
pub const MAX_KEY: usize = 16 << 10;

/// Answers by request key, the keys oldest first, and the bytes they take.
type Entries = (HashMap<String, Arc<Answer>>, VecDeque<String>, usize);

fn cost(key: &str, a: &Answer) -> usize {
    key.len() * 2 + a.json.len() * 3
}

#[derive(Default)]
pub struct DiagnoseMemo {
    inner: Mutex<Entries>,
}

impl DiagnoseMemo {
    /// The answer to `req` when it is in the memo (cheap: no engine run).
    pub fn get(&self, req: &DiagnoseRequest) -> Option<Arc<Answer>> {
        let key = serde_json::to_string(req).ok()?;
        if key.len() > MAX_KEY {
            return None;
        }
        self.lock().0.get(&key).cloned()
    }

    /// The engine's answer to `req`, from the memo when the same request was answered before.
    pub fn diagnose(&self, req: &DiagnoseRequest) -> Result<Arc<Answer>, RequestError> {
        // The request's full JSON is the key: every input the engine reads is in it.
        let key = match serde_json::to_string(req) {
            Ok(k) if k.len() <= MAX_KEY => k,
            _ => return engine::api::diagnose_request(req).map(Answer::new),
        };
        if let Some(hit) = self.lock().0.get(&key) {
            return Ok(hit.clone());
        }
        let answer = Answer::new(engine::api::diagnose_request(req)?);
        let size = cost(&key, &answer);
        let mut g = self.lock();
        if !g.0.contains_key(&key) && size <= MAX_BYTES {
            while g.1.len() >= CAPACITY || g.2 + size > MAX_BYTES {
                let Some(old) = g.1.pop_front() else { break };
                if let Some(a) = g.0.remove(&old) {
                    g.2 -= cost(&old, &a);
                }
            }
            g.1.push_back(key.clone());
            g.0.insert(key, answer.clone());
            g.2 += size;
        }
        Ok(answer)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().0.len()
    }

    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.lock().2
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Explanations of error codes as JSON, by code (documented codes only; bounded).
#[derive(Default)]
pub struct ExplainMemo {
    inner: Mutex<HashMap<i64, Bytes>>,
}

impl ExplainMemo {
    pub fn explain(&self, code: i64) -> Result<Bytes, kb::report::ReportError> {
        if let Some(hit) = self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&code)
        {
            return Ok(hit.clone());
        }
        let doc = kb::report::explain(code)?;
        let json = Bytes::from(serde_json::to_vec(&doc).unwrap_or_default());
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if g.len() < CAPACITY {
            g.insert(code, json.clone());
        }
        Ok(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(text: &str) -> DiagnoseRequest {
        DiagnoseRequest {
            device: Some("iPhone X".into()),
            error: Some(4013),
            text: Some(text.into()),
            ..DiagnoseRequest::default()
        }
    }

    #[test]
    fn the_same_request_gets_the_same_answer_and_the_memo_stays_bounded() {
        let m = DiagnoseMemo::default();
        let a = m.diagnose(&req("first")).unwrap();
        let b = m.diagnose(&req("first")).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "answered from the memo");
        let direct = engine::api::diagnose_request(&req("first")).unwrap();
        assert_eq!(a.response.device, direct.device);
        assert_eq!(a.response.next_step, direct.next_step);
        let json: serde_json::Value = serde_json::from_slice(&a.json).unwrap();
        assert_eq!(json["error_code"], 4013);
        for i in 0..CAPACITY + 10 {
            m.diagnose(&req(&format!("text {i}"))).unwrap();
        }
        assert!(m.len() <= CAPACITY);
        assert!(m.bytes() <= MAX_BYTES);
        let again = m.diagnose(&req("first")).unwrap();
        assert!(!Arc::ptr_eq(&a, &again), "the oldest entry was dropped");
    }

    #[test]
    fn the_memo_is_bounded_by_bytes() {
        let m = DiagnoseMemo::default();
        let text = "my phone fails with error 4013 ".repeat(MAX_KEY / 40);
        for i in 0..CAPACITY {
            m.diagnose(&req(&format!("{text} {i}"))).unwrap();
        }
        assert!(m.bytes() <= MAX_BYTES, "{}", m.bytes());
        assert!(m.len() < CAPACITY, "{}", m.len());
        let recount: usize = {
            let g = m.lock();
            g.0.iter().map(|(k, a)| cost(k, a)).sum()
        };
        assert_eq!(recount, m.bytes());
    }

    #[test]
    fn long_requests_are_answered_but_not_kept() {
        let m = DiagnoseMemo::default();
        let long = "my phone ".repeat(MAX_KEY / 8);
        assert!(m.diagnose(&req(&long)).is_ok());
        assert_eq!(m.len(), 0);
    }

    #[test]
    fn explanations_are_the_report_documents() {
        let m = ExplainMemo::default();
        let a = m.explain(4013).unwrap();
        let b = m.explain(4013).unwrap();
        assert_eq!(a, b);
        let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(
            v,
            serde_json::to_value(kb::report::explain(4013).unwrap()).unwrap()
        );
        assert!(m.explain(777).is_err());
    }

    #[test]
    fn errors_are_not_kept() {
        let m = DiagnoseMemo::default();
        let bad = DiagnoseRequest {
            host: Some("amiga".into()),
            ..DiagnoseRequest::default()
        };
        assert!(m.diagnose(&bad).is_err());
        assert_eq!(m.len(), 0);
    }
}
