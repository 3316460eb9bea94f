//! A merchant's webhook endpoint double: an axum server on 127.0.0.1 that records every
//! request (headers and exact body) and answers as scripted.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// An answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Status(u16),
    /// 302 to another path of this receiver.
    Redirect,
    /// A status with `Retry-After: <seconds>`.
    RetryAfter(u16, u64),
    /// No answer for a minute.
    Hang,
}

type Responder = Box<dyn Fn(&Received) -> Reply + Send + Sync>;

#[derive(Default)]
struct Inner {
    got: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    responder: Mutex<Option<Responder>>,
    changed: tokio::sync::Notify,
}

pub struct Receiver {
    pub port: u16,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn record(
    State(inner): State<Arc<Inner>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = Received {
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: String::from_utf8(body.to_vec()).unwrap(),
    };
    let reply = inner.script.lock().unwrap().pop_front().unwrap_or_else(|| {
        inner.responder.lock().unwrap().as_ref().map_or(Reply::Status(200), |f| f(&received))
    });
    inner.got.lock().unwrap().push(received);
    inner.changed.notify_waiters();
    match reply {
        Reply::Status(code) => (StatusCode::from_u16(code).unwrap(), "ok").into_response(),
        Reply::Redirect => (StatusCode::FOUND, [("location", "/moved")], "").into_response(),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            (StatusCode::OK, "late").into_response()
        }
        Reply::RetryAfter(code, secs) => {
            (StatusCode::from_u16(code).unwrap(), [("retry-after", secs.to_string())], "busy").into_response()
        }
    }
}

impl Receiver {
    /// On a free port.
    pub async fn start() -> Receiver {
        Self::start_on(0).await
    }

    /// On a given port (a receiver coming back up where payd expects it).
    pub async fn start_on(port: u16) -> Receiver {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new().fallback(record).with_state(Arc::clone(&inner));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { port, inner, server }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks", self.port)
    }

    /// The URL of another path on this receiver (one per endpoint, to tell them apart).
    pub fn url_at(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The next answers, in order; then the responder, or 200.
    pub fn script(&self, replies: &[Reply]) {
        self.inner.script.lock().unwrap().extend(replies.iter().copied());
    }

    /// Answers computed from each request, once the script is used up.
    pub fn respond_with(&self, f: impl Fn(&Received) -> Reply + Send + Sync + 'static) {
        *self.inner.responder.lock().unwrap() = Some(Box::new(f));
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.got.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests came in. The bound only turns a hang into a failure
    /// with a message; nothing is asserted about how long delivery takes.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let notified = self.inner.changed.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(tokio::time::Instant::now() < deadline, "waited for {n} requests, got {}", got.len());
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
        }
    }
}
