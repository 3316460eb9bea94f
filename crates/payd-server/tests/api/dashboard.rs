//! The merchant dashboard over HTTP, on both backends: logging in (wrong password, lockout,
//! the login rate limit), sessions (expiry, logout, log out everywhere, cookie attributes),
//! CSRF and cross-site posts refused, viewers refused on every post, no user seeing another
//! account's payments (guessed ids included), the search by every API's kind of id and by
//! address and transaction hash, the filters, the CSV export's content, cancel and redeliver
//! with their audit lines, and `payd user create`.

use payd_core::apikey::Mode;
use payd_core::ids::{AccountId, PaymentId};
use payd_core::merchant::{Merchant, NewMerchant};
use payd_core::secret::Secret;
use payd_core::user::Role;
use payd_server::engine::credit::scan_once;
use payd_server::engine::devnet::{self, Devnet};
use payd_server::engine::users::{self, Actor, NewUserIn};
use payd_server::keys::KeyOwner;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{browser_ready, json as json_of, run_browser_script, spawn_app_with, TestApp};

backend_tests!(
    a_wrong_password_is_refused_and_repeated_ones_lock_the_user_out,
    login_attempts_are_rate_limited_per_address_and_email,
    sessions_expire_and_log_out_everywhere_ends_them_all,
    posts_without_the_form_token_or_from_another_site_are_refused,
    a_viewer_sees_but_every_post_is_refused,
    no_user_sees_another_accounts_payments_even_by_guessing_ids,
    the_search_finds_a_payment_by_each_apis_id_and_on_chain_data,
    filters_and_the_csv_export_hold_exactly_the_selected_payments,
    the_pages_carry_a_strict_policy_and_unknown_paths_get_html,
    the_cli_creates_users_who_log_in,
    api_keys_are_shown_once_and_a_revoked_key_is_refused_at_once,
    webhook_endpoints_are_registered_changed_and_deleted_within_reach,
    settings_show_an_xpubs_addresses_before_saving_it,
);

// No dispatcher: the delivery waits, so a redeliver never meets it in flight.
crate::webhook_tests!(&[("PAYD_WEBHOOKS_CONCURRENCY", "0")];
    an_admin_cancels_and_redelivers_and_the_audit_log_says_so,
);

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) async fn user(app: &TestApp, email: &str, role: Role, account: Option<&AccountId>) {
    let input =
        NewUserIn { email: email.into(), role, account: account.cloned(), password: Secret::new(PASSWORD) };
    users::create_user(&app.store, input, &Actor::Cli, payd_store::now()).await.unwrap();
}

/// A logged-in browser: its session cookie and the form token of its pages.
pub(crate) struct Browser {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(ToOwned::to_owned)
}

pub(crate) fn field(html: &str, name: &str) -> String {
    let pat = format!("name=\"{name}\" value=\"");
    let at = html.find(&pat).unwrap_or_else(|| panic!("no {name} in {html}")) + pat.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// Opens the login page and posts the form.
async fn try_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let page = app.client.get(app.url("/dashboard/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let nonce = set_cookie(&page, "payd_login").unwrap();
    let nonce = nonce.split(';').next().unwrap().to_owned();
    let csrf = field(&page.text().await.unwrap(), "csrf");
    app.client
        .post(app.url("/dashboard/login"))
        .header("cookie", nonce)
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
}

pub(crate) async fn login(app: &TestApp, email: &str) -> Browser {
    let res = try_login(app, email, PASSWORD).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let cookie = set_cookie(&res, "payd_session").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let mut b = Browser { cookie, csrf: String::new() };
    let (status, html) = get(app, &b, "/dashboard/payments?mode=test").await;
    assert_eq!(status, 200, "{html}");
    b.csrf = field(&html, "csrf");
    b
}

pub(crate) async fn get(app: &TestApp, b: &Browser, path: &str) -> (u16, String) {
    let res = app.client.get(app.url(path)).header("cookie", &b.cookie).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

pub(crate) async fn post(app: &TestApp, b: &Browser, path: &str, csrf: Option<&str>) -> u16 {
    let mut form = vec![];
    if let Some(c) = csrf {
        form.push(("csrf", c.to_owned()));
    }
    let res = app.client.post(app.url(path)).header("cookie", &b.cookie).form(&form).send().await.unwrap();
    res.status().as_u16()
}

pub(crate) async fn shop(app: &TestApp, name: &str) -> (Merchant, String) {
    let m = app
        .store
        .create_merchant(&NewMerchant { name: name.into(), ..Default::default() }, payd_store::now())
        .await
        .unwrap();
    let key = app.key(KeyOwner::Merchant(m.id.clone()), Mode::Test, &[]).await;
    (m, key)
}

async fn pay_native(app: &TestApp, key: &str, extra: Value) -> Value {
    let mut body =
        json!({"amount": "25.00", "currency": "USD", "token": "USDC", "network": "base", "expires_in": 3600});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let (s, p) = app.create_payment(key, &body).await;
    assert_eq!(s, 201, "{p}");
    p
}

async fn status_of(app: &TestApp, id: &str) -> String {
    let p = app.store.get_payment(&id.parse::<PaymentId>().unwrap()).await.unwrap().unwrap();
    p.status.as_str().to_owned()
}

async fn a_wrong_password_is_refused_and_repeated_ones_lock_the_user_out(app: TestApp) {
    let (m, _) = shop(&app, "Shop").await;
    user(&app, "Ann@Example.com", Role::Admin, Some(&m.account_id)).await;
    let res = try_login(&app, "ann@example.com", "wrong password!").await;
    assert_eq!(res.status(), 401);
    assert!(set_cookie(&res, "payd_session").is_none());
    let body = res.text().await.unwrap();
    assert!(body.contains("Wrong email or password"), "{body}");
    // An unknown email gets the same answer.
    let res = try_login(&app, "nobody@example.com", PASSWORD).await;
    assert_eq!(res.status(), 401);
    // The email is matched whatever its case.
    login(&app, "ANN@example.com").await;
    // Five wrong passwords in a row lock the user: the right one is refused after them.
    for _ in 0..users::MAX_FAILURES {
        assert_eq!(try_login(&app, "ann@example.com", "wrong password!").await.status(), 401);
    }
    let res = try_login(&app, "ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), 401);
    assert!(set_cookie(&res, "payd_session").is_none());
    let log = app.store.audit_log(Some(&m.account_id), 50).await.unwrap();
    assert_eq!(log.iter().filter(|l| l.action == "login.failed").count(), 6, "{log:?}");
    assert!(log.iter().any(|l| l.action == "login.refused_locked"));
    assert!(log.iter().any(|l| l.action == "session.login"));
}

async fn login_attempts_are_rate_limited_per_address_and_email(app: TestApp) {
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(try_login(&app, "guess@example.com", "not the password").await.status().as_u16());
    }
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(statuses[11], 429, "{statuses:?}");
    // Another email from the same address has its own allowance.
    assert_eq!(try_login(&app, "other@example.com", "not the password").await.status(), 401);
}

async fn sessions_expire_and_log_out_everywhere_ends_them_all(app: TestApp) {
    let (m, _) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let phone = login(&app, "ann@example.com").await;
    let laptop = login(&app, "ann@example.com").await;
    let desk = login(&app, "ann@example.com").await;
    // Logging out ends that session only.
    assert_eq!(post(&app, &desk, "/dashboard/logout", Some(&desk.csrf)).await, 303);
    let res =
        app.client.get(app.url("/dashboard/payments")).header("cookie", &desk.cookie).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/dashboard/login");
    assert_eq!(get(&app, &phone, "/dashboard/payments").await.0, 200);
    // Log out everywhere from the laptop: the phone is logged out too.
    assert_eq!(post(&app, &laptop, "/dashboard/logout-everywhere", Some(&laptop.csrf)).await, 303);
    assert_eq!(get(&app, &phone, "/dashboard/payments").await.0, 303);
    assert_eq!(get(&app, &laptop, "/dashboard/payments").await.0, 303);
    // A session past its expiry opens nothing.
    let later = login(&app, "ann@example.com").await;
    assert_eq!(get(&app, &later, "/dashboard/payments").await.0, 200);
    let past = payd_store::now().timestamp_millis() - 1;
    match &app.store {
        payd_store::Store::Sqlite(p, _) => {
            sqlx::query("UPDATE sessions SET expires_at = $1").bind(past).execute(p).await.unwrap();
        }
        payd_store::Store::Postgres(p, _) => {
            sqlx::query("UPDATE sessions SET expires_at = $1").bind(past).execute(p).await.unwrap();
        }
    }
    assert_eq!(get(&app, &later, "/dashboard/payments").await.0, 303);
    // A made-up cookie opens nothing either.
    let forged = Browser { cookie: format!("payd_session={}", "ab".repeat(32)), csrf: String::new() };
    assert_eq!(get(&app, &forged, "/dashboard/payments").await.0, 303);
    assert_eq!(post(&app, &forged, "/dashboard/logout", Some("x")).await, 401);
}

async fn posts_without_the_form_token_or_from_another_site_are_refused(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let p = pay_native(&app, &key, json!({})).await;
    let id = p["id"].as_str().unwrap();
    let path = format!("/dashboard/payments/{id}/cancel");
    assert_eq!(post(&app, &b, &path, None).await, 403);
    assert_eq!(post(&app, &b, &path, Some("00")).await, 403);
    let another = login(&app, "ann@example.com").await;
    // Another session's token is not this one's.
    assert_ne!(another.csrf, b.csrf);
    assert_eq!(post(&app, &b, &path, Some(&another.csrf)).await, 403);
    // The right token from another site's page.
    let res = app
        .client
        .post(app.url(&path))
        .header("cookie", &b.cookie)
        .header("origin", "https://evil.example")
        .form(&[("csrf", b.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .client
        .post(app.url(&path))
        .header("cookie", &b.cookie)
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", b.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(status_of(&app, id).await, "pending");
    // The login form is guarded too: without its nonce cookie, refused.
    let res = app
        .client
        .post(app.url("/dashboard/login"))
        .form(&[("email", "ann@example.com"), ("password", PASSWORD), ("csrf", "00")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // With everything right, the cancel goes through.
    assert_eq!(post(&app, &b, &path, Some(&b.csrf)).await, 303);
    assert_eq!(status_of(&app, id).await, "cancelled");
}

async fn a_viewer_sees_but_every_post_is_refused(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    user(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    let b = login(&app, "val@example.com").await;
    let p = pay_native(&app, &key, json!({})).await;
    let id = p["id"].as_str().unwrap();
    let (status, html) = get(&app, &b, &format!("/dashboard/payments/{id}")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("Cancel payment"), "a viewer is not offered the button");
    let dlv = payd_core::ids::DeliveryId::new();
    for path in [
        format!("/dashboard/payments/{id}/cancel"),
        format!("/dashboard/payments/{id}/deliveries/{dlv}/redeliver"),
    ] {
        assert_eq!(post(&app, &b, &path, Some(&b.csrf)).await, 403, "{path}");
    }
    assert_eq!(status_of(&app, id).await, "pending");
    assert!(!app.store.audit_log(None, 50).await.unwrap().iter().any(|l| l.action == "payment.cancel"));
}

async fn no_user_sees_another_accounts_payments_even_by_guessing_ids(app: TestApp) {
    let (mine, my_key) = shop(&app, "Mine").await;
    let (theirs, their_key) = shop(&app, "Theirs").await;
    user(&app, "ann@example.com", Role::Admin, Some(&mine.account_id)).await;
    user(&app, "op@example.com", Role::Operator, None).await;
    let b = login(&app, "ann@example.com").await;
    let own = pay_native(&app, &my_key, json!({"reference": "shared-ref"})).await;
    let other = pay_native(&app, &their_key, json!({"reference": "shared-ref"})).await;
    let other_id = other["id"].as_str().unwrap();
    // Their payment's page, a guessed id and a malformed one: the same 404.
    for path in [
        format!("/dashboard/payments/{other_id}"),
        format!("/dashboard/payments/{}", PaymentId::new()),
        "/dashboard/payments/nonsense".to_owned(),
    ] {
        let (status, html) = get(&app, &b, &path).await;
        assert_eq!(status, 404, "{path}");
        assert!(!html.contains("Theirs"));
    }
    assert_eq!(post(&app, &b, &format!("/dashboard/payments/{other_id}/cancel"), Some(&b.csrf)).await, 404);
    assert_eq!(status_of(&app, other_id).await, "pending");
    // Not in the list, the search or the export either.
    for path in [
        "/dashboard/payments?mode=test".to_owned(),
        format!("/dashboard/payments?mode=test&q={other_id}"),
        "/dashboard/payments?mode=test&q=shared-ref".to_owned(),
        "/dashboard/payments.csv?mode=test".to_owned(),
    ] {
        let (status, body) = get(&app, &b, &path).await;
        assert_eq!(status, 200, "{path}");
        // The search box shows what was typed; no row, link or CSV line holds the payment.
        assert!(!body.contains(&format!("/dashboard/payments/{other_id}")), "{path}");
        assert!(!body.contains(&format!("{other_id},")), "{path}");
        assert!(!body.contains("Theirs") && !body.contains(theirs.id.to_string().as_str()), "{path}");
    }
    let (_, body) = get(&app, &b, "/dashboard/payments?mode=test&q=shared-ref").await;
    assert!(body.contains(&format!("/dashboard/payments/{}", own["id"].as_str().unwrap())));
    // The operator sees both accounts.
    let op = login(&app, "op@example.com").await;
    let (_, body) = get(&app, &op, "/dashboard/payments?mode=test&q=shared-ref").await;
    assert!(body.contains(&format!("/dashboard/payments/{other_id}")));
    assert!(body.contains(&format!("/dashboard/payments/{}", own["id"].as_str().unwrap())));
    assert_eq!(get(&app, &op, &format!("/dashboard/payments/{other_id}")).await.0, 200);
}

async fn the_search_finds_a_payment_by_each_apis_id_and_on_chain_data(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let p = pay_native(
        &app,
        &key,
        json!({"reference": "REF-77", "external_id": "order-77", "invoice": "INV-77", "customer": {"email": "carol@example.com"}}),
    )
    .await;
    let noise = pay_native(&app, &key, json!({"reference": "REF-78"})).await;
    let id = p["id"].as_str().unwrap();
    let payment = app.store.get_payment(&id.parse().unwrap()).await.unwrap().unwrap();
    let address = payment.asset.as_ref().unwrap().address.clone().unwrap();
    let sent = devnet::pay(&app.store, &payment, Some(1_000_000), payd_store::now()).await.unwrap();
    devnet::produce_block(&app.store, payd_store::now()).await.unwrap().unwrap();
    let cfg = devnet::network_config(chrono::Duration::hours(24));
    scan_once(&app.store, &Devnet::new(app.store.clone()), &cfg, payd_store::now()).await.unwrap();
    let uuid = payment.id.uuid();
    let terms = [
        id.to_owned(),                 // native, MutoPay, Paygentic
        uuid.simple().to_string(),     // AlpPay's bare UUID
        uuid.hyphenated().to_string(), // … hyphenated
        payment.slug.clone(),          // AstraPay's short id
        "REF-77".into(),               // reference
        "order-77".into(),             // order id
        "INV-77".into(),               // invoice
        "carol@example.com".into(),    // customer email
        address.clone(),               // deposit address as stored
        address.to_lowercase(),        // … as a wallet may print it
        sent.tx_hash.clone(),          // the customer's transaction
    ];
    for term in terms {
        let q: String = url::form_urlencoded::byte_serialize(term.as_bytes()).collect();
        let (status, html) = get(&app, &b, &format!("/dashboard/payments?mode=test&q={q}")).await;
        assert_eq!(status, 200, "{term}");
        assert!(html.contains(&format!("/dashboard/payments/{id}")), "search {term} misses the payment");
        let noise_link = format!("/dashboard/payments/{}", noise["id"].as_str().unwrap());
        assert!(!html.contains(&noise_link), "search {term} finds another payment");
    }
    // In live mode the test payment is not listed.
    let (_, html) = get(&app, &b, &format!("/dashboard/payments?mode=live&q={id}")).await;
    assert!(!html.contains(&format!("/dashboard/payments/{id}")));
    // Its page shows the transfer and the amounts.
    let (status, html) = get(&app, &b, &format!("/dashboard/payments/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&sent.tx_hash) && html.contains("payment.created"), "{html}");
    assert!(html.contains(&format!("/checkout/{}", payment.slug)));
}

async fn filters_and_the_csv_export_hold_exactly_the_selected_payments(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let open = pay_native(&app, &key, json!({"reference": "open, \"quoted\""})).await;
    let cancelled = pay_native(&app, &key, json!({"reference": "gone"})).await;
    let polygon = pay_native(&app, &key, json!({"network": "polygon", "reference": "poly"})).await;
    payd_server::engine::cancel_payment(&app.store, &cancelled["id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap();
    let ids = |body: &str| -> Vec<&str> {
        [&open, &cancelled, &polygon]
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .filter(|i| body.contains(i))
            .collect()
    };
    let (_, html) = get(&app, &b, "/dashboard/payments?mode=test&status=cancelled").await;
    assert_eq!(ids(&html), vec![cancelled["id"].as_str().unwrap()]);
    let (_, html) = get(&app, &b, "/dashboard/payments?mode=test&network=polygon").await;
    assert_eq!(ids(&html), vec![polygon["id"].as_str().unwrap()]);
    let (_, html) = get(&app, &b, "/dashboard/payments?mode=test&overpaid=1").await;
    assert!(ids(&html).is_empty());
    let today = payd_store::now().date_naive();
    let (_, html) = get(&app, &b, &format!("/dashboard/payments?mode=test&from={today}&to={today}")).await;
    assert_eq!(ids(&html).len(), 3);
    let (_, html) =
        get(&app, &b, &format!("/dashboard/payments?mode=test&to={}", today.pred_opt().unwrap())).await;
    assert!(ids(&html).is_empty());
    let (status, html) = get(&app, &b, "/dashboard/payments?mode=test&status=bogus").await;
    assert_eq!(status, 400);
    assert!(html.contains("status"));
    // The export of a filter: its header and exactly the selected rows, amounts exact.
    let res = app
        .client
        .get(app.url("/dashboard/payments.csv?mode=test&network=base"))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(ToOwned::to_owned).collect();
    assert_eq!(&header[..5], ["id", "created_at", "mode", "merchant_id", "status"]);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "{text}");
    // Newest first.
    assert_eq!(&rows[0][col("id")], cancelled["id"].as_str().unwrap());
    assert_eq!(&rows[0][col("status")], "cancelled");
    assert_eq!(&rows[1][col("id")], open["id"].as_str().unwrap());
    assert_eq!(&rows[1][col("reference")], "open, \"quoted\"");
    assert_eq!(&rows[1][col("price_amount")], "25.00");
    assert_eq!(&rows[1][col("amount_due")], "25.000000");
    assert_eq!(&rows[1][col("token")], "USDC");
    assert_eq!(&rows[1][col("network")], "base");
    assert_eq!(&rows[1][col("mode")], "test");
    // Without a session, no export.
    let res = app.client.get(app.url("/dashboard/payments.csv?mode=test")).send().await.unwrap();
    assert_eq!(res.status(), 303);
}

async fn an_admin_cancels_and_redelivers_and_the_audit_log_says_so(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let body = json!({"url": "https://hooks.example/payd"}).to_string();
    let (s, hook) = json_of(app.post_raw("/v1/webhook_endpoints", &key, &body, None).await).await;
    assert_eq!(s, 201, "{hook}");
    let p = pay_native(&app, &key, json!({})).await;
    let id = p["id"].as_str().unwrap();
    let (status, html) = get(&app, &b, &format!("/dashboard/payments/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Cancel payment"));
    let delivery = field(&html, "csrf");
    assert_eq!(delivery, b.csrf);
    let dlv = html
        .split("/deliveries/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("a delivery with a redeliver button")
        .to_owned();
    assert_eq!(
        post(&app, &b, &format!("/dashboard/payments/{id}/deliveries/{dlv}/redeliver"), Some(&b.csrf)).await,
        303
    );
    // A delivery of another payment is not redelivered through this one.
    let other = pay_native(&app, &key, json!({})).await;
    let other_id = other["id"].as_str().unwrap();
    assert_eq!(
        post(&app, &b, &format!("/dashboard/payments/{other_id}/deliveries/{dlv}/redeliver"), Some(&b.csrf))
            .await,
        404
    );
    assert_eq!(post(&app, &b, &format!("/dashboard/payments/{id}/cancel"), Some(&b.csrf)).await, 303);
    assert_eq!(status_of(&app, id).await, "cancelled");
    // A second cancel is refused by the engine's rule.
    assert_eq!(post(&app, &b, &format!("/dashboard/payments/{id}/cancel"), Some(&b.csrf)).await, 409);
    let log = app.store.audit_log(Some(&m.account_id), 50).await.unwrap();
    let cancel = log.iter().find(|l| l.action == "payment.cancel").expect("a cancel line");
    assert_eq!(cancel.target, id);
    assert_eq!(cancel.actor, "ann@example.com");
    let redeliver = log.iter().find(|l| l.action == "webhook.redeliver").expect("a redeliver line");
    assert_eq!(redeliver.target, dlv);
    assert_eq!(log.iter().filter(|l| l.action == "payment.cancel").count(), 1);
}

async fn the_pages_carry_a_strict_policy_and_unknown_paths_get_html(app: TestApp) {
    let res = app.client.get(app.url("/dashboard/login")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = res.text().await.unwrap();
    let css = html.split("href=\"/assets/dashboard.").nth(1).unwrap().split('"').next().unwrap();
    let res = app.client.get(app.url(&format!("/assets/dashboard.{css}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    let res = app.client.get(app.url("/dashboard/nothing-here")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let res = app.client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let res = app.client.get(app.url("/dashboard/payments")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/dashboard/login");
    let res = app.client.delete(app.url("/dashboard/login")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}

/// Behind https (its public URL says so), the session cookie is `Secure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_https_the_session_cookie_is_secure() {
    let app = spawn_app_with(payd_store::Backend::Sqlite, &[("PAYD_PUBLIC_URL", "https://pay.example")])
        .await
        .unwrap();
    let (m, _) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let res = try_login(&app, "ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), 303);
    let cookie = set_cookie(&res, "payd_session").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Without https, not (the browser would never send it back over http).
    let plain = spawn_app_with(payd_store::Backend::Sqlite, &[]).await.unwrap();
    let (m, _) = shop(&plain, "Shop").await;
    user(&plain, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let res = try_login(&plain, "ann@example.com", PASSWORD).await;
    assert!(!set_cookie(&res, "payd_session").unwrap().contains("Secure"));
}

/// Runs `payd` against the app's database with `stdin` and extra environment.
pub(crate) fn payd(
    app: &TestApp,
    args: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> (bool, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_payd"))
        .args(["--database-url", &app.db.url])
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("PAYD_MASTER_KEY", crate::helpers::MASTER_KEY)
        .env_remove(payd_server::cli::user::PASSWORD_ENV)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn the_cli_creates_users_who_log_in(app: TestApp) {
    let (m, _) = shop(&app, "Shop").await;
    let account = m.account_id.to_string();
    // The password on stdin: never echoed in the output.
    let (ok, out, err) = payd(
        &app,
        &[
            "user",
            "create",
            "--email",
            "Admin@Shop.example",
            "--role",
            "admin",
            "--account",
            &account,
            "--json",
        ],
        &format!("{PASSWORD}\n"),
        &[],
    );
    assert!(ok, "{err}");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["email"], "admin@shop.example");
    assert_eq!(v["role"], "admin");
    assert_eq!(v["account_id"], account);
    login(&app, "admin@shop.example").await;
    // Or in the environment, for scripts.
    let (ok, out, err) = payd(
        &app,
        &["user", "create", "--email", "op@shop.example", "--role", "operator"],
        "",
        &[(payd_server::cli::user::PASSWORD_ENV, PASSWORD)],
    );
    assert!(ok, "{err}");
    assert!(out.contains("/dashboard") && !out.contains(PASSWORD), "{out}");
    login(&app, "op@shop.example").await;
    // Refusals: a taken email, a short password, an admin without an account, an operator
    // with one, an account that does not exist.
    let cases: [(&[&str], &str, &str); 5] = [
        (&["--email", "op@shop.example", "--role", "operator"], PASSWORD, "exists"),
        (&["--email", "x@shop.example", "--role", "operator"], "short", "at least"),
        (&["--email", "y@shop.example", "--role", "admin"], PASSWORD, "needs an account"),
        (&["--email", "z@shop.example", "--role", "operator", "--account", &account], PASSWORD, "no account"),
        (
            &["--email", "w@shop.example", "--role", "viewer", "--account", &AccountId::new().to_string()],
            PASSWORD,
            "no account",
        ),
    ];
    for (args, password, says) in cases {
        let mut all = vec!["user", "create"];
        all.extend_from_slice(args);
        let (ok, _, err) = payd(&app, &all, &format!("{password}\n"), &[]);
        assert!(!ok, "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains(password) || password == "short", "{err}");
    }
}

// ---- In a real browser (SQLite: the pages do not depend on the backend) ----

/// A merchant logs in, finds a devnet payment, filters, exports, watches it turn paid, and
/// creates and revokes an API key, in headless Chromium (tests/dashboard/browser.mjs), with axe-core on every page and
/// screenshots at 360 and 1280 px under target/tmp/dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_finds_filters_exports_and_watches_a_payment_turn_paid_in_the_browser() {
    if !browser_ready(&["playwright-core", "@axe-core"], &[]) {
        return;
    }
    // devnet mines and credits by itself, as in production.
    let app = spawn_app_with(payd_store::Backend::Sqlite, &[("PAYD_DEVNET_BLOCK_MS", "200")]).await.unwrap();
    let (m, key) = shop(&app, "Browser Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    pay_native(&app, &key, json!({"reference": "older"})).await;
    let p =
        pay_native(&app, &key, json!({"reference": "ORDER-2041", "customer": {"email": "dee@example.com"}}))
            .await;
    // A payment without a token: its checkout shows the asset picker.
    let (s, open) = app.create_payment(&key, &json!({"amount": "5.00", "currency": "USD"})).await;
    assert_eq!(s, 201, "{open}");
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    let params = json!({
        "url": app.address, "email": "ann@example.com", "password": PASSWORD,
        "pickerUrl": open["checkout_url"],
        "paymentId": p["id"], "reference": "ORDER-2041", "shots": shots.to_string_lossy(),
        "xpub": payd_chain::address::DEVNET_XPUB,
        "firstAddress": payd_chain::address::DEVNET_XPUB
            .parse::<payd_chain::address::AccountKey>()
            .unwrap()
            .address(0, payd_chain::address::AddressFormat::Evm)
            .unwrap(),
    });
    let result = run_browser_script("crates/payd-server/tests/dashboard/browser.mjs", &[params.to_string()]);
    assert_eq!(status_of(&app, p["id"].as_str().unwrap()).await, "completed");
    // What the browser ticked off is stored and held by the engine.
    let usdt_base = ("USDT".to_owned(), "base".to_owned());
    let offered = app.store.merchant_assets(&m.id).await.unwrap();
    assert!(!offered.is_empty() && !offered.contains(&usdt_base), "{offered:?}");
    assert_eq!(
        app.store.get_merchant(&m.id).await.unwrap().unwrap().email.as_deref(),
        Some("shop@example.com")
    );
    // The key the browser created and revoked is refused by the API.
    assert_eq!(app.get("/v1/payments", result["key"].as_str().unwrap()).await.0, 401);
    for name in [
        "login",
        "list",
        "filtered",
        "payment",
        "paid",
        "key-created",
        "keys",
        "webhooks",
        "settings-preview",
        "settings-assets",
        "checkout-picker",
        "audit",
    ] {
        for width in [360, 1280] {
            assert!(shots.join(format!("{name}-{width}.png")).exists(), "{name}-{width}.png");
        }
    }
}

async fn api_keys_are_shown_once_and_a_revoked_key_is_refused_at_once(app: TestApp) {
    let (m, _) = shop(&app, "Shop").await;
    let (theirs, their_key) = shop(&app, "Theirs").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let (status, html) = get(&app, &b, "/dashboard/keys?mode=test").await;
    assert_eq!(status, 200);
    assert!(!html.contains(&theirs.id.to_string()), "another account's merchant is not offered");
    // Create a key with one scope: its secrets are on the answer, once.
    let res = app
        .client
        .post(app.url("/dashboard/keys"))
        .header("cookie", &b.cookie)
        .form(&[
            ("csrf", b.csrf.as_str()),
            ("owner", &m.id.to_string()),
            ("mode", "test"),
            ("scope", "payments:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    let secret = html.split("id=\"key-secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("pk_test_"), "{secret}");
    assert!(html.contains("id=\"signing-secret\">ss_"), "{html}");
    // It works, with its one scope.
    let (s, _) = app.get("/v1/payments", &secret).await;
    assert_eq!(s, 200);
    let (s, _) = app
        .create_payment(
            &secret,
            &json!({"amount": "5.00", "currency": "USD", "token": "USDC", "network": "base"}),
        )
        .await;
    assert_eq!(s, 403, "payments:create was not granted");
    // The list shows it, but never the secret again.
    let (_, html) = get(&app, &b, "/dashboard/keys?mode=test").await;
    assert!(!html.contains(&secret));
    let keys =
        app.store.dashboard_api_keys(Some(std::slice::from_ref(&m.account_id)), Mode::Test).await.unwrap();
    assert_eq!(keys.len(), 2, "the shop's own key and the new one");
    // Newest first.
    assert!(secret.starts_with(&keys[0].prefix));
    assert_eq!(keys[0].scopes, vec![payd_core::apikey::Scope::PaymentsRead]);
    let key_id = keys[0].id.to_string();
    assert!(html.contains(&key_id));
    // Its use was recorded (it made two requests above) and shows on the page; the shop's
    // own key, never used, says so.
    let used = keys[0].last_used_at.expect("the new key's use is recorded");
    assert!(used >= keys[0].created_at && used <= payd_store::now());
    assert_eq!(keys[1].last_used_at, None);
    let row = html.split(key_id.as_str()).nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains(&used.format("%Y-%m-%d %H:%M").to_string()), "{row}");
    assert!(html
        .split(keys[1].id.to_string().as_str())
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap()
        .contains("never"));
    // No scope, or a merchant of another account: refused, nothing created.
    let refused = |owner: String, scope: Option<&'static str>| {
        let mut form = vec![("csrf", b.csrf.clone()), ("owner", owner), ("mode", "test".to_owned())];
        if let Some(sc) = scope {
            form.push(("scope", sc.to_owned()));
        }
        app.client.post(app.url("/dashboard/keys")).header("cookie", &b.cookie).form(&form).send()
    };
    assert_eq!(refused(m.id.to_string(), None).await.unwrap().status(), 400);
    assert_eq!(refused(theirs.id.to_string(), Some("payments:read")).await.unwrap().status(), 404);
    assert_eq!(refused(theirs.account_id.to_string(), Some("payments:read")).await.unwrap().status(), 404);
    assert_eq!(app.store.dashboard_api_keys(None, Mode::Test).await.unwrap().len(), 3);
    // Another account's key cannot be revoked from here.
    let theirs_id = app
        .store
        .dashboard_api_keys(Some(std::slice::from_ref(&theirs.account_id)), Mode::Test)
        .await
        .unwrap()[0]
        .id
        .to_string();
    assert_eq!(post(&app, &b, &format!("/dashboard/keys/{theirs_id}/revoke"), Some(&b.csrf)).await, 404);
    assert_eq!(app.get("/v1/payments", &their_key).await.0, 200);
    // Revoked: the very next request with it is refused.
    assert_eq!(post(&app, &b, &format!("/dashboard/keys/{key_id}/revoke"), Some(&b.csrf)).await, 303);
    assert_eq!(app.get("/v1/payments", &secret).await.0, 401);
    let (_, html) = get(&app, &b, "/dashboard/keys?mode=test").await;
    assert!(html.contains("revoked"));
    let log = app.store.audit_log(Some(&m.account_id), 50).await.unwrap();
    assert!(log.iter().any(|l| l.action == "api_key.create" && l.target == key_id));
    assert!(log.iter().any(|l| l.action == "api_key.revoke" && l.target == key_id));
    // The audit log page shows the account's lines, and only them.
    let (status, html) = get(&app, &b, "/dashboard/audit").await;
    assert_eq!(status, 200);
    assert!(html.contains("api_key.revoke") && html.contains(&key_id) && html.contains("ann@example.com"));
    user(&app, "tom@example.com", Role::Viewer, Some(&theirs.account_id)).await;
    let tom = login(&app, "tom@example.com").await;
    let (status, html) = get(&app, &tom, "/dashboard/audit").await;
    assert_eq!(status, 200);
    assert!(!html.contains(&key_id) && !html.contains("ann@example.com"), "another account's log");
    assert!(html.contains("tom@example.com"));
}

async fn webhook_endpoints_are_registered_changed_and_deleted_within_reach(app: TestApp) {
    let (m, _) = shop(&app, "Shop").await;
    let (theirs, their_key) = shop(&app, "Theirs").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    user(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let form = |url: &str| {
        vec![
            ("csrf", b.csrf.clone()),
            ("merchant", m.id.to_string()),
            ("mode", "test".to_owned()),
            ("url", url.to_owned()),
            ("format", "native".to_owned()),
            ("event", "payment.completed".to_owned()),
            ("description", "orders".to_owned()),
        ]
    };
    let send = |form: Vec<(&'static str, String)>| {
        app.client.post(app.url("/dashboard/webhooks")).header("cookie", &b.cookie).form(&form).send()
    };
    // A private address and a malformed URL are refused by the engine's policy.
    assert_eq!(send(form("http://127.0.0.1:9/hook")).await.unwrap().status(), 400);
    assert_eq!(send(form("not a url")).await.unwrap().status(), 400);
    let res = send(form("https://hooks.example/payd")).await.unwrap();
    assert_eq!(res.status(), 201);
    let html = res.text().await.unwrap();
    let secret = html.split("id=\"hook-secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(secret.len() > 20, "{secret}");
    let (_, list) = get(&app, &b, "/dashboard/webhooks?mode=test").await;
    assert!(list.contains("https://hooks.example/payd") && list.contains("payment.completed"));
    assert!(!list.contains(&secret), "the secret is shown once");
    let id = list.split("/dashboard/webhooks/hook_").nth(1).unwrap().split(['/', '"']).next().unwrap();
    let id = format!("hook_{id}");
    let stored = || async { app.store.get_webhook_endpoint(&id.parse().unwrap()).await.unwrap() };
    let e = stored().await.unwrap();
    assert_eq!(e.events, vec![payd_core::event::EventKind::parse("payment.completed").unwrap()]);
    assert_eq!(e.description.as_deref(), Some("orders"));
    // Disable, enable, rotate (a new secret, shown once), delete.
    assert_eq!(post(&app, &b, &format!("/dashboard/webhooks/{id}/disable"), Some(&b.csrf)).await, 303);
    assert!(!stored().await.unwrap().enabled);
    assert_eq!(post(&app, &b, &format!("/dashboard/webhooks/{id}/enable"), Some(&b.csrf)).await, 303);
    assert!(stored().await.unwrap().enabled);
    let res = app
        .client
        .post(app.url(&format!("/dashboard/webhooks/{id}/rotate")))
        .header("cookie", &b.cookie)
        .form(&[("csrf", b.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let rotated = html.split("id=\"hook-secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_ne!(rotated, secret);
    // A viewer is refused every change; another account's endpoint is not found.
    let val = login(&app, "val@example.com").await;
    for verb in ["disable", "rotate", "delete"] {
        assert_eq!(post(&app, &val, &format!("/dashboard/webhooks/{id}/{verb}"), Some(&val.csrf)).await, 403);
    }
    let (_, their_hook) = json_of(
        app.post_raw(
            "/v1/webhook_endpoints",
            &their_key,
            &json!({"url": "https://theirs.example/h"}).to_string(),
            None,
        )
        .await,
    )
    .await;
    let their_id = their_hook["id"].as_str().unwrap();
    for verb in ["disable", "rotate", "delete"] {
        assert_eq!(
            post(&app, &b, &format!("/dashboard/webhooks/{their_id}/{verb}"), Some(&b.csrf)).await,
            404
        );
    }
    let (_, list) = get(&app, &b, "/dashboard/webhooks?mode=test").await;
    assert!(!list.contains(their_id) && !list.contains("theirs.example"));
    assert!(app.store.get_webhook_endpoint(&their_id.parse().unwrap()).await.unwrap().unwrap().enabled);
    assert_eq!(post(&app, &b, &format!("/dashboard/webhooks/{id}/delete"), Some(&b.csrf)).await, 303);
    let (_, list) = get(&app, &b, "/dashboard/webhooks?mode=test").await;
    assert!(!list.contains(&id));
    let log = app.store.audit_log(Some(&m.account_id), 50).await.unwrap();
    for action in ["create", "disable", "enable", "rotate_secret", "delete"] {
        let action = format!("webhook_endpoint.{action}");
        assert!(log.iter().any(|l| l.action == action && l.target == id), "{action}");
    }
    assert!(theirs.account_id != m.account_id);
}

async fn settings_show_an_xpubs_addresses_before_saving_it(app: TestApp) {
    use payd_chain::address::{AccountKey, AddressFormat, DEVNET_XPUB};
    let (m, _) = shop(&app, "Shop").await;
    let (theirs, _) = shop(&app, "Theirs").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    user(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let (status, html) = get(&app, &b, "/dashboard/settings").await;
    assert_eq!(status, 200);
    assert!(html.contains("Shop") && html.contains(&m.id.to_string()));
    assert_eq!(get(&app, &b, &format!("/dashboard/settings?merchant={}", theirs.id)).await.0, 404);
    let path = format!("/dashboard/settings/{}", m.id);
    let send = |b: &Browser, extra: Vec<(&'static str, &'static str)>| {
        let mut form = vec![
            ("csrf", b.csrf.clone()),
            ("min_amount", "2.50".to_owned()),
            ("settlement", "USDC/base".to_owned()),
            ("tolerance", "0.5".to_owned()),
            ("xpub_evm", DEVNET_XPUB.to_owned()),
            ("xpub_tron", String::new()),
        ];
        for (k, v) in extra {
            form.retain(|(name, _)| *name != k);
            form.push((k, v.to_owned()));
        }
        app.client.post(app.url(&path)).header("cookie", &b.cookie).form(&form).send()
    };
    // A new xpub is not saved before its addresses were shown.
    let res = send(&b, vec![("step", "save")]).await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let key: AccountKey = DEVNET_XPUB.parse().unwrap();
    for i in 0..5 {
        assert!(html.contains(&key.address(i, AddressFormat::Evm).unwrap()), "address {i} in {html}");
    }
    assert!(app.store.merchant_xpub(&m.id, payd_core::registry::Family::Evm).await.unwrap().is_none());
    // A bad xpub or tolerance is refused, naming the setting.
    let res = send(&b, vec![("xpub_evm", "xpub-nonsense"), ("step", "preview")]).await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("xpub_evm"));
    let res = send(&b, vec![("tolerance", "11"), ("step", "save"), ("checked", "1")]).await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("underpayment_tolerance"));
    assert!(app.store.merchant_xpub(&m.id, payd_core::registry::Family::Evm).await.unwrap().is_none());
    // Checked and saved.
    let res = send(&b, vec![("step", "save"), ("checked", "1")]).await.unwrap();
    assert_eq!(res.status(), 303);
    let s = payd_server::engine::merchants::settings(&app.store, &m.id).await.unwrap();
    assert_eq!(s.xpub_evm.as_deref(), Some(DEVNET_XPUB));
    assert_eq!(s.min_amount_usd.map(|d| d.to_string()).as_deref(), Some("2.50"));
    assert_eq!(s.underpayment_tolerance_bp, 50);
    assert_eq!(s.merchant.settlement_asset, Some(("USDC".to_owned(), "base".to_owned())));
    let log = app.store.audit_log(Some(&m.account_id), 50).await.unwrap();
    let line = log.iter().find(|l| l.action == "merchant.configure").expect("a configure line");
    assert!(line.detail.contains("xpub_evm") && line.detail.contains("min_amount"), "{}", line.detail);
    // Saving the same xpub again needs no preview; clearing it neither.
    assert_eq!(send(&b, vec![("step", "save")]).await.unwrap().status(), 303);
    // A viewer reads, and is refused every post; another account's merchant is not found.
    let val = login(&app, "val@example.com").await;
    let (status, html) = get(&app, &val, "/dashboard/settings").await;
    assert_eq!(status, 200);
    assert!(html.contains(DEVNET_XPUB) && !html.contains(">Save<"));
    assert_eq!(send(&val, vec![("step", "save"), ("xpub_evm", "")]).await.unwrap().status(), 403);
    assert_eq!(post(&app, &b, &format!("/dashboard/settings/{}", theirs.id), Some(&b.csrf)).await, 404);
    assert!(app.store.merchant_xpub(&m.id, payd_core::registry::Family::Evm).await.unwrap().is_some());
}
