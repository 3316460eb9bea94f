//! What an operator watches, in Prometheus' format at `/metrics`: requests and latency per API,
//! route and status; per network the watcher's lag (head − cursor, in blocks and in seconds of
//! chain time), the transfers it recorded and the payments it watches; webhook delivery
//! outcomes and latency and the queue depth; database pool use. One registry per running
//! server (tests run several in one process), built on the Prometheus project's client.
//! Counters are updated where things happen; gauges that are a reading of the database are
//! read when scraped, each one bounded query.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of an HTTP request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The API (`native`, `astrapay`, …, `health`, `metrics`, `openapi`).
    pub api: String,
    /// The matched route template (`/v1/payments/{id}`), `unmatched` for a 404 path: never
    /// the raw path, which would hold ids and grow without bound.
    pub route: String,
    /// Method.
    pub method: String,
    /// Status code.
    pub status: u16,
}

/// Labels of a latency observation.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The API.
    pub api: String,
    /// The matched route template.
    pub route: String,
}

/// A network.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NetworkLabels {
    /// Network id (`base`, `devnet`).
    pub network: String,
}

/// A webhook delivery attempt's outcome.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `delivered`, `retry`, `failed`.
    pub outcome: String,
}

/// The gauges read from the database when scraped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readings {
    /// Webhook deliveries waiting to be sent (due or scheduled for a retry).
    pub webhook_queue: i64,
    /// Connections open in the pool.
    pub pool_size: i64,
    /// Of which idle.
    pub pool_idle: i64,
}

/// Every metric of one server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// HTTP requests answered.
    pub requests: Family<RequestLabels, Counter>,
    /// HTTP latency, seconds.
    pub request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Chain head − cursor, blocks.
    pub lag_blocks: Family<NetworkLabels, Gauge>,
    /// Now − the cursor block's time, seconds.
    pub lag_seconds: Family<NetworkLabels, Gauge>,
    /// Transfers recorded (credited or unattributed).
    pub transfers: Family<NetworkLabels, Counter>,
    /// Payments the last step could credit.
    pub watched: Family<NetworkLabels, Gauge>,
    /// Webhook attempts by outcome.
    pub deliveries: Family<OutcomeLabels, Counter>,
    /// Webhook attempt latency, seconds.
    pub delivery_seconds: Histogram,
    webhook_queue: Gauge,
    pool_size: Gauge,
    pool_idle: Gauge,
    /// Each network's last watcher error on this node, for the health page.
    last_errors: std::sync::Mutex<std::collections::HashMap<String, (chrono::DateTime<chrono::Utc>, String)>>,
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~16 s.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every metric registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("payd");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> _,
        );
        let lag_blocks = Family::<NetworkLabels, Gauge>::default();
        let lag_seconds = Family::<NetworkLabels, Gauge>::default();
        let transfers = Family::<NetworkLabels, Counter>::default();
        let watched = Family::<NetworkLabels, Gauge>::default();
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        let delivery_seconds = latency_histogram();
        let (webhook_queue, pool_size, pool_idle) = (Gauge::default(), Gauge::default(), Gauge::default());
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency", request_seconds.clone());
        registry.register("watcher_lag_blocks", "Chain head minus the watcher's cursor", lag_blocks.clone());
        registry.register(
            "watcher_lag_seconds",
            "Time since the block at the watcher's cursor was made",
            lag_seconds.clone(),
        );
        registry.register("transfers_recorded", "Transfers recorded by the watcher", transfers.clone());
        registry.register("watched_payments", "Payments the watcher can credit", watched.clone());
        registry.register("webhook_attempts", "Webhook delivery attempts by outcome", deliveries.clone());
        registry.register(
            "webhook_attempt_duration_seconds",
            "Webhook delivery attempt latency",
            delivery_seconds.clone(),
        );
        registry.register(
            "webhook_queue_depth",
            "Webhook deliveries waiting to be sent",
            webhook_queue.clone(),
        );
        registry.register("db_pool_connections", "Database connections open", pool_size.clone());
        registry.register("db_pool_idle_connections", "Database connections idle", pool_idle.clone());
        Metrics {
            registry,
            requests,
            request_seconds,
            lag_blocks,
            lag_seconds,
            transfers,
            watched,
            deliveries,
            delivery_seconds,
            webhook_queue,
            pool_size,
            pool_idle,
            last_errors: std::sync::Mutex::default(),
        }
    }

    /// Records a watcher step's failure (kept until the next one: the last error).
    pub fn watcher_failed(
        &self,
        network: &str,
        error: &dyn std::fmt::Display,
        at: chrono::DateTime<chrono::Utc>,
    ) {
        let mut map = self.last_errors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(network.to_owned(), (at, error.to_string()));
    }

    /// A network's last watcher error on this node, and when.
    pub fn watcher_error(&self, network: &str) -> Option<(chrono::DateTime<chrono::Utc>, String)> {
        self.last_errors.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(network).cloned()
    }

    /// A network's lag as last measured by this node's watcher: blocks and seconds.
    pub fn watcher_lag(&self, network: &str) -> (Option<i64>, Option<i64>) {
        let labels = NetworkLabels { network: network.to_owned() };
        (self.lag_blocks.get(&labels).map(|g| g.get()), self.lag_seconds.get(&labels).map(|g| g.get()))
    }

    /// Records one answered request.
    pub fn request(&self, labels: RequestLabels, took: Duration) {
        let route = RouteLabels { api: labels.api.clone(), route: labels.route.clone() };
        self.requests.get_or_create(&labels).inc();
        self.request_seconds.get_or_create(&route).observe(took.as_secs_f64());
    }

    /// Records a watcher step's position.
    pub fn watcher(&self, network: &str, head: u64, cursor: Option<u64>, lag: Option<chrono::Duration>) {
        let labels = NetworkLabels { network: network.to_owned() };
        if let Some(cursor) = cursor {
            self.lag_blocks
                .get_or_create(&labels)
                .set(i64::try_from(head.saturating_sub(cursor)).unwrap_or(i64::MAX));
        }
        if let Some(lag) = lag {
            self.lag_seconds.get_or_create(&labels).set(lag.num_seconds().max(0));
        }
    }

    /// The text Prometheus scrapes, with the database readings of this moment.
    pub fn render(&self, readings: Readings) -> Result<String, std::fmt::Error> {
        self.webhook_queue.set(readings.webhook_queue);
        self.pool_size.set(readings.pool_size);
        self.pool_idle.set(readings.pool_idle);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// The content type of [`Metrics::render`]'s text (OpenMetrics, which Prometheus negotiates).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
