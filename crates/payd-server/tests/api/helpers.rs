//! `spawn_app` and typed request helpers.

use payd_core::apikey::{Mode, Scope};
use payd_core::crypto::MasterKey;
use payd_core::merchant::{Merchant, NewMerchant};
use payd_server::app::Application;
use payd_server::config::{Config, Overrides};
use payd_server::keys::{issue_key, KeyOwner};
use payd_store::testing::TestDatabase;
use payd_store::{Backend, Store};
use serde_json::Value;

/// Runs a test body once per backend: `backend_tests!(name);` expands to a module `name`
/// with `sqlite` and `postgres` tests calling `name(app)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::helpers::spawn_app(payd_store::Backend::Sqlite).await {
                    super::$name(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app(payd_store::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    )*};
}

/// Runs a test body that takes the backend (and sets up its own server or processes) once per
/// backend: `on_both_backends!(name);` expands to a module `name` with `sqlite` and `postgres`
/// tests calling `name(backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(payd_store::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(payd_store::Backend::Postgres).await;
            }
        }
    )*};
}

pub const MASTER_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

pub struct TestApp {
    pub address: String,
    pub store: Store,
    /// The running server's shared state (engine calls that have no HTTP surface of their own).
    pub state: payd_server::state::AppState,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.abort();
        }
    }
}

/// Config for a test server: port 0, its own database, no demo merchant, a fast expiry sweep.
pub fn test_config(db: &TestDatabase, extra_env: &[(&str, &str)]) -> Config {
    let mut env: Vec<(String, String)> = vec![
        ("PAYD_MASTER_KEY".into(), MASTER_KEY.into()),
        ("PAYD_BOOTSTRAP_DEMO".into(), "false".into()),
        ("PAYD_EXPIRY_POLL_MS".into(), "50".into()),
        // No devnet workers: devnet tests mine and scan by hand (or start the workers).
        ("PAYD_DEVNET_BLOCK_MS".into(), "0".into()),
        // Nothing outside this machine is reachable: no rates unless a test serves them (the
        // default, the ECB's daily rates, would be asked for on every EUR create).
        ("PAYD_FX_PROVIDER".into(), "static".into()),
    ];
    env.extend(extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let overrides = Overrides {
        database_url: Some(db.url.clone()),
        listen: Some("127.0.0.1:0".into()),
        ..Overrides::default()
    };
    Config::load_from(&overrides, &env).expect("test config")
}

/// Boots the real server on a random port with its own database. `None`: skip (PostgreSQL
/// unreachable outside CI).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

pub async fn spawn_app_with(backend: Backend, extra_env: &[(&str, &str)]) -> Option<TestApp> {
    let db = TestDatabase::create(backend).await.expect("test database")?;
    let config = test_config(&db, extra_env);
    let app = Application::build(config).await.expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.state().store.clone();
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async move {
        let _ = rx.await;
    }));
    Some(TestApp {
        address,
        store,
        state,
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        db,
        shutdown: Some(tx),
        server: Some(server),
    })
}

impl TestApp {
    /// Stops the server as a shutdown signal would (workers drain, the pool closes).
    pub async fn stop_server(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.await.unwrap().unwrap();
        }
    }

    /// Starts a new server on the same database (after [`TestApp::stop_server`]).
    pub async fn start_server(&mut self, extra_env: &[(&str, &str)]) {
        let app = Application::build(test_config(&self.db, extra_env)).await.expect("build app");
        self.address = format!("http://127.0.0.1:{}", app.port());
        self.store = app.state().store.clone();
        self.state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        self.server = Some(tokio::spawn(app.run(async move {
            let _ = rx.await;
        })));
        self.shutdown = Some(tx);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn merchant(&self, name: &str) -> Merchant {
        self.store
            .create_merchant(&NewMerchant { name: name.into(), ..Default::default() }, payd_store::now())
            .await
            .unwrap()
    }

    pub async fn key(&self, owner: KeyOwner, mode: Mode, scopes: &[Scope]) -> String {
        let master = MasterKey::parse(MASTER_KEY).unwrap();
        issue_key(&self.store, &master, owner, mode, scopes.to_vec())
            .await
            .unwrap()
            .secret
            .expose()
            .to_owned()
    }

    /// A key and its request-signing secret (AlpPay's `X-HMAC`).
    pub async fn key_with_signing_secret(&self, owner: KeyOwner, mode: Mode) -> (String, String) {
        let master = MasterKey::parse(MASTER_KEY).unwrap();
        let issued = issue_key(&self.store, &master, owner, mode, Vec::new()).await.unwrap();
        (issued.secret.expose().to_owned(), issued.signing_secret.expose().to_owned())
    }

    /// A merchant with a test key holding every scope.
    pub async fn merchant_with_key(&self) -> (Merchant, String) {
        let m = self.merchant("Shop").await;
        let k = self.key(KeyOwner::Merchant(m.id.clone()), Mode::Test, &[]).await;
        (m, k)
    }

    pub async fn post_raw(&self, path: &str, key: &str, body: &str, idem: Option<&str>) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url(path))
            .bearer_auth(key)
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        if let Some(k) = idem {
            req = req.header("Idempotency-Key", k);
        }
        req.send().await.unwrap()
    }

    pub async fn create_payment(&self, key: &str, body: &Value) -> (u16, Value) {
        let res = self.post_raw("/v1/payments", key, &body.to_string(), None).await;
        json(res).await
    }

    pub async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        json(self.client.get(self.url(path)).bearer_auth(key).send().await.unwrap()).await
    }
}

pub async fn json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, v)
}

/// The `error.code` of an error body.
pub fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {v}"))
}

/// Whether headless Chromium and the npm browser tools (`node_modules/<each of npm>`) are here;
/// under CI=true their absence fails the test, elsewhere it is skipped with a message.
pub fn browser_ready(npm: &[&str], other: &[(&str, bool)]) -> bool {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let chromium = std::env::var("PAYD_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing: Vec<String> = std::iter::once((chromium.as_str(), std::path::Path::new(&chromium).exists()))
        .chain(npm.iter().map(|p| (*p, root.join("node_modules").join(p).exists())))
        .chain(other.iter().copied())
        .filter(|(_, here)| !here)
        .map(|(name, _)| name.to_owned())
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(!payd_store::testing::in_ci(), "required under CI=true for the browser tests: {missing:?}");
    eprintln!("skipping: {missing:?} missing (Chromium from Debian, the rest from npm ci)");
    false
}

/// Runs a browser script (a path from the repository root) with `args` under node and
/// Chromium, and returns the JSON of its last line of output; the script failing fails the test.
pub fn run_browser_script(script: &str, args: &[String]) -> Value {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let chromium = std::env::var("PAYD_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let out = std::process::Command::new("node")
        .arg(root.join(script))
        .args(args)
        .env("PAYD_CHROMIUM", &chromium)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "{script} {} failed:\n{}\n{}",
        args.first().map_or("", String::as_str),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or(Value::Null)
}
