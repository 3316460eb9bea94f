//! The dashboard's webhook endpoint page over HTTP, on both backends: editing an endpoint
//! (the URL policy refusing what it refuses), rotation with an overlap (a receiver sees both
//! signatures, each verifiable), a test event in every format received signed and listed in
//! the endpoint's delivery log with its attempt, redelivery from the log, a viewer refused
//! and another account's endpoint not found, and the audit lines of these changes; checkout
//! branding (display name, accent colour, logo) checked, saved and shown on the checkout page.

use payd_core::ids::{DeliveryId, WebhookEndpointId};
use payd_core::user::Role;
use payd_core::webhook::DeliveryStatus;
use payd_core::webhook_sign::standard_signature;
use serde_json::json;

use crate::backend_tests;
use crate::dashboard::{get, login, post, shop, user, Browser};
use crate::helpers::TestApp;
use crate::receiver::{Received, Receiver};
use crate::webhook_formats::verify_all;
use crate::webhook_tests;
use crate::webhooks::add_endpoint;

backend_tests!(
    an_endpoint_is_edited_through_the_url_policy_within_reach,
    checkout_branding_is_checked_saved_and_shown_on_the_checkout_page,
);

webhook_tests!(crate::webhooks::HOOK_ENV;
    a_rotation_with_an_overlap_signs_with_both_secrets,
    a_test_event_reaches_every_format_signed_and_shows_in_the_log,
);

/// Posts a form with the session's token and returns the status and `Location` (or body).
async fn send(app: &TestApp, b: &Browser, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut form = vec![("csrf", b.csrf.as_str())];
    form.extend_from_slice(fields);
    let res = app.client.post(app.url(path)).header("cookie", &b.cookie).form(&form).send().await.unwrap();
    let status = res.status().as_u16();
    let said = match res.headers().get("location") {
        Some(l) => l.to_str().unwrap().to_owned(),
        None => res.text().await.unwrap(),
    };
    (status, said)
}

fn shown_secret(html: &str) -> String {
    html.split("id=\"hook-secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned()
}

async fn stored(app: &TestApp, id: &str) -> payd_core::webhook::WebhookEndpoint {
    app.store.get_webhook_endpoint(&id.parse::<WebhookEndpointId>().unwrap()).await.unwrap().unwrap()
}

async fn an_endpoint_is_edited_through_the_url_policy_within_reach(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    let (_, their_key) = shop(&app, "Theirs").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    user(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let (id, _) = add_endpoint(&app, &key, json!({"url": "https://hooks.example/payd"})).await;
    let page = format!("/dashboard/webhooks/{id}");
    let (status, html) = get(&app, &b, &page).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("https://hooks.example/payd") && html.contains("Nothing was sent"), "{html}");
    let edit = format!("{page}/edit");
    let form = |url: &'static str| {
        vec![("url", url), ("format", "paygentic"), ("event", "payment.completed"), ("description", "orders")]
    };
    // The engine's URL policy: no private address (not allowed in this configuration), no
    // malformed URL, no credentials; an unknown format or event is refused too.
    for url in
        ["http://127.0.0.1:9/hook", "not a url", "https://user:pw@hooks.example/x", "ftp://hooks.example/"]
    {
        let (status, body) = send(&app, &b, &edit, &form(url)).await;
        assert_eq!(status, 400, "{url}: {body}");
    }
    let (status, _) = send(&app, &b, &edit, &[("url", "https://hooks.example/v2"), ("format", "soap")]).await;
    assert_eq!(status, 400);
    let (status, _) = send(
        &app,
        &b,
        &edit,
        &[("url", "https://hooks.example/v2"), ("format", "native"), ("event", "webhook.test")],
    )
    .await;
    assert_eq!(status, 400, "a test event is not something to subscribe to");
    assert_eq!(stored(&app, &id).await.url, "https://hooks.example/payd", "nothing was changed");
    let (status, location) = send(&app, &b, &edit, &form("https://hooks.example/v2")).await;
    assert_eq!(status, 303, "{location}");
    assert!(location.starts_with(&page), "{location}");
    let e = stored(&app, &id).await;
    assert_eq!(e.url, "https://hooks.example/v2");
    assert_eq!(e.format, payd_core::webhook::WebhookFormat::Paygentic);
    assert_eq!(e.events, vec![payd_core::event::EventKind::Completed]);
    assert_eq!(e.description.as_deref(), Some("orders"));
    let (_, html) = get(&app, &b, &location).await;
    assert!(html.contains("Endpoint saved.") && html.contains("https://hooks.example/v2"), "{html}");
    // `done` shows only the page's own words.
    let (_, html) = get(&app, &b, &format!("{page}?done=You+were+hacked")).await;
    assert!(!html.contains("You were hacked"));
    assert_eq!(get(&app, &b, &format!("{page}?before=nope")).await.0, 400);
    // Disable and enable from the page.
    assert_eq!(send(&app, &b, &format!("{page}/state"), &[("enabled", "false")]).await.0, 303);
    assert!(!stored(&app, &id).await.enabled);
    assert_eq!(send(&app, &b, &format!("{page}/state"), &[("enabled", "maybe")]).await.0, 400);
    // A disabled endpoint is sent no test event.
    assert_eq!(send(&app, &b, &format!("{page}/test"), &[]).await.0, 409);
    assert_eq!(send(&app, &b, &format!("{page}/state"), &[("enabled", "true")]).await.0, 303);
    assert!(stored(&app, &id).await.enabled);

    // A viewer sees the page and is refused every change.
    let val = login(&app, "val@example.com").await;
    let (status, html) = get(&app, &val, &page).await;
    assert_eq!(status, 200);
    assert!(!html.contains("Send test event") && !html.contains("Save endpoint"));
    for verb in ["edit", "state", "rotate", "test"] {
        assert_eq!(post(&app, &val, &format!("{page}/{verb}"), Some(&val.csrf)).await, 403, "{verb}");
    }
    // Another account's endpoint is not found, whether looked at or changed.
    let (their, _) = add_endpoint(&app, &their_key, json!({"url": "https://theirs.example/h"})).await;
    let theirs = format!("/dashboard/webhooks/{their}");
    assert_eq!(get(&app, &b, &theirs).await.0, 404);
    for verb in ["edit", "state", "rotate", "test"] {
        assert_eq!(send(&app, &b, &format!("{theirs}/{verb}"), &form("https://x.example/")).await.0, 404);
    }
    let guessed = format!("/dashboard/webhooks/{}/deliveries/{}/redeliver", id, DeliveryId::new());
    assert_eq!(send(&app, &b, &guessed, &[]).await.0, 404);
    assert_eq!(stored(&app, &their).await.url, "https://theirs.example/h");

    // Each change has its audit line; the refused ones have none.
    let log = app.store.audit_log(Some(&m.account_id), 50).await.unwrap();
    let edits: Vec<_> = log.iter().filter(|l| l.action == "webhook_endpoint.edit").collect();
    assert_eq!(edits.len(), 1, "{log:?}");
    assert_eq!(
        (edits[0].target.as_str(), edits[0].detail.as_str()),
        (id.as_str(), "url, events, format, description")
    );
    for action in ["webhook_endpoint.disable", "webhook_endpoint.enable"] {
        assert_eq!(log.iter().filter(|l| l.action == action && l.target == id).count(), 1, "{action}");
    }
    assert!(!log.iter().any(|l| l.action == "webhook_endpoint.test"), "the refused test left no line");
}

/// The `v1,` signatures of a native request.
fn signatures(r: &Received) -> Vec<String> {
    r.header("webhook-signature").split(' ').map(ToOwned::to_owned).collect()
}

fn signed_by(r: &Received, secret: &str) -> bool {
    let ts: i64 = r.header("webhook-timestamp").parse().unwrap();
    let sig = standard_signature(secret, r.header("webhook-id"), ts, r.body.as_bytes()).unwrap();
    signatures(r).contains(&sig)
}

async fn a_rotation_with_an_overlap_signs_with_both_secrets(app: TestApp) {
    let rx = Receiver::start().await;
    let (m, key) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let (id, old) = add_endpoint(&app, &key, json!({"url": rx.url(), "format": "native"})).await;
    let page = format!("/dashboard/webhooks/{id}");
    // Past the engine's longest overlap, or not a number: refused, nothing rotated.
    assert_eq!(send(&app, &b, &format!("{page}/rotate"), &[("overlap", "604801")]).await.0, 409);
    assert_eq!(send(&app, &b, &format!("{page}/rotate"), &[("overlap", "an hour")]).await.0, 400);
    assert_eq!(stored(&app, &id).await.previous_secret_sealed, None);
    let (status, html) = send(&app, &b, &format!("{page}/rotate"), &[("overlap", "3600")]).await;
    assert_eq!(status, 200, "{html}");
    let new = shown_secret(&html);
    assert_ne!(new, old);
    let (_, html) = get(&app, &b, &page).await;
    assert!(html.contains("also signs until"), "{html}");
    assert!(!html.contains(&new), "the secret is shown once");

    // During the overlap a delivery carries both signatures, each verifiable on its own.
    assert_eq!(send(&app, &b, &format!("{page}/test"), &[]).await.0, 303);
    let got = rx.wait_for(1).await;
    assert_eq!(signatures(&got[0]).len(), 2, "{got:?}");
    assert!(signed_by(&got[0], &old) && signed_by(&got[0], &new));
    verify_all("native", &old, &got, Some("standardwebhooks"));
    verify_all("native", &new, &got, Some("standardwebhooks"));

    // Without an overlap the old secret stops at once.
    let (status, html) = send(&app, &b, &format!("{page}/rotate"), &[("overlap", "0")]).await;
    assert_eq!(status, 200);
    let newest = shown_secret(&html);
    assert_eq!(send(&app, &b, &format!("{page}/test"), &[]).await.0, 303);
    let got = rx.wait_for(2).await;
    assert_eq!(signatures(&got[1]).len(), 1, "{got:?}");
    assert!(signed_by(&got[1], &newest) && !signed_by(&got[1], &new));
    let log = app.store.audit_log(Some(&m.account_id), 50).await.unwrap();
    let rotations: Vec<_> = log.iter().filter(|l| l.action == "webhook_endpoint.rotate_secret").collect();
    assert_eq!(rotations.len(), 2, "{log:?}");
    assert!(rotations.iter().any(|l| l.detail.contains("3600 s")), "{rotations:?}");
}

/// Waits until every delivery to `id` is delivered.
async fn delivered(
    app: &TestApp,
    m: &payd_core::ids::MerchantId,
    id: &str,
) -> Vec<payd_core::webhook::Delivery> {
    let filter = payd_store::webhooks::DeliveryFilter {
        merchant_id: m.clone(),
        mode: payd_core::apikey::Mode::Test,
        endpoint_id: Some(id.parse().unwrap()),
        event_id: None,
        payment_id: None,
        status: None,
        before: None,
        limit: 100,
    };
    for _ in 0..600 {
        let ds = app.store.list_webhook_deliveries(&filter).await.unwrap();
        if !ds.is_empty() && ds.iter().all(|d| d.status == DeliveryStatus::Delivered) {
            return ds;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the test delivery was not delivered");
}

async fn a_test_event_reaches_every_format_signed_and_shows_in_the_log(app: TestApp) {
    let rx = Receiver::start().await;
    let (m, key) = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let formats: [(&str, Option<&str>); 5] = [
        ("native", Some("standardwebhooks")),
        ("paygentic", Some("svix")),
        ("astrapay", None),
        ("mutopay", None),
        ("alppay", None),
    ];
    // Requests the receiver got so far: one test and one replay per format.
    let mut count = 0;
    for (format, package) in formats {
        let path = format!("/{format}");
        let (id, secret) = add_endpoint(
            &app,
            &key,
            json!({"url": rx.url_at(&path), "format": format, "events": ["payment.expired"]}),
        )
        .await;
        let page = format!("/dashboard/webhooks/{id}");
        let (status, location) = send(&app, &b, &format!("{page}/test"), &[]).await;
        assert_eq!(status, 303, "{format}: {location}");
        count += 1;
        let got = rx.wait_for(count).await;
        let r: Vec<Received> = got.into_iter().filter(|r| r.path == path).collect();
        assert_eq!(r.len(), 1, "{format}: sent whatever the endpoint's event filter");
        let body = r[0].json();
        // Clearly a test, in the format's own words.
        match format {
            "native" => assert_eq!(body["type"], "webhook.test", "{body}"),
            "paygentic" => assert_eq!(body["eventType"], "webhook.test.v0", "{body}"),
            "astrapay" => {
                assert_eq!(body["event"], "webhook.test", "{body}");
                assert_eq!(r[0].header("x-astrapay-event"), "webhook.test");
            }
            "mutopay" => assert_eq!(body["event"], "webhook.test", "{body}"),
            _ => assert_eq!(body["invoice"], "payd-test-event", "{body}"),
        }
        verify_all(format, &secret, &r, package);
        // In the endpoint's log with its attempt, and redeliverable from there.
        let ds = delivered(&app, &m.id, &id).await;
        assert_eq!(ds.len(), 1);
        assert_eq!(ds[0].kind, payd_core::event::EventKind::Test);
        let (_, html) = get(&app, &b, &location).await;
        assert!(html.contains("Test event queued"), "{html}");
        assert!(html.contains(&ds[0].id.to_string()) && html.contains("webhook.test"), "{html}");
        assert!(html.contains("<td class=\"num\">200</td>"), "{html}");
        let redeliver = format!("{page}/deliveries/{}/redeliver", ds[0].id);
        assert_eq!(send(&app, &b, &redeliver, &[]).await.0, 303);
        count += 1;
        let again: Vec<Received> = rx.wait_for(count).await.into_iter().filter(|r| r.path == path).collect();
        assert_eq!(again.len(), 2);
        assert_eq!(again[1].body, again[0].body, "{format}: the same event again");
        let ds = delivered(&app, &m.id, &id).await;
        assert_eq!(app.store.list_webhook_attempts(&ds[0].id).await.unwrap().len(), 2);
    }
    // The sample payments are no payments: nothing in the list.
    let (_, list) = get(&app, &b, "/dashboard/payments?mode=test").await;
    assert!(!list.contains("payd-test-event"), "{list}");
    let log = app.store.audit_log(Some(&m.account_id), 50).await.unwrap();
    assert_eq!(log.iter().filter(|l| l.action == "webhook_endpoint.test").count(), 5, "{log:?}");
    assert_eq!(log.iter().filter(|l| l.action == "webhook.redeliver").count(), 5, "{log:?}");
}

/// A minimal real PNG (1×1, one white pixel).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00,
    0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xff, 0xff, 0x3f, 0x00, 0x05, 0xfe,
    0x02, 0xfe, 0xdc, 0xcc, 0x59, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60,
    0x82,
];

/// Posts the branding form as a browser does (multipart), the logo as a file part.
async fn brand(
    app: &TestApp,
    b: &Browser,
    merchant: &str,
    fields: &[(&str, &str)],
    logo: Option<&[u8]>,
) -> (u16, String) {
    let boundary = "----paydtestboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    let mut part = |head: String, content: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n{head}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part("Content-Disposition: form-data; name=\"csrf\"".into(), b.csrf.as_bytes());
    for (k, v) in fields {
        part(format!("Content-Disposition: form-data; name=\"{k}\""), v.as_bytes());
    }
    if let Some(bytes) = logo {
        // The declared type says PNG whatever the bytes are: payd looks at the bytes.
        part(
            "Content-Disposition: form-data; name=\"logo\"; filename=\"logo.png\"\r\nContent-Type: image/png"
                .into(),
            bytes,
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let res = app
        .client
        .post(app.url(&format!("/dashboard/settings/{merchant}/brand")))
        .header("cookie", &b.cookie)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let said = match res.headers().get("location") {
        Some(l) => l.to_str().unwrap().to_owned(),
        None => res.text().await.unwrap(),
    };
    (status, said)
}

async fn checkout_branding_is_checked_saved_and_shown_on_the_checkout_page(app: TestApp) {
    let (m, key) = shop(&app, "Shop").await;
    let (theirs, _) = shop(&app, "Theirs").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    user(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let mid = m.id.to_string();
    let (status, html) = get(&app, &b, "/dashboard/settings").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("/dashboard/settings/{mid}/checkout")), "linked from the settings");
    let (status, html) = get(&app, &b, &format!("/dashboard/settings/{mid}/checkout")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");

    // Refused, each naming the field and why; nothing is saved.
    let (status, html) = brand(&app, &b, &mid, &[("accent", "blue")], None).await;
    assert_eq!(status, 400);
    assert!(html.contains("accent colour: `blue` is not a colour"), "{html}");
    let (status, html) = brand(&app, &b, &mid, &[("accent", "#777777")], None).await;
    assert_eq!(status, 400);
    assert!(html.contains("4.5:1") && html.contains("#777777"), "{html}");
    let mut big = PNG.to_vec();
    big.resize(64 * 1024 + 1, 0);
    let (status, html) = brand(&app, &b, &mid, &[], Some(&big)).await;
    assert_eq!(status, 413, "{html}");
    assert!(html.contains("64 KiB"), "{html}");
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
    let (status, html) = brand(&app, &b, &mid, &[], Some(svg)).await;
    assert_eq!(status, 400);
    assert!(html.contains("not a PNG, JPEG or WebP image"), "{html}");
    let long = "n".repeat(81);
    assert_eq!(brand(&app, &b, &mid, &[("display_name", &long)], None).await.0, 400);
    assert_eq!(app.store.merchant_branding(&m.id).await.unwrap(), None);

    // A viewer is refused; another account's merchant is not found.
    let val = login(&app, "val@example.com").await;
    assert_eq!(brand(&app, &val, &mid, &[("accent", "#1d4ed8")], None).await.0, 403);
    let their = theirs.id.to_string();
    assert_eq!(brand(&app, &b, &their, &[("accent", "#1d4ed8")], None).await.0, 404);
    assert_eq!(get(&app, &b, &format!("/dashboard/settings/{their}/checkout")).await.0, 404);
    // Without the form's token: refused like any other change.
    let stranger = Browser { cookie: b.cookie.clone(), csrf: "0".repeat(64) };
    assert_eq!(brand(&app, &stranger, &mid, &[("accent", "#1d4ed8")], None).await.0, 403);

    let (status, location) =
        brand(&app, &b, &mid, &[("display_name", " Acme Books "), ("accent", "#1D4ED8")], Some(PNG)).await;
    assert_eq!(status, 303, "{location}");
    let (_, html) = get(&app, &b, &location).await;
    assert!(
        html.contains("Branding saved.") && html.contains("Acme Books") && html.contains("#1d4ed8"),
        "{html}"
    );
    let saved = app.store.merchant_branding(&m.id).await.unwrap().unwrap();
    assert_eq!(
        (saved.display_name.as_deref(), saved.accent.as_deref()),
        (Some("Acme Books"), Some("#1d4ed8"))
    );
    let logo = saved.logo.clone().unwrap();
    assert_eq!(logo.content_type, "image/png");

    // The checkout page shows them: its name, the logo from payd, the accent's stylesheet.
    let (s, p) = app
        .create_payment(
            &key,
            &json!({"amount": "5.00", "currency": "USD", "token": "USDC", "network": "base"}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let checkout = p["checkout_url"].as_str().unwrap();
    let path = &checkout[checkout.find("/checkout/").unwrap()..];
    let res = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("img-src 'self';") && csp.contains("style-src 'self';"), "{csp}");
    let page = res.text().await.unwrap();
    let logo_url = format!("/assets/brand/{}.png", logo.digest);
    assert!(page.contains("Acme Books") && !page.contains(">Shop<"), "{page}");
    assert!(page.contains(&logo_url), "{page}");
    assert!(page.contains("/assets/brand/accent-1d4ed8.css"), "{page}");
    assert!(!page.contains("style=\""), "no inline style");

    let res = app.client.get(app.url(&logo_url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age=31536000"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    assert_eq!(
        app.client.get(app.url(&logo_url.replace(".png", ".jpg"))).send().await.unwrap().status(),
        404
    );
    let res = app.client.get(app.url("/assets/brand/accent-1d4ed8.css")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(res.text().await.unwrap().contains("background:#1d4ed8;border-color:#1d4ed8;color:#ffffff"));
    for bad in ["accent-777777.css", "accent-1D4ED8.css", "accent-zzzzzz.css", "nope.png", "../x"] {
        let status = app.client.get(app.url(&format!("/assets/brand/{bad}"))).send().await.unwrap().status();
        assert_eq!(status, 404, "{bad}");
    }

    // Removing the logo takes it off the page and off payd; the name and colour may be cleared.
    let (status, _) = brand(&app, &b, &mid, &[("remove_logo", "1")], None).await;
    assert_eq!(status, 303);
    assert_eq!(app.client.get(app.url(&logo_url)).send().await.unwrap().status(), 404);
    let page = app.client.get(app.url(path)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("/assets/brand/") && page.contains("Shop"), "{page}");

    let log = app.store.audit_log(Some(&m.account_id), 50).await.unwrap();
    let lines: Vec<_> = log.iter().filter(|l| l.action == "merchant.branding").collect();
    assert_eq!(lines.len(), 2, "{log:?}");
    assert!(lines.iter().any(|l| l.detail == "name set, accent #1d4ed8, new logo"), "{lines:?}");
}

// ---- In a real browser (SQLite: the pages do not depend on the backend) ----

/// An admin edits an endpoint's events, rotates its secret, sends it a test event and sees it
/// in the log, brands the checkout and sees the branding on a payment's checkout page, and
/// makes a viewer an admin, in headless Chromium (tests/dashboard/manage.mjs), with axe-core
/// on every page and screenshots at 360 and 1280 px under target/tmp/dashboard-manage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_manages_an_endpoint_the_branding_and_a_role_in_the_browser() {
    if !crate::helpers::browser_ready(&["playwright-core", "@axe-core"], &[]) {
        return;
    }
    let app =
        crate::helpers::spawn_app_with(payd_store::Backend::Sqlite, crate::webhooks::HOOK_ENV).await.unwrap();
    let rx = Receiver::start().await;
    let (m, key) = shop(&app, "Browser Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    user(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    // Subscribed to expiries only: the payment below sends it nothing, so its log starts empty
    // and the receiver's one request is the test event.
    let (hook, _) = add_endpoint(
        &app,
        &key,
        json!({"url": rx.url_at("/hook"), "description": "orders", "events": ["payment.expired"]}),
    )
    .await;
    let (s, p) = app
        .create_payment(
            &key,
            &json!({"amount": "25.00", "currency": "USD", "token": "USDC", "network": "base"}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let checkout = p["checkout_url"].as_str().unwrap();
    let checkout = &checkout[checkout.find("/checkout/").unwrap()..];
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-manage");
    let params = json!({
        "url": app.address, "email": "ann@example.com", "password": crate::dashboard::PASSWORD,
        "endpointId": hook, "merchantId": m.id.to_string(), "checkout": checkout,
        "viewerEmail": "val@example.com", "shots": shots.to_string_lossy(),
    });
    let out = crate::helpers::run_browser_script(
        "crates/payd-server/tests/dashboard/manage.mjs",
        &[params.to_string()],
    );

    // What the browser did is what payd stored.
    let e = stored(&app, &hook).await;
    let kinds: Vec<&str> = e.events.iter().map(|k| k.as_str()).collect();
    assert_eq!(kinds, ["payment.completed", "payment.expired"]);
    assert!(e.previous_secret_sealed.is_some(), "rotated with an overlap");
    let secret = out["secret"].as_str().unwrap();
    let got = rx.wait_for(1).await;
    assert!(got.iter().any(|r| signed_by(r, secret)), "the test event is signed with the new secret");
    let brand = app.store.merchant_branding(&m.id).await.unwrap().unwrap();
    assert_eq!(
        (brand.display_name.as_deref(), brand.accent.as_deref()),
        (Some("Acme Books"), Some("#1d4ed8"))
    );
    assert_eq!(brand.logo.unwrap().content_type, "image/png");
    let val = app.store.user_by_email("val@example.com").await.unwrap().unwrap().0;
    assert_eq!(val.role, Role::Admin);
    for name in ["endpoint", "rotated", "endpoint-log", "branding", "checkout-branded", "users-role"] {
        for width in [360, 1280] {
            assert!(shots.join(format!("{name}-{width}.png")).exists(), "{name}-{width}.png");
        }
    }
}
