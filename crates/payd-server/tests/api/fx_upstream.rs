//! Rate sources as the tests serve them on 127.0.0.1: the ECB's daily XML and Coinbase's spot
//! prices, from the recorded answers in `testdata/fx/`, with a switch that makes them fail and
//! a count of the requests they got.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

#[derive(Default)]
struct State {
    ecb_date: Mutex<String>,
    failing: AtomicBool,
    hits: AtomicUsize,
}

/// A running double of the rate sources.
#[derive(Clone)]
pub struct Upstream {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    state: Arc<State>,
}

fn testdata(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fx").join(name);
    std::fs::read_to_string(path).unwrap()
}

impl Upstream {
    /// Starts serving; the ECB document is dated `ecb_date` (`YYYY-MM-DD`).
    pub async fn start(ecb_date: &str) -> Upstream {
        let state = Arc::new(State::default());
        *state.ecb_date.lock().unwrap() = ecb_date.to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let s = state.clone();
        let app = axum::Router::new().fallback(move |uri: Uri| {
            let s = s.clone();
            async move { answer(&s, &uri) }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Upstream { base, state }
    }

    /// Today's date, as a fresh ECB document carries it.
    pub fn today() -> String {
        chrono::Utc::now().date_naive().to_string()
    }

    /// `days` days ago.
    pub fn days_ago(days: i64) -> String {
        (chrono::Utc::now() - chrono::Duration::days(days)).date_naive().to_string()
    }

    /// Makes every answer a failure (500, with a body that repeats the request) or not.
    pub fn fail(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }
}

fn answer(s: &State, uri: &Uri) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let path = uri.path();
    if s.failing.load(Ordering::SeqCst) {
        // What careless upstreams do: echo the request, key and all, in the error.
        return (StatusCode::INTERNAL_SERVER_ERROR, format!("upstream error for {uri}")).into_response();
    }
    if path.ends_with("/eurofxref-daily.xml") {
        let date = s.ecb_date.lock().unwrap().clone();
        let doc = testdata("eurofxref-daily.xml").replace("time='2024-06-28'", &format!("time='{date}'"));
        return ([("content-type", "text/xml")], doc).into_response();
    }
    if let Some(pair) = path.strip_suffix("/spot").and_then(|p| p.rsplit('/').next()) {
        if pair == "EUR-USD" {
            return ([("content-type", "application/json")], testdata("coinbase-spot-EUR-USD.json"))
                .into_response();
        }
        let body = r#"{"errors":[{"id":"not_found","message":"Invalid currency"}]}"#;
        return (StatusCode::NOT_FOUND, [("content-type", "application/json")], body).into_response();
    }
    (StatusCode::NOT_FOUND, format!("no such path {uri}")).into_response()
}
