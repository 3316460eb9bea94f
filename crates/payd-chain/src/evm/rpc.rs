//! A small JSON-RPC 2.0 client over HTTP for the EVM watcher: one request per call, a timeout
//! on each, bounded retries with exponential backoff for transient failures (timeouts,
//! connection errors, HTTP 429 and 5xx, malformed answers), and errors sorted into what the
//! watcher acts on. Provider "range too large" answers are returned at once, unretried, so
//! the caller can shrink its block range. An API key header (TronGrid's `TRON-PRO-API-KEY`)
//! rides on every request, marked sensitive so it never shows in `Debug`.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// Timeout, connection failure, rate limit (429) or server error.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The node answered with an RPC error object (other than a range limit): a method or
    /// parameter it does not support (Tron: `TAG safe not supported`), or a transient fault.
    #[error("refused: {0}")]
    Rejected(String),
    /// The answer does not parse: not JSON, no `result`, or a result of the wrong shape.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The provider refused the block range or the result size (`eth_getLogs`).
    #[error("range too large: {0}")]
    RangeTooLarge(String),
}

/// How calls are made.
#[derive(Debug, Clone, Copy)]
pub struct RpcSettings {
    /// Deadline for one HTTP request.
    pub timeout: Duration,
    /// Attempts per call (at least 1).
    pub attempts: u32,
    /// Wait before the first retry; doubled on each further one.
    pub backoff: Duration,
}

impl Default for RpcSettings {
    fn default() -> Self {
        RpcSettings { timeout: Duration::from_secs(10), attempts: 4, backoff: Duration::from_millis(200) }
    }
}

/// A JSON-RPC endpoint.
#[derive(Debug, Clone)]
pub struct RpcClient {
    http: reqwest::Client,
    url: url::Url,
    settings: RpcSettings,
    headers: reqwest::header::HeaderMap,
}

impl RpcClient {
    /// A client for `url`.
    pub fn new(url: url::Url, settings: RpcSettings) -> Result<Self, RpcError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| RpcError::Unavailable(format!("http client: {e}")))?;
        Ok(RpcClient { http, url, settings, headers: reqwest::header::HeaderMap::new() })
    }

    /// Sends `value` in header `name` with every request (an API key: marked sensitive, so
    /// it is never printed).
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self, RpcError> {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| RpcError::Unavailable("bad header name".into()))?;
        let mut value = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
            RpcError::Unavailable(format!("the {name} header value is not valid header text"))
        })?;
        value.set_sensitive(true);
        self.headers.insert(name, value);
        Ok(self)
    }

    /// The endpoint, without credentials or path (RPC URLs often carry an API key in them).
    pub fn redacted_url(&self) -> String {
        format!("{}://{}", self.url.scheme(), self.url.host_str().unwrap_or("?"))
    }

    /// Calls `method` with `params` and decodes its `result`, retrying transient failures.
    pub async fn call<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<T, RpcError> {
        let attempts = self.settings.attempts.max(1);
        let mut wait = self.settings.backoff;
        let mut last = RpcError::Unavailable("no attempt made".into());
        for attempt in 1..=attempts {
            match self.call_once(method, &params).await {
                Ok(v) => return Ok(v),
                Err(e @ RpcError::RangeTooLarge(_)) => return Err(e),
                Err(e) => {
                    tracing::debug!(method, attempt, error = %e, "rpc call failed");
                    last = e;
                }
            }
            if attempt < attempts {
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
        }
        Err(last)
    }

    async fn call_once<T: DeserializeOwned>(&self, method: &str, params: &Value) -> Result<T, RpcError> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let res = self
            .http
            .post(self.url.clone())
            .headers(self.headers.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| RpcError::Unavailable(format!("{method}: {}", describe(e))))?;
        let status = res.status();
        let text =
            res.text().await.map_err(|e| RpcError::Unavailable(format!("{method}: {}", describe(e))))?;
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(RpcError::Unavailable(format!("{method}: HTTP {status}")));
        }
        let value: Value = serde_json::from_str(&text).map_err(|_| {
            RpcError::Malformed(format!("{method}: HTTP {status}, not JSON ({} bytes)", text.len()))
        })?;
        if let Some(err) = value.get("error").filter(|e| !e.is_null()) {
            return Err(classify(method, err));
        }
        if !status.is_success() {
            return Err(RpcError::Unavailable(format!("{method}: HTTP {status}")));
        }
        let result = value
            .get("result")
            .cloned()
            .ok_or_else(|| RpcError::Malformed(format!("{method}: no result in the answer")))?;
        serde_json::from_value(result).map_err(|e| RpcError::Malformed(format!("{method}: {e}")))
    }
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        // Without the URL: it may hold an API key.
        e.without_url().to_string()
    }
}

/// Sorts a JSON-RPC error object: range and result-size limits (Infura's -32005, Alchemy's
/// and QuickNode's texts, java-tron's `exceed max block range: 5000`) are `RangeTooLarge`,
/// anything else is `Rejected`.
fn classify(method: &str, err: &Value) -> RpcError {
    let code = err.get("code").and_then(Value::as_i64).unwrap_or_default();
    let message = err.get("message").and_then(Value::as_str).unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    let limit = code == -32005
        || ["range", "too many", "too large", "limit exceeded", "more than", "exceed"]
            .iter()
            .any(|w| lower.contains(w));
    let text = format!("{method}: error {code}: {}", message.chars().take(200).collect::<String>());
    if limit {
        RpcError::RangeTooLarge(text)
    } else {
        RpcError::Rejected(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_limit_errors_are_range_errors() {
        let infura = json!({"code": -32005, "message": "query returned more than 10000 results"});
        assert!(matches!(classify("eth_getLogs", &infura), RpcError::RangeTooLarge(_)));
        let alchemy = json!({"code": -32602, "message": "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range"});
        assert!(matches!(classify("eth_getLogs", &alchemy), RpcError::RangeTooLarge(_)));
        let other = json!({"code": -32000, "message": "header not found"});
        assert!(matches!(classify("eth_getLogs", &other), RpcError::Rejected(_)));
        let tron = json!({"code": -32602, "message": "exceed max block range: 5000"});
        assert!(matches!(classify("eth_getLogs", &tron), RpcError::RangeTooLarge(_)));
        let tag = json!({"code": -32602, "message": "TAG finalized not supported"});
        assert!(matches!(classify("eth_getBlockByNumber", &tag), RpcError::Rejected(_)));
    }
}
