//! The dashboard's webhook endpoint page over HTTP, on both backends: editing an endpoint
//! (the URL policy refusing what it refuses), rotation with an overlap (a receiver sees both
//! signatures, each verifiable), a test event in every format received signed and listed in
//! the endpoint's delivery log with its attempt, redelivery from the log, a viewer refused
//! and another account's endpoint not found, and the audit lines of these changes.

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

backend_tests!(an_endpoint_is_edited_through_the_url_policy_within_reach,);

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
