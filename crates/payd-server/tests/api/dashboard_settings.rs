//! Settings, issue 15's rest: the assets a merchant offers at checkout (saved from the
//! dashboard, refused to a viewer, without the form token and across accounts; held against
//! every API's create and the checkout's choice; the picker narrowed; the settlement asset
//! kept on the list) and the merchant's profile, each with its audit line; `payd merchant
//! configure --assets/--email/--site-url`.

use payd_core::user::Role;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::dashboard::{get, login, post, shop, user, Browser};
use crate::helpers::{code, json as read, TestApp};

backend_tests!(
    settings_assets_offered_at_checkout_are_saved_and_held_against_every_create,
    settings_the_checkout_offers_and_accepts_only_the_enabled_assets,
    settings_the_settlement_asset_stays_among_the_assets_offered,
    settings_a_merchants_profile_is_checked_saved_and_audited,
    settings_the_cli_sets_the_assets_and_the_profile,
);

async fn post_form(app: &TestApp, b: &Browser, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let mut all = vec![("csrf", b.csrf.as_str())];
    all.extend_from_slice(form);
    let res = app.client.post(app.url(path)).header("cookie", &b.cookie).form(&all).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn lines(app: &TestApp, action: &str) -> Vec<String> {
    let log = app.store.audit_log(None, 500).await.unwrap();
    log.into_iter().filter(|l| l.action == action).map(|l| l.detail).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(t, n)| ((*t).to_owned(), (*n).to_owned())).collect()
}

async fn astrapay(app: &TestApp, key: &str, body: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/v1/api/payments"))
        .header("Content-Type", "application/json")
        .header("X-Api-Key", key)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    read(res).await
}

async fn mutopay(app: &TestApp, key: &str, body: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/api/payments"))
        .header("Content-Type", "application/json")
        .header("X-API-Key", key)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    read(res).await
}

async fn settings_assets_offered_at_checkout_are_saved_and_held_against_every_create(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    let (theirs, _) = shop(&app, "Theirs").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    user(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;

    // Nothing chosen: every asset is ticked, grouped by network, and every create works.
    let (status, html) = get(&app, &b, &format!("/dashboard/settings?merchant={}", m.id)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Assets offered at checkout"), "{html}");
    for value in ["USDC/base", "USDT/base", "USDT/tron", "USDC/polygon"] {
        assert!(html.contains(&format!("name=\"asset\" value=\"{value}\" checked")), "{value} in {html}");
    }
    let usdt_base = json!({"amount": "10.00", "currency": "USD", "token": "USDT", "network": "base"});
    let (s, before) = app.create_payment(&key, &usdt_base).await;
    assert_eq!(s, 201, "{before}");

    // Only USDC on Base and USDT on Tron from now on.
    let path = format!("/dashboard/settings/{}/assets", m.id);
    let (s, body) = post_form(&app, &b, &path, &[("asset", "USDC/base"), ("asset", "usdt/TRON")]).await;
    assert_eq!(s, 303, "{body}");
    assert_eq!(app.store.merchant_assets(&m.id).await.unwrap(), pairs(&[("USDC", "base"), ("USDT", "tron")]));
    assert_eq!(lines(&app, "merchant.assets").await, ["USDC/base, USDT/tron"]);
    let (_, html) = get(&app, &b, &format!("/dashboard/settings?merchant={}", m.id)).await;
    assert!(html.contains("name=\"asset\" value=\"USDC/base\" checked"), "{html}");
    assert!(html.contains("name=\"asset\" value=\"USDT/base\">"), "{html}");

    // The native API refuses the disabled pair with its unsupported-asset error.
    let (s, e) = app.create_payment(&key, &usdt_base).await;
    assert_eq!((s, code(&e)), (422, "unsupported_asset"), "{e}");
    assert_eq!(e["error"]["param"], "token");
    assert!(e["error"]["message"].as_str().unwrap().contains("USDT on base is not enabled"), "{e}");
    let usdc_base = json!({"amount": "10.00", "currency": "USD", "token": "USDC", "network": "base"});
    assert_eq!(app.create_payment(&key, &usdc_base).await.0, 201);
    // AstraPay answers in its envelope.
    let (s, e) = astrapay(&app, &key, r#"{"amount": 5, "token": "USDT", "network": "BASE"}"#).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(
        (e["error"]["code"].as_str(), e["error"]["status"].as_u64()),
        (Some("UNPROCESSABLE_ENTITY"), Some(422))
    );
    assert!(e["error"]["message"].as_str().unwrap().contains("not enabled"), "{e}");
    assert_eq!(astrapay(&app, &key, r#"{"amount": 5, "token": "USDT", "network": "TRON"}"#).await.0, 201);
    // MutoPay quotes in the settlement asset: one set behind the dashboard's back (it refuses
    // to save such a pair) is still held to the list at create, in MutoPay's error shape.
    app.store
        .set_merchant_settlement(&m.id, Some(("USDC".into(), "polygon".into())), payd_store::now())
        .await
        .unwrap();
    let (s, e) = mutopay(&app, &key, r#"{"amount_usd": 25.00, "external_id": "o-1"}"#).await;
    assert_eq!((s, e["error"].as_str()), (422, Some("unprocessable")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("USDC on polygon is not enabled"), "{e}");
    app.store
        .set_merchant_settlement(&m.id, Some(("USDT".into(), "tron".into())), payd_store::now())
        .await
        .unwrap();
    assert_eq!(mutopay(&app, &key, r#"{"amount_usd": 25.00, "external_id": "o-2"}"#).await.0, 201);
    app.store.set_merchant_settlement(&m.id, None, payd_store::now()).await.unwrap();

    // The payment created before keeps its asset.
    let id: payd_core::ids::PaymentId = before["id"].as_str().unwrap().parse().unwrap();
    let kept = app.store.get_payment(&id).await.unwrap().unwrap().asset.unwrap();
    assert_eq!((kept.token.as_str(), kept.network.as_str()), ("USDT", "base"));
    let (s, html) = {
        let res = app.client.get(before["checkout_url"].as_str().unwrap()).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    };
    assert_eq!(s, 200);
    assert!(html.contains("USDT"), "{html}");

    // Refusals: nothing ticked, a pair this payd does not offer, a viewer, no form token,
    // another account's merchant. None changes the list.
    let (s, body) = post_form(&app, &b, &path, &[]).await;
    assert_eq!(s, 400);
    assert!(body.contains("enable at least one asset"), "{body}");
    let (s, body) = post_form(&app, &b, &path, &[("asset", "DOGE/base")]).await;
    assert_eq!(s, 400);
    assert!(body.contains("DOGE/base") && body.contains("role=\"alert\""), "{body}");
    let val = login(&app, "val@example.com").await;
    let (_, html) = get(&app, &val, &format!("/dashboard/settings?merchant={}", m.id)).await;
    assert!(!html.contains("Save assets") && html.contains("disabled"), "{html}");
    assert_eq!(post_form(&app, &val, &path, &[("asset", "USDC/base")]).await.0, 403);
    assert_eq!(post(&app, &b, &path, None).await, 403);
    let theirs_path = format!("/dashboard/settings/{}/assets", theirs.id);
    assert_eq!(post_form(&app, &b, &theirs_path, &[("asset", "USDC/base")]).await.0, 404);
    assert!(app.store.merchant_assets(&theirs.id).await.unwrap().is_empty());
    assert_eq!(app.store.merchant_assets(&m.id).await.unwrap(), pairs(&[("USDC", "base"), ("USDT", "tron")]));
    assert_eq!(lines(&app, "merchant.assets").await.len(), 1);

    // Ticking every box offers everything again (stored as "all", so networks added later too).
    let every: Vec<String> = html
        .match_indices("name=\"asset\" value=\"")
        .map(|(at, pat)| html[at + pat.len()..].split('"').next().unwrap().to_owned())
        .collect();
    assert!(every.len() > 4, "{every:?}");
    let form: Vec<(&str, &str)> = every.iter().map(|v| ("asset", v.as_str())).collect();
    assert_eq!(post_form(&app, &b, &path, &form).await.0, 303);
    assert!(app.store.merchant_assets(&m.id).await.unwrap().is_empty());
    assert_eq!(lines(&app, "merchant.assets").await[0], "all assets");
    assert_eq!(app.create_payment(&key, &usdt_base).await.0, 201);
}

async fn settings_the_checkout_offers_and_accepts_only_the_enabled_assets(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let (s, p) = app.create_payment(&key, &json!({"amount": "10.00", "currency": "USD"})).await;
    assert_eq!(s, 201, "{p}");
    let url = p["checkout_url"].as_str().unwrap().to_owned();
    let page = || async {
        let res = app.client.get(&url).send().await.unwrap();
        res.text().await.unwrap()
    };
    let html = page().await;
    assert!(html.contains("value=\"USDT:base\"") && html.contains("value=\"USDC:polygon\""), "{html}");

    let path = format!("/dashboard/settings/{}/assets", m.id);
    assert_eq!(post_form(&app, &b, &path, &[("asset", "USDC/base"), ("asset", "USDT/tron")]).await.0, 303);
    let html = page().await;
    assert!(html.contains("value=\"USDC:base\"") && html.contains("value=\"USDT:tron\""), "{html}");
    assert!(!html.contains("value=\"USDT:base\"") && !html.contains("value=\"USDC:polygon\""), "{html}");

    let at = html.find("name=\"token\" value=\"").unwrap() + "name=\"token\" value=\"".len();
    let token = html[at..at + 64].to_owned();
    let choose = |asset: &'static str| {
        let token = token.clone();
        let url = url.clone();
        let app = &app;
        async move {
            let res = app
                .client
                .post(format!("{url}/choose?lang=en"))
                .header("Origin", &app.address)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(format!("token={token}&asset={asset}"))
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }
    };
    // A disabled pair is refused as any pair not offered; an enabled one is chosen.
    assert_eq!(choose("USDT:base").await, 409);
    let id: payd_core::ids::PaymentId = p["id"].as_str().unwrap().parse().unwrap();
    assert!(app.store.get_payment(&id).await.unwrap().unwrap().asset.is_none());
    assert_eq!(choose("USDT:tron").await, 303);
    let asset = app.store.get_payment(&id).await.unwrap().unwrap().asset.unwrap();
    assert_eq!((asset.token.as_str(), asset.network.as_str()), ("USDT", "tron"));
    // The engine's own list says the same.
    let offered = payd_server::engine::payments::payable_assets(
        &app.store,
        &app.state.config.networks,
        &m.id,
        payd_core::apikey::Mode::Test,
    )
    .await
    .unwrap();
    let offered: Vec<(&str, &str)> = offered.iter().map(|p| (p.token.as_str(), p.network.as_str())).collect();
    assert_eq!(offered, [("USDC", "base"), ("USDT", "tron")]);
}

async fn settings_the_settlement_asset_stays_among_the_assets_offered(app: TestApp) {
    let (m, _) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let settings = format!("/dashboard/settings/{}", m.id);
    let assets = format!("/dashboard/settings/{}/assets", m.id);
    let save = |settlement: &'static str| {
        let b = &b;
        let settings = settings.clone();
        let app = &app;
        async move {
            let form = [("settlement", settlement), ("tolerance", "0"), ("step", "save")];
            post_form(app, b, &settings, &form).await
        }
    };
    assert_eq!(save("USDC/base").await.0, 303);
    // The list may not leave the settlement asset out.
    let (s, body) = post_form(&app, &b, &assets, &[("asset", "USDT/tron")]).await;
    assert_eq!(s, 400);
    assert!(body.contains("the settlement asset USDC/base must stay enabled"), "{body}");
    assert!(app.store.merchant_assets(&m.id).await.unwrap().is_empty());
    assert_eq!(post_form(&app, &b, &assets, &[("asset", "USDC/base"), ("asset", "USDT/tron")]).await.0, 303);
    // Nor may the settlement asset leave the list.
    let (s, body) = save("USDT/base").await;
    assert_eq!(s, 400);
    assert!(body.contains("USDT/base is not among the assets offered at checkout"), "{body}");
    let kept = app.store.get_merchant(&m.id).await.unwrap().unwrap().settlement_asset;
    assert_eq!(kept, Some(("USDC".to_owned(), "base".to_owned())));
    assert_eq!(save("USDT/tron").await.0, 303);
    assert_eq!(save("").await.0, 303);
}

async fn settings_a_merchants_profile_is_checked_saved_and_audited(app: TestApp) {
    let (m, _) = shop(&app, "Shop").await;
    let (theirs, _) = shop(&app, "Theirs").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    user(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let path = format!("/dashboard/settings/{}/profile", m.id);
    let long = format!("https://shop.example/{}", "a".repeat(2048));
    let long_email = format!("{}@example.com", "a".repeat(250));
    let bad = [
        (("not-an-email", "https://shop.example"), "`email` is not an email address"),
        (("a b@example.com", ""), "`email` is not an email address"),
        ((long_email.as_str(), ""), "`email` is longer than 255 characters"),
        (("", "ftp://shop.example"), "`site_url` must be an absolute http(s) URL"),
        (("", "shop.example"), "`site_url` must be an absolute http(s) URL"),
        (("", long.as_str()), "`site_url` is longer than 2048 characters"),
    ];
    for ((email, site), says) in bad {
        let (s, body) = post_form(&app, &b, &path, &[("email", email), ("site_url", site)]).await;
        assert_eq!(s, 400, "{email} {site}");
        assert!(body.contains(&says.replace('`', "&#96;")) || body.contains(says), "{says} in {body}");
    }
    let (s, body) =
        post_form(&app, &b, &path, &[("email", " shop@example.com "), ("site_url", "https://shop.example/")])
            .await;
    assert_eq!(s, 303, "{body}");
    let got = app.store.get_merchant(&m.id).await.unwrap().unwrap();
    assert_eq!(
        (got.email.as_deref(), got.site_url.as_deref()),
        (Some("shop@example.com"), Some("https://shop.example/"))
    );
    assert_eq!(lines(&app, "merchant.profile").await, ["email, site_url"]);
    let (_, html) = get(&app, &b, &format!("/dashboard/settings?merchant={}", m.id)).await;
    assert!(html.contains("value=\"shop@example.com\"") && html.contains("value=\"https://shop.example/\""));
    // Blank clears one, the other stays.
    assert_eq!(
        post_form(&app, &b, &path, &[("email", ""), ("site_url", "https://shop.example/")]).await.0,
        303
    );
    let got = app.store.get_merchant(&m.id).await.unwrap().unwrap();
    assert_eq!((got.email, got.site_url.as_deref()), (None, Some("https://shop.example/")));
    assert_eq!(lines(&app, "merchant.profile").await[0], "email");
    // A viewer, no form token, another account: refused, nothing written.
    let val = login(&app, "val@example.com").await;
    assert_eq!(post_form(&app, &val, &path, &[("email", "val@example.com")]).await.0, 403);
    assert_eq!(post(&app, &b, &path, None).await, 403);
    let theirs_path = format!("/dashboard/settings/{}/profile", theirs.id);
    assert_eq!(post_form(&app, &b, &theirs_path, &[("email", "x@example.com")]).await.0, 404);
    assert_eq!(app.store.get_merchant(&theirs.id).await.unwrap().unwrap().email, None);
    assert_eq!(lines(&app, "merchant.profile").await.len(), 2);
}

async fn settings_the_cli_sets_the_assets_and_the_profile(app: TestApp) {
    let (m, _) = shop(&app, "Shop").await;
    let id = m.id.to_string();
    let (ok, out, err) = crate::dashboard::payd(
        &app,
        &[
            "merchant",
            "configure",
            &id,
            "--assets",
            "USDC/base, usdt/tron",
            "--email",
            "cli@example.com",
            "--json",
        ],
        "",
        &[],
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["assets"], json!(["USDC/base", "USDT/tron"]));
    assert_eq!(v["email"], "cli@example.com");
    assert_eq!(app.store.merchant_assets(&m.id).await.unwrap(), pairs(&[("USDC", "base"), ("USDT", "tron")]));
    let log = app.store.audit_log(None, 50).await.unwrap();
    // One line for the settings, written with them; one for the profile.
    let configured = log.iter().find(|l| l.action == "merchant.configure" && l.actor == "cli");
    assert_eq!(configured.map(|l| l.detail.as_str()), Some("assets"), "{log:?}");
    assert!(log.iter().any(|l| l.action == "merchant.profile" && l.actor == "cli"), "{log:?}");
    for (args, says) in [
        (vec!["--assets", "DOGE/base"], "--assets: `DOGE/base` is not a TOKEN/NETWORK pair"),
        (vec!["--assets", ""], "--assets: enable at least one asset"),
        (vec!["--settlement", "USDC/polygon"], "--settlement: USDC/polygon is not among the assets offered"),
        (vec!["--site-url", "nope"], "`--site-url` must be an absolute http(s) URL"),
    ] {
        let mut all = vec!["merchant", "configure", id.as_str()];
        all.extend(args.iter().copied());
        let (ok, _, err) = crate::dashboard::payd(&app, &all, "", &[]);
        assert!(!ok, "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let (ok, out, err) =
        crate::dashboard::payd(&app, &["merchant", "configure", &id, "--assets", "all", "--json"], "", &[]);
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["assets"], Value::Null);
    assert!(app.store.merchant_assets(&m.id).await.unwrap().is_empty());
}
