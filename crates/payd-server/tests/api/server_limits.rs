//! The listener's limits, tried as a slow or hostile client would: a request whose headers
//! never finish and a body trickled byte by byte are cut off after their deadlines, open
//! connections are capped, and ordinary clients notice none of it.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;
use crate::webhook_tests;

const SHORT: &[(&str, &str)] = &[("PAYD_HEADER_READ_TIMEOUT_SECS", "1"), ("PAYD_REQUEST_TIMEOUT_SECS", "2")];

webhook_tests!(super::SHORT;
    half_sent_requests_are_closed_after_the_header_deadline,
    a_trickled_body_is_cut_off_at_the_request_deadline,
    ordinary_clients_are_unaffected_by_the_deadlines,
);
webhook_tests!(&[("PAYD_MAX_CONNECTIONS", "2"), ("PAYD_HEADER_READ_TIMEOUT_SECS", "60")];
    connections_past_the_cap_wait_until_one_closes,
);

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap()
}

/// Everything the server sends until it closes the connection, or `None` when it is still
/// open after `wait` (generous: only a server that never closes fails it).
async fn until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(wait, read).await.ok()?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

async fn half_sent_requests_are_closed_after_the_header_deadline(app: TestApp) {
    let mut held = Vec::new();
    for _ in 0..50 {
        let mut s = connect(&app).await;
        s.write_all(b"POST /v1/payments HTTP/1.1\r\nHost: payd\r\nContent-Type: application/json\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    for s in &mut held {
        let answer = until_closed(s, Duration::from_secs(20)).await;
        let answer = answer.expect("a half-sent request was held open");
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
}

async fn a_trickled_body_is_cut_off_at_the_request_deadline(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let body = br#"{"amount":"1.00","currency":"USD","description":"trickled one byte at a time ....."}"#;
    let mut s = connect(&app).await;
    let head = format!(
        "POST /v1/payments HTTP/1.1\r\nHost: payd\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    // One byte every 300 ms: the whole body would take about 25 s.
    let trickle = tokio::spawn(async move {
        for b in body {
            if wr.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("request_timeout") {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(15), read)
        .await
        .expect("the trickled body was still being read");
    trickle.abort();
    let answer = String::from_utf8_lossy(&got);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert_eq!(app.get("/v1/payments", &key).await.1["data"], json!([]), "nothing was created");
}

async fn ordinary_clients_are_unaffected_by_the_deadlines(app: TestApp) {
    let (_, key) = app.merchant_with_key().await;
    let body = json!({"amount": "12.50", "currency": "USD", "metadata": {"note": "x".repeat(7000)}});
    for _ in 0..3 {
        let (s, p) = app.create_payment(&key, &body).await;
        assert_eq!(s, 201, "{p}");
    }
    // A pooled connection idle past the header deadline is closed by payd; the client opens
    // another without the caller noticing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (s, list) = app.get("/v1/payments", &key).await;
    assert_eq!((s, list["data"].as_array().map(Vec::len)), (200, Some(3)));
    // A body sent at an ordinary pace, in pieces, well within the deadline.
    let mut stream = connect(&app).await;
    let text = json!({"amount": "1.00", "currency": "USD"}).to_string();
    let head = format!(
        "POST /v1/payments HTTP/1.1\r\nHost: payd\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        text.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (a, b) = text.split_at(text.len() / 2);
    stream.write_all(a.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.write_all(b.as_bytes()).await.unwrap();
    let answer = until_closed(&mut stream, Duration::from_secs(20)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
}

async fn connections_past_the_cap_wait_until_one_closes(app: TestApp) {
    let first = connect(&app).await;
    let second = connect(&app).await;
    // Give the server the moment it needs to accept both.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().unwrap();
    let third = client.get(app.url("/healthz")).send().await;
    assert!(third.is_err(), "a third connection was served past the cap: {third:?}");
    drop(first);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let res = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    drop(second);
}
