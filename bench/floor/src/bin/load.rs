//! A fixed-rate (open-loop) HTTP load generator: wrk holds connections busy but not a rate,
//! and wrk2 is not in Debian. Request i is due at start + i / rate; a free connection takes the
//! next due request, waits for its time and sends it, and its latency counts from the time it
//! was due, not from when it was sent — so a server that stalls is charged for every request
//! that queued behind the stall (no coordinated omission).
//!
//!   payd-load --url http://127.0.0.1:PORT/path --rate 1000 --duration 15 --connections 64 \
//!     [--header 'Authorization: Bearer …']... [--body '{…}'] [--method POST]
//!
//! Prints one line of `key=value` pairs: sent, ok (2xx), non2xx, errors (connection or I/O),
//! achieved rate (2xx per second), and latency p50, p90, p99, max in milliseconds.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

struct Plan {
    host: String,
    addr: String,
    path: String,
    method: hyper::Method,
    headers: Vec<(String, String)>,
    body: Bytes,
    rate: u64,
    total: u64,
    start: Instant,
    next: AtomicU64,
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    ok: u64,
    non2xx: u64,
    errors: u64,
    last_done: Option<Instant>,
}

fn usage() -> ! {
    eprintln!(
        "usage: payd-load --url http://HOST:PORT/PATH --rate N --duration SECS --connections N \
         [--header 'Name: value']... [--body JSON] [--method POST]"
    );
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let mut url = None;
    let (mut rate, mut duration, mut connections) = (1000u64, 15u64, 64usize);
    let mut headers = Vec::new();
    let mut body = String::new();
    let mut method = hyper::Method::POST;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--url" => url = Some(value),
            "--rate" => rate = value.parse().unwrap_or_else(|_| usage()),
            "--duration" => duration = value.parse().unwrap_or_else(|_| usage()),
            "--connections" => connections = value.parse().unwrap_or_else(|_| usage()),
            "--header" => {
                let (name, v) = value.split_once(':').unwrap_or_else(|| usage());
                headers.push((name.trim().to_owned(), v.trim().to_owned()));
            }
            "--body" => body = value,
            "--method" => method = value.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    let url = url.unwrap_or_else(|| usage());
    let rest = url.strip_prefix("http://").unwrap_or_else(|| usage());
    let (addr, path) = match rest.find('/') {
        Some(i) => (rest[..i].to_owned(), rest[i..].to_owned()),
        None => (rest.to_owned(), "/".to_owned()),
    };
    if rate == 0 || duration == 0 || connections == 0 {
        usage();
    }
    let plan = Arc::new(Plan {
        host: addr.clone(),
        addr,
        path,
        method,
        headers,
        body: Bytes::from(body),
        rate,
        total: rate * duration,
        // A little ahead, so that the connections are open before the first request is due.
        start: Instant::now() + Duration::from_millis(500),
        next: AtomicU64::new(0),
    });
    let tasks: Vec<_> = (0..connections).map(|_| tokio::spawn(connection(plan.clone()))).collect();
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await.expect("a connection task panicked");
        all.latencies_us.extend(t.latencies_us);
        all.ok += t.ok;
        all.non2xx += t.non2xx;
        all.errors += t.errors;
        all.last_done = all.last_done.max(t.last_done);
    }
    let elapsed = all.last_done.map(|t| t.saturating_duration_since(plan.start)).unwrap_or_default();
    let achieved = if elapsed.is_zero() { 0.0 } else { all.ok as f64 / elapsed.as_secs_f64() };
    let mut l = all.latencies_us;
    l.sort_unstable();
    let pct = |p: f64| -> f64 {
        if l.is_empty() {
            return 0.0;
        }
        let i = ((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1;
        l[i] as f64 / 1000.0
    };
    println!(
        "target={rate}/s duration={duration}s connections={connections} sent={} ok={} non2xx={} errors={} \
         achieved={achieved:.0}/s p50={:.1}ms p90={:.1}ms p99={:.1}ms max={:.1}ms",
        plan.total,
        all.ok,
        all.non2xx,
        all.errors,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
}

/// One keep-alive connection: takes due requests until the schedule ends, reconnecting after
/// an error (the failed request counts as an error, and its latency is not recorded).
async fn connection(plan: Arc<Plan>) -> Tally {
    let mut tally = Tally::default();
    let mut sender: Option<http1::SendRequest<Full<Bytes>>> = None;
    loop {
        let i = plan.next.fetch_add(1, Ordering::Relaxed);
        if i >= plan.total {
            return tally;
        }
        let due = plan.start + Duration::from_nanos(i * 1_000_000_000 / plan.rate);
        tokio::time::sleep_until(due).await;
        if sender.as_ref().is_none_or(|s| s.is_closed()) {
            sender = open(&plan.addr).await;
        }
        let Some(s) = sender.as_mut() else {
            tally.errors += 1;
            continue;
        };
        let mut req =
            Request::builder().method(plan.method.clone()).uri(&plan.path).header("host", &plan.host);
        for (name, value) in &plan.headers {
            req = req.header(name, value);
        }
        let req = match req.body(Full::new(plan.body.clone())) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: bad request: {e}");
                std::process::exit(2);
            }
        };
        let outcome = async {
            s.ready().await?;
            let res = s.send_request(req).await?;
            let status = res.status();
            res.into_body().collect().await?;
            Ok::<_, hyper::Error>(status)
        }
        .await;
        let done = Instant::now();
        match outcome {
            Ok(status) => {
                tally.latencies_us.push(done.saturating_duration_since(due).as_micros() as u64);
                if status.is_success() {
                    tally.ok += 1;
                } else {
                    tally.non2xx += 1;
                }
                tally.last_done = Some(done);
            }
            Err(_) => {
                tally.errors += 1;
                sender = None;
            }
        }
    }
}

async fn open(addr: &str) -> Option<http1::SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(conn);
    Some(sender)
}
