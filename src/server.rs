//! The accept loop: what `axum::serve` does, plus the limits a hostile client must not get
//! around — a bound on open connections, a deadline for a request's headers, and a graceful
//! shutdown that lets in-flight uploads finish.
//!
//! `axum::serve` gives hyper no timer, so hyper's header-read timeout never fires there: a client
//! trickling a header byte at a time would hold a connection and its task forever.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The connection-level limits, from the settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// Open connections at most; further clients wait in the kernel's accept queue.
    pub max_connections: usize,
    /// A request's headers must arrive within this time (also ends idle keep-alive connections).
    pub header_read_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open connections to
/// finish their requests.
pub(crate) async fn run(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    // HTTP/1.1 only. Browsers speak HTTP/2 only over TLS, which the platform's proxy ends; a
    // cleartext HTTP/2 connection ("prior knowledge") has no header deadline a client cannot
    // keep alive with pings, so one client could hold every connection slot.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // hyper lets a connection's read buffer grow to ~400 KiB. 64 KiB kept 37 MiB off the
        // peak of 32 concurrent uploads, for some ingest throughput (README "Reliability").
        .max_buf_size(64 * 1024);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // No Nagle: a response's last segment would otherwise wait for the client's delayed ACK.
        let _ = tcp.set_nodelay(true);
        let service = hyper::service::service_fn({
            let app = app.clone();
            move |req: hyper::Request<hyper::body::Incoming>| {
                let mut req = req.map(axum::body::Body::new);
                // The peer address feeds the per-address login limit.
                req.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(req)
            }
        });
        // Plain `serve_connection`: with upgrades the builder would ignore `http1_only`.
        let conn = builder.serve_connection(TokioIo::new(tcp), service).into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
