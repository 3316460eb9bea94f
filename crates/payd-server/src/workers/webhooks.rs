//! The webhook dispatcher: claims due deliveries with a lease (the claim commits before any
//! request goes out, so no transaction is open across an HTTP call), sends each signed in its
//! endpoint's format, and records the attempt with the claim's token and the engine's
//! judgement of it (`engine::webhooks::deliveries`). At most
//! `webhooks.concurrency` requests are in flight. Deliveries due while payd was down are simply
//! due when it starts; a node that died mid-send loses its lease and another sends again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use payd_core::crypto::MasterKey;
use payd_core::webhook::{Attempt, SNIPPET_BYTES};
use payd_core::webhook_sign::signature_headers;
use payd_store::webhooks::ClaimedDelivery;
use payd_store::Store;
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::every::{every, Pace};
use crate::config::webhooks::WebhooksConfig;
use crate::engine::webhooks::deliveries::{self, Answer};
use crate::engine::webhooks::endpoints::signing_secrets;
use crate::webhooks::{guard, payload};

/// Extra lease time beyond the request timeout, for building the body and recording.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// Sends webhooks.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    store: Store,
    master_key: Arc<MasterKey>,
    config: WebhooksConfig,
    public_url: String,
    client: reqwest::Client,
    metrics: Arc<crate::metrics::Metrics>,
}

/// What one send produced.
struct Sent {
    attempt: Attempt,
    retry_after: Option<Duration>,
}

impl Dispatcher {
    /// A dispatcher with its HTTP client: no redirects, the configured timeout, and unless
    /// private targets are allowed, the guarded resolver.
    pub fn new(
        store: Store,
        master_key: Arc<MasterKey>,
        config: WebhooksConfig,
        public_url: String,
    ) -> anyhow::Result<Dispatcher> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("payd-webhooks/", env!("CARGO_PKG_VERSION")))
            // Proxies from the environment would hide the real target from the guard.
            .no_proxy();
        if !config.allow_private_targets {
            builder = builder.dns_resolver(Arc::new(guard::GuardedResolver));
        }
        let client = builder.build()?;
        let metrics = Arc::new(crate::metrics::Metrics::new());
        Ok(Dispatcher { store, master_key, config, public_url, client, metrics })
    }

    /// Reports attempts to the server's metrics (a new dispatcher has its own).
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Dispatcher {
        self.metrics = metrics;
        self
    }

    fn lease(&self) -> Duration {
        self.config.timeout + LEASE_MARGIN
    }

    /// Claims what is due (up to `limit`), sends it all and records the results; how many
    /// were claimed. Tests call this to drain the queue step by step.
    pub async fn run_once(&self, limit: u32) -> Result<usize, payd_store::StoreError> {
        let claims = self.store.claim_webhook_deliveries(payd_store::now(), self.lease(), limit).await?;
        let n = claims.len();
        let mut set = JoinSet::new();
        for claim in claims {
            let me = self.clone();
            set.spawn(async move { me.deliver(claim).await });
        }
        while set.join_next().await.is_some() {}
        Ok(n)
    }

    /// Runs until `cancel` fires, then lets the requests in flight finish.
    ///
    /// At most `concurrency` requests are in flight; up to as many more claimed deliveries
    /// wait for a slot, so claims are batches rather than one row per finished request (on
    /// SQLite every claim is a write). A waiting delivery starts within one request timeout,
    /// well inside its lease.
    pub async fn run(self, cancel: CancellationToken) {
        let concurrency = self.config.concurrency.max(1);
        let permits = Arc::new(Semaphore::new(concurrency));
        let tasks = Mutex::new(JoinSet::new());
        // Woken by this node's own commits that queue deliveries; the poll finds the rest
        // (other nodes' writes, retries coming due).
        let queued = self.store.deliveries_queued();
        every("webhook dispatcher", self.config.poll, Some(queued), &cancel, || async {
            let mut tasks = tasks.lock().await;
            while tasks.try_join_next().is_some() {}
            if tasks.len() > concurrency {
                // A full window is still ahead: claim again when part of it is done.
                tasks.join_next().await;
                return Ok(Pace::Again);
            }
            let room = 2 * concurrency - tasks.len();
            let limit = u32::try_from(room).unwrap_or(u32::MAX);
            let claims = self.store.claim_webhook_deliveries(payd_store::now(), self.lease(), limit).await?;
            let claimed = claims.len();
            for claim in claims {
                let me = self.clone();
                let permits = Arc::clone(&permits);
                tasks.spawn(async move {
                    // The semaphore is never closed, so acquiring only waits.
                    let _permit = permits.acquire_owned().await;
                    me.deliver(claim).await;
                });
            }
            // A full claim means there may be more due: look again without waiting.
            Ok::<_, payd_store::StoreError>(if claimed == room { Pace::Again } else { Pace::Wait })
        })
        .await;
        let mut tasks = tasks.into_inner();
        while tasks.join_next().await.is_some() {}
    }

    /// Sends one claimed delivery and records the result.
    async fn deliver(&self, claim: ClaimedDelivery) {
        let sent = self.send(&claim).await;
        let now = payd_store::now();
        let answer = Answer { status_code: sent.attempt.status_code, retry_after: sent.retry_after };
        let (outcome, health) = deliveries::judge(
            &self.config,
            answer,
            claim.delivery.attempts,
            claim.endpoint.failing_since,
            deliveries::jitter_permille(),
            now,
        );
        let d = &claim.delivery;
        let label = match outcome {
            payd_core::webhook::DeliveryOutcome::Delivered => "delivered",
            payd_core::webhook::DeliveryOutcome::RetryAt(_) => "retry",
            payd_core::webhook::DeliveryOutcome::Dead => "failed",
        };
        self.metrics
            .deliveries
            .get_or_create(&crate::metrics::OutcomeLabels { outcome: label.to_owned() })
            .inc();
        self.metrics.delivery_seconds.observe(Duration::from_millis(sent.attempt.latency_ms).as_secs_f64());
        match self.store.finish_webhook_delivery(&claim, &sent.attempt, outcome, health, now).await {
            Ok(true) => tracing::info!(
                delivery = %d.id, endpoint = %claim.endpoint.id, event = %d.event_id,
                status = sent.attempt.status_code, outcome = ?outcome, "webhook attempt"
            ),
            Ok(false) => {
                tracing::warn!(delivery = %d.id, "webhook lease lapsed before the result was recorded")
            }
            // The lease lapses and the delivery is sent again: at least once, never lost.
            Err(e) => tracing::warn!(delivery = %d.id, error = %e, "recording a webhook attempt failed"),
        }
    }

    /// Builds, signs and sends; never fails, since every failure is an attempt to record.
    async fn send(&self, claim: &ClaimedDelivery) -> Sent {
        let at = payd_store::now();
        let started = Instant::now();
        let failed = |error: String| Sent {
            attempt: Attempt {
                at,
                status_code: None,
                latency_ms: elapsed_ms(started),
                error: Some(error),
                response_snippet: None,
            },
            retry_after: None,
        };
        let ep = &claim.endpoint;
        let event = &claim.event;
        let name = &claim.delivery.event_name;
        let body = match payload::body(&self.store, ep.format, event, name, &self.public_url).await {
            Ok(b) => b,
            Err(e) => return failed(format!("building the payload: {e}")),
        };
        let secrets = match signing_secrets(&self.master_key, ep, at) {
            Ok(s) => s,
            Err(e) => return failed(format!("signing secret: {e}")),
        };
        let id = event.id.to_string();
        let headers = match signature_headers(ep.format, &secrets, &id, at.timestamp(), &body, name) {
            Ok(h) => h,
            Err(e) => return failed(format!("signing: {e}")),
        };
        let url = match reqwest::Url::parse(&ep.url) {
            Ok(u) => u,
            Err(e) => return failed(format!("endpoint url: {e}")),
        };
        if !self.config.allow_private_targets {
            if let Err(refused) = guard::check_literal(&url) {
                return failed(format!("refused: {refused}"));
            }
        }
        let mut req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("payd-event-id", &id)
            .header("payd-event-sequence", event.sequence.to_string())
            .header("payd-event-type", event.kind.as_str());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let response = match req.body(body).send().await {
            Ok(r) => r,
            Err(e) => return failed(describe(&e)),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| deliveries::parse_retry_after(v, at));
        let redirect = response.status().is_redirection().then(|| {
            let to = response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok());
            format!("redirect to {} not followed", to.unwrap_or("(no location)"))
        });
        let snippet = read_snippet(response).await;
        Sent {
            attempt: Attempt {
                at,
                status_code: Some(status),
                latency_ms: elapsed_ms(started),
                error: redirect,
                response_snippet: Some(snippet).filter(|s| !s.is_empty()),
            },
            retry_after,
        }
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A short reason for a request that got no answer.
fn describe(e: &reqwest::Error) -> String {
    if let Some(refused) = guard::refusal(e) {
        return format!("refused: {refused}");
    }
    if e.is_timeout() {
        return "timed out".to_owned();
    }
    if e.is_connect() {
        return "could not connect".to_owned();
    }
    "request failed".to_owned()
}

/// The first [`SNIPPET_BYTES`] of the answer, read no further (a huge or endless body costs
/// nothing), cut at a character boundary.
async fn read_snippet(mut response: reqwest::Response) -> String {
    let mut buf = Vec::new();
    while buf.len() < SNIPPET_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
            _ => break,
        }
    }
    buf.truncate(SNIPPET_BYTES);
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    while text.len() > SNIPPET_BYTES {
        text.pop();
    }
    text
}
