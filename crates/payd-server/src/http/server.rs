//! Serving HTTP/1.1 with the limits a listener open to the world needs. hyper reads each
//! request's headers under a deadline (`server.header_read_timeout_secs`; the same deadline
//! closes a keep-alive connection left idle), and at most `server.max_connections` connections
//! are open at once: further ones wait in the listen backlog until one closes. The deadline
//! for a whole request, body included, is a layer of the router (`server.request_timeout_secs`).
//! axum's own `serve` exposes neither setting, so this is its accept loop with them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The connection limits.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time to send a request's headers, and the longest a keep-alive connection idles.
    pub header_read_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets the
/// requests in flight finish and closes idle connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let stop = CancellationToken::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // A slot first: past the cap, connections stay in the kernel's backlog, unread.
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = stream;
        let _ = stream.set_nodelay(true);
        // The peer's address travels with each request (the dashboard's login limit counts
        // attempts per client address).
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            router.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                req
            },
        ));
        let stop = stop.child_token();
        connections.spawn(async move {
            let _permit = permit;
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                () = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                // A client that went away or was cut off by a deadline: not payd's failure.
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    stop.cancel();
    while connections.join_next().await.is_some() {}
}
