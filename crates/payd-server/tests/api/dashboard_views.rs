//! The dashboard's views over HTTP, on both backends: the payments-per-day chart against the
//! payments made, the money received against devnet transfers (exact), the unattributed
//! transfers shown to the operator only, the health page, and explorer links per network
//! with the configuration's refusals.

use payd_core::apikey::Mode;
use payd_core::chain::DevnetTransfer;
use payd_core::ids::AccountId;
use payd_core::merchant::{Merchant, NewMerchant};
use payd_core::secret::Secret;
use payd_core::user::Role;
use payd_server::engine::credit::scan_once;
use payd_server::engine::devnet::{self, Devnet};
use payd_server::engine::users::{self, Actor, NewUserIn};
use payd_server::keys::KeyOwner;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(
    the_chart_counts_each_days_payments_and_volume_within_reach,
    money_received_is_exact_and_unattributed_transfers_are_the_operators_only,
    the_health_page_shows_each_watcher_to_the_operator_only,
    explorer_links_follow_the_payments_network,
    the_live_status_follows_a_payment_within_reach_only,
);

const PASSWORD: &str = "correct horse battery";

async fn user(app: &TestApp, email: &str, role: Role, account: Option<&AccountId>) {
    let input =
        NewUserIn { email: email.into(), role, account: account.cloned(), password: Secret::new(PASSWORD) };
    users::create_user(&app.store, input, &Actor::Cli, payd_store::now()).await.unwrap();
}

fn field(html: &str, name: &str) -> String {
    let pat = format!("name=\"{name}\" value=\"");
    let at = html.find(&pat).unwrap_or_else(|| panic!("no {name} in {html}")) + pat.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// Logs in through the form; the session cookie.
async fn login(app: &TestApp, email: &str) -> String {
    let page = app.client.get(app.url("/dashboard/login")).send().await.unwrap();
    let nonce = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("payd_login="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = field(&page.text().await.unwrap(), "csrf");
    let res = app
        .client
        .post(app.url("/dashboard/login"))
        .header("cookie", nonce)
        .form(&[("email", email), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("payd_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let res = app.client.get(app.url(path)).header("cookie", cookie).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn shop(app: &TestApp, name: &str) -> (Merchant, String) {
    let m = app
        .store
        .create_merchant(&NewMerchant { name: name.into(), ..Default::default() }, payd_store::now())
        .await
        .unwrap();
    let key = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Test, &[]).await;
    (m, key)
}

async fn pay_native(app: &TestApp, key: &str, amount: &str, token: &str) -> Value {
    let body =
        json!({"amount": amount, "currency": "USD", "token": token, "network": "base", "expires_in": 3600});
    let (s, p) = app.create_payment(key, &body).await;
    assert_eq!(s, 201, "{p}");
    p
}

/// The value of `attr` on the first element that has `key_attr="key"`.
fn attr_of(html: &str, key: &str, attr: &str) -> Option<String> {
    let at = html.find(key)?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let pat = format!("{attr}=\"");
    let v = tag.find(&pat)? + pat.len();
    Some(tag[v..].split('"').next()?.to_owned())
}

/// Mines devnet's next block and lets the watcher credit it.
async fn mine(app: &TestApp) {
    devnet::produce_block(&app.store, payd_store::now()).await.unwrap().unwrap();
    let cfg = devnet::network_config(chrono::Duration::hours(24));
    scan_once(&app.store, &Devnet::new(app.store.clone()), &cfg, payd_store::now()).await.unwrap();
}

async fn the_chart_counts_each_days_payments_and_volume_within_reach(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    let (_, other_key) = shop(&app, "Other").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    for amount in ["25.00", "25.00", "10.5", "0.01"] {
        pay_native(&app, &key, amount, "USDC").await;
    }
    // Another account's payment counts for nobody here.
    pay_native(&app, &other_key, "999.00", "USDC").await;
    let cookie = login(&app, "ann@example.com").await;
    let today = payd_store::now().date_naive().to_string();
    let day = format!("data-day=\"{today}\"");

    let (status, html) = get(&app, &cookie, "/dashboard/payments?mode=test").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<svg") && html.contains("role=\"img\"") && html.contains("<desc"), "{html}");
    assert_eq!(attr_of(&html, &day, "data-payments").as_deref(), Some("4"));
    assert_eq!(attr_of(&html, &day, "data-usd").as_deref(), Some("60.51"));
    // 30 days by default, every other one empty.
    assert_eq!(html.matches("<rect").count(), 60, "two plots of 30 days");
    assert_eq!(html.matches("data-payments=\"0\"").count(), 58);
    assert!(html.contains("4 payment(s) worth 60.51 USD"), "{html}");

    // The filter applies: a status no payment has, then a range without today.
    let (_, html) = get(&app, &cookie, "/dashboard/payments?mode=test&status=completed").await;
    assert_eq!(attr_of(&html, &day, "data-payments").as_deref(), Some("0"));
    let (_, html) = get(&app, &cookie, "/dashboard/payments?mode=test&from=2024-01-01&to=2024-01-07").await;
    assert_eq!(html.matches("<rect").count(), 14, "{html}");
    assert!(!html.contains(&day));
    // A range longer than a year is cut to its last 366 days.
    let (_, html) = get(&app, &cookie, "/dashboard/payments?mode=test&from=2000-01-01").await;
    assert_eq!(html.matches("<rect").count(), 2 * 366);
    assert_eq!(attr_of(&html, &day, "data-payments").as_deref(), Some("4"));
    // Live mode has none; a bad date is refused, not a 500.
    let (_, html) = get(&app, &cookie, "/dashboard/payments?mode=live").await;
    assert_eq!(attr_of(&html, &day, "data-payments").as_deref(), Some("0"));
    assert_eq!(get(&app, &cookie, "/dashboard/payments?mode=test&from=2024-13-01").await.0, 400);
}

async fn money_received_is_exact_and_unattributed_transfers_are_the_operators_only(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    let (other, _) = shop(&app, "Other").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    user(&app, "olaf@example.com", Role::Admin, Some(&other.account_id)).await;
    user(&app, "op@example.com", Role::Operator, None).await;
    let a = pay_native(&app, &key, "25.00", "USDC").await;
    let b = pay_native(&app, &key, "10.00", "USDT").await;
    let pa = app.store.get_payment(&a["id"].as_str().unwrap().parse().unwrap()).await.unwrap().unwrap();
    let pb = app.store.get_payment(&b["id"].as_str().unwrap().parse().unwrap()).await.unwrap().unwrap();
    devnet::pay(&app.store, &pa, Some(25_000_001), payd_store::now()).await.unwrap();
    devnet::pay(&app.store, &pa, Some(3), payd_store::now()).await.unwrap();
    devnet::pay(&app.store, &pb, Some(1_234_567), payd_store::now()).await.unwrap();
    // USDT sent to the USDC payment's address: seen, credited to nothing.
    let wrong = DevnetTransfer {
        tx_hash: format!("0x{}", "ab".repeat(32)),
        token: "USDT".into(),
        from: "0x000000000000000000000000000000000000fa11".into(),
        to: pa.asset.as_ref().unwrap().address.clone().unwrap(),
        amount: 777,
        block: None,
        log_index: None,
    };
    app.store.devnet_submit(&wrong, payd_store::now()).await.unwrap();
    mine(&app).await;

    let ann = login(&app, "ann@example.com").await;
    let (status, html) = get(&app, &ann, "/dashboard/money?mode=test").await;
    assert_eq!(status, 200, "{html}");
    let usdc = "data-network=\"devnet\" data-token=\"USDC\"";
    let usdt = "data-network=\"devnet\" data-token=\"USDT\"";
    assert_eq!(attr_of(&html, usdc, "data-received").as_deref(), Some("25000004"));
    assert_eq!(
        attr_of(&html, usdt, "data-received").as_deref(),
        Some("1234567"),
        "the stray USDT is not counted"
    );
    assert!(html.contains("25.000004 USDC") && html.contains("1.234567 USDT"), "{html}");
    // One block deep: received, not yet confirmed (the payment asks for its network's depth).
    assert_eq!(attr_of(&html, usdc, "data-confirmed").as_deref(), Some("0"));
    for _ in 1..pa.asset.as_ref().unwrap().confirmations {
        mine(&app).await;
    }
    let (_, html) = get(&app, &ann, "/dashboard/money?mode=test").await;
    assert_eq!(attr_of(&html, usdc, "data-confirmed").as_deref(), Some("25000004"));
    assert!(!html.contains("unattributed"), "an admin does not see unattributed transfers");
    let (_, html) = get(&app, &ann, "/dashboard/money?mode=live").await;
    assert!(html.contains("Nothing received in live mode"), "{html}");

    // Another account's admin sees neither the money nor the stray transfer.
    let olaf = login(&app, "olaf@example.com").await;
    let (_, html) = get(&app, &olaf, "/dashboard/money?mode=test").await;
    assert!(!html.contains(usdc) && !html.contains(&wrong.tx_hash), "{html}");

    // The operator sees every account's totals and the stray transfer, with why.
    let op = login(&app, "op@example.com").await;
    let (_, html) = get(&app, &op, "/dashboard/money?mode=test").await;
    assert_eq!(attr_of(&html, usdc, "data-received").as_deref(), Some("25000004"));
    assert!(html.contains("id=\"unattributed\""), "{html}");
    assert!(html.contains(&wrong.tx_hash) && html.contains("0.000777 USDT"), "{html}");
    assert!(
        html.contains("a token other than the payment&#39;s")
            || html.contains("a token other than the payment's"),
        "{html}"
    );
    assert!(html.contains("1 transfer(s)"), "{html}");
    let (_, html) = get(&app, &op, "/dashboard/money?mode=live").await;
    assert!(html.contains("0 transfer(s)") && !html.contains(&wrong.tx_hash), "{html}");
    // Bad query values are refused by name.
    assert_eq!(get(&app, &op, "/dashboard/money?mode=test&page=0").await.0, 400);
    assert_eq!(get(&app, &op, "/dashboard/money?mode=nope").await.0, 400);
    // Without a session: the login page.
    let res = app.client.get(app.url("/dashboard/money")).send().await.unwrap();
    assert_eq!(res.status(), 303);
}

async fn the_health_page_shows_each_watcher_to_the_operator_only(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    user(&app, "op@example.com", Role::Operator, None).await;
    let p = pay_native(&app, &key, "25.00", "USDC").await;
    let p = app.store.get_payment(&p["id"].as_str().unwrap().parse().unwrap()).await.unwrap().unwrap();
    devnet::pay(&app.store, &p, None, payd_store::now()).await.unwrap();
    mine(&app).await;

    let ann = login(&app, "ann@example.com").await;
    assert_eq!(get(&app, &ann, "/dashboard/health").await.0, 404);
    let (_, html) = get(&app, &ann, "/dashboard/payments").await;
    assert!(!html.contains("/dashboard/health"), "no link for an admin");

    let op = login(&app, "op@example.com").await;
    let (status, html) = get(&app, &op, "/dashboard/health").await;
    assert_eq!(status, 200, "{html}");
    let cursor = app.store.chain_cursor("devnet").await.unwrap().unwrap();
    assert_eq!(
        attr_of(&html, "data-network=\"devnet\"", "data-cursor"),
        Some(cursor.number.to_string()),
        "{html}"
    );
    assert!(attr_of(&html, "data-network=\"devnet\"", "data-lag-seconds")
        .is_some_and(|s| s.parse::<i64>().is_ok()));
    assert_eq!(attr_of(&html, "id=\"webhook-queue\"", "data-depth").as_deref(), Some("0"));
    let backend = match app.store.backend() {
        payd_store::Backend::Sqlite => "SQLite",
        payd_store::Backend::Postgres => "PostgreSQL",
    };
    assert!(html.contains(&format!("Backend: <strong>{backend}</strong>")), "{html}");
    assert!(html.contains("none on this node"), "no watcher error yet");

    // What this node's watcher measures and the errors it meets (as the worker reports them).
    let metrics = &app.state.metrics;
    metrics.watcher("devnet", cursor.number + 3, Some(cursor.number), Some(chrono::Duration::seconds(7)));
    metrics.watcher_failed("devnet", &"rpc: connection refused", payd_store::now());
    let (_, html) = get(&app, &op, "/dashboard/health").await;
    let row = "data-network=\"devnet\"";
    assert_eq!(attr_of(&html, row, "data-lag-blocks").as_deref(), Some("3"));
    assert_eq!(attr_of(&html, row, "data-lag-seconds").as_deref(), Some("7"));
    assert!(html.contains(&format!("<td class=\"num\">{}</td>", cursor.number + 3)), "the head: {html}");
    assert!(html.contains("rpc: connection refused"), "{html}");
    assert!(html.contains("href=\"/dashboard/health\""), "the operator's nav links it");
}

async fn explorer_links_follow_the_payments_network(app: TestApp) {
    let (_, key) = shop(&app, "Shop").await;
    user(&app, "op@example.com", Role::Operator, None).await;
    let test = pay_native(&app, &key, "25.00", "USDC").await;
    let op = login(&app, "op@example.com").await;
    // A test payment is paid on devnet: no explorer has it.
    let (_, html) = get(&app, &op, &format!("/dashboard/payments/{}", test["id"].as_str().unwrap())).await;
    assert!(!html.contains("rel=\"noopener noreferrer\""), "{html}");

    // Live transfers on well-known networks, as their watchers record them (no node needed).
    let tx = format!("0x{}", "cd".repeat(32));
    let to_evm = "0x00000000000000000000000000000000000000e1";
    let to_tron = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
    for (network, to) in [("base", to_evm), ("bsc", to_evm), ("tron", to_tron)] {
        let t = payd_store::chain::NewTransfer {
            network: network.into(),
            tx_hash: tx.clone(),
            log_index: 0,
            token: "USDT".into(),
            from: to_evm.into(),
            to: to.into(),
            amount: 1_000_000_000_000_000_001,
            block: payd_store::chain::BlockRef { number: 7, hash: "0xb7".into() },
            block_time: payd_store::now(),
            payment_id: None,
            note: Some("an address payd does not watch".into()),
        };
        let commit = payd_store::chain::ScanCommit {
            network: network.into(),
            expected: None,
            cursor: t.block.clone(),
            cursor_time: payd_store::now(),
            blocks: vec![t.block.clone()],
            transfers: vec![t],
            head: 7,
            finalized: None,
            confirmations: 1,
            keep_blocks: 128,
            now: payd_store::now(),
        };
        app.store.commit_scan(&commit).await.unwrap();
    }
    let (_, html) = get(&app, &op, "/dashboard/money?mode=live").await;
    for href in [
        format!("https://basescan.org/tx/{tx}"),
        format!("https://basescan.org/address/{to_evm}"),
        format!("https://bscscan.com/tx/{tx}"),
        format!("https://tronscan.org/#/transaction/{tx}"),
        format!("https://tronscan.org/#/address/{to_tron}"),
    ] {
        assert!(html.contains(&format!("href=\"{href}\" rel=\"noopener noreferrer\"")), "{href} in {html}");
    }
    // BSC's USDT has 18 decimals, Tron's 6: each amount in its token's whole units.
    assert!(
        html.contains("1.000000000000000001 USDT") && html.contains("1000000000000.000001 USDT"),
        "{html}"
    );

    // A configured network's templates are checked at load; a missing one is payd's default.
    let bad = [
        (r#"{"explorer_tx": "http://scan.example/tx/{hash}"}"#, "explorer_tx must be an https:// URL"),
        (r#"{"explorer_tx": "https://scan.example/tx/"}"#, "explorer_tx must hold {hash} exactly once"),
        (
            r#"{"explorer_address": "https://scan.example/{address}/{address}"}"#,
            "explorer_address must hold {address} exactly once",
        ),
        (
            r#"{"explorer_address": "https://scan.example/{hash}/{address}"}"#,
            "explorer_address may hold no placeholder but {address}",
        ),
    ];
    let network = |extra: &str| {
        let mut v: Value = serde_json::from_str(
            r#"{"name": "base", "chain_id": 8453, "rpc_url": "https://rpc.example", "tokens": [{"symbol": "USDC", "contract": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "decimals": 6}]}"#,
        )
        .unwrap();
        v.as_object_mut()
            .unwrap()
            .extend(serde_json::from_str::<Value>(extra).unwrap().as_object().unwrap().clone());
        json!([v]).to_string()
    };
    for (extra, why) in bad {
        let sections = payd_server::config::networks::from_json(&network(extra)).unwrap();
        let mut errors = Vec::new();
        let nets = payd_server::config::networks::validate(sections, &mut errors);
        assert!(nets.is_empty() && errors.iter().any(|e| e.contains(why)), "{extra}: {errors:?}");
    }
    let sections = payd_server::config::networks::from_json(&network(
        r#"{"explorer_tx": "https://blockscout.example/tx/{hash}"}"#,
    ))
    .unwrap();
    let mut errors = Vec::new();
    let nets = payd_server::config::networks::validate(sections, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(nets[0].explorer.tx.as_deref(), Some("https://blockscout.example/tx/{hash}"));
    assert_eq!(nets[0].explorer.address.as_deref(), Some("https://basescan.org/address/{address}"));
}

async fn the_live_status_follows_a_payment_within_reach_only(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    let (other, _) = shop(&app, "Other").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    user(&app, "olaf@example.com", Role::Admin, Some(&other.account_id)).await;
    let p = pay_native(&app, &key, "25.00", "USDC").await;
    let id = p["id"].as_str().unwrap().to_owned();
    let live = format!("/dashboard/payments/{id}/live");
    let ann = login(&app, "ann@example.com").await;

    // The page runs payd's one script, and only this page allows it.
    let res = app
        .client
        .get(app.url(&format!("/dashboard/payments/{id}")))
        .header("cookie", &ann)
        .send()
        .await
        .unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"), "{csp}");
    let html = res.text().await.unwrap();
    assert!(html.contains(&format!("data-live=\"{live}\"")), "{html}");
    let script = html.split("<script src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(script.starts_with("/assets/dashboard.") && script.ends_with(".js"), "{script}");
    let js = app.client.get(app.url(&script)).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let list = app.client.get(app.url("/dashboard/payments")).header("cookie", &ann).send().await.unwrap();
    assert!(list.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'none'"));

    let read = |cookie: String| {
        let app = &app;
        let live = live.clone();
        async move {
            let res = app.client.get(app.url(&live)).header("cookie", cookie).send().await.unwrap();
            let status = res.status().as_u16();
            let cache = res.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
            let body: Value = res.json().await.unwrap();
            (status, cache, body)
        }
    };
    let (status, cache, before) = read(ann.clone()).await;
    assert_eq!((status, cache.as_deref()), (200, Some("no-store")));
    assert_eq!(before["status"], "pending");
    assert_eq!(before["transfers"].as_array().unwrap().len(), 0);

    // Paid on devnet and mined deep enough: the same request now says so.
    let payment = app.store.get_payment(&id.parse().unwrap()).await.unwrap().unwrap();
    let sent = devnet::pay(&app.store, &payment, None, payd_store::now()).await.unwrap();
    mine(&app).await;
    let (_, _, body) = read(ann.clone()).await;
    assert_eq!(body["received_pending_units"], "25000000", "{body}");
    assert_eq!(body["transfers"][0]["tx_hash"], sent.tx_hash.as_str());
    assert_eq!(body["transfers"][0]["confirmations"], 1);
    for _ in 1..payment.asset.as_ref().unwrap().confirmations {
        mine(&app).await;
    }
    let (_, _, after) = read(ann.clone()).await;
    assert_eq!(after["status"], "completed", "{after}");
    assert_eq!(after["received_confirmed_units"], "25000000");
    assert_eq!(after["received_confirmed"], "25 USDC");
    assert_eq!(after["transfers"][0]["state"], "confirmed");
    assert_ne!(before, after);

    // Another account's admin, a guessed id and no session are refused.
    let olaf = login(&app, "olaf@example.com").await;
    assert_eq!(read(olaf.clone()).await.0, 404);
    let res = app
        .client
        .get(app.url("/dashboard/payments/pay_nope/live"))
        .header("cookie", &ann)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app.client.get(app.url(&live)).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

// ---- In a real browser (SQLite: the pages do not depend on the backend) ----

/// An operator reads the chart, watches a payment's page turn completed without a reload, and
/// reads the money and health pages, in headless Chromium (tests/dashboard/views.mjs), with
/// axe-core on every page and screenshots at 360 and 1280 px under target/tmp/dashboard-views.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_views_render_and_a_payment_page_follows_its_payment_in_the_browser() {
    if !crate::helpers::browser_ready(&["playwright-core", "@axe-core"], &[]) {
        return;
    }
    // devnet mines and credits by itself, as in production.
    let app = crate::helpers::spawn_app_with(payd_store::Backend::Sqlite, &[("PAYD_DEVNET_BLOCK_MS", "200")])
        .await
        .unwrap();
    let (_, key) = shop(&app, "Browser Shop").await;
    user(&app, "op@example.com", Role::Operator, None).await;
    let p = pay_native(&app, &key, "25.00", "USDC").await;
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-views");
    let params = json!({
        "url": app.address, "email": "op@example.com", "password": PASSWORD,
        "paymentId": p["id"], "due": "25 USDC", "dueUnits": "25000000",
        "shots": shots.to_string_lossy(),
    });
    crate::helpers::run_browser_script("crates/payd-server/tests/dashboard/views.mjs", &[params.to_string()]);
    let paid = app.store.get_payment(&p["id"].as_str().unwrap().parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(paid.status.as_str(), "completed");
    for name in ["chart", "payment-live", "money", "health"] {
        for width in [360, 1280] {
            assert!(shots.join(format!("{name}-{width}.png")).exists(), "{name}-{width}.png");
        }
    }
}
