//! A floor under how slowly a request body may arrive. A photo sent at 0.2 bytes a second holds
//! a connection, a task, a file descriptor and a temporary file for days; here every window of
//! `UPLOAD_IDLE_TIMEOUT_SECONDS` must bring at least `UPLOAD_MIN_BYTES_PER_SECOND` × window bytes
//! (and at least one byte), or the body ends with an error and the upload's partial file goes.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The floor, from the settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyPace {
    pub window: Duration,
    pub min_bytes_per_second: u64,
}

impl BodyPace {
    fn min_bytes(&self) -> u64 {
        (self.min_bytes_per_second.saturating_mul(self.window.as_secs())).max(1)
    }
}

/// Middleware: every request body is paced.
pub(crate) async fn pace(State(pace): State<BodyPace>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let body = if body.is_end_stream() { body } else { Body::new(Paced::new(body, pace)) };
    next.run(Request::from_parts(parts, body)).await
}

/// Why a paced body stopped.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived too slowly: {got} bytes in {window} s, at least {needed} needed")]
pub(crate) struct TooSlow {
    got: u64,
    needed: u64,
    window: u64,
}

/// Only time spent waiting for the client counts: a handler that pauses between reads (a photo's
/// fsync, a database write) does not use up the client's window.
struct Paced {
    inner: Body,
    pace: BodyPace,
    /// Bytes received in the current window.
    got: u64,
    /// Time spent waiting for the client in the current window, up to the current wait.
    waited: Duration,
    /// When the current wait for the client began, while one is under way.
    pending_since: Option<Instant>,
    deadline: Pin<Box<Sleep>>,
    failed: bool,
}

impl Paced {
    fn new(inner: Body, pace: BodyPace) -> Paced {
        Paced {
            inner,
            pace,
            got: 0,
            waited: Duration::ZERO,
            pending_since: None,
            deadline: Box::pin(tokio::time::sleep(pace.window)),
            failed: false,
        }
    }

    /// At the end of a window of waiting: enough came (start the next one) or the body is cut.
    fn judge(&mut self, now: Instant) -> Result<(), TooSlow> {
        let needed = self.pace.min_bytes();
        if self.got < needed {
            self.failed = true;
            metrics::counter!("atm_slow_bodies_cut_total").increment(1);
            tracing::warn!(got = self.got, needed, "request body too slow; cut off");
            return Err(TooSlow { got: self.got, needed, window: self.pace.window.as_secs() });
        }
        self.got = 0;
        self.waited = Duration::ZERO;
        self.pending_since = self.pending_since.map(|_| now);
        Ok(())
    }
}

impl HttpBody for Paced {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.failed {
            return Poll::Ready(Some(Err(Box::new(TooSlow { got: 0, needed: 0, window: 0 }))));
        }
        let now = Instant::now();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(since) = this.pending_since.take() {
                    this.waited += now - since;
                }
                if let Some(Ok(f)) = &frame
                    && let Some(data) = f.data_ref()
                {
                    this.got += data.len() as u64;
                }
                if this.waited >= this.pace.window {
                    this.judge(now)?;
                }
                Poll::Ready(frame.map(|r| r.map_err(Into::into)))
            }
            Poll::Pending => {
                let since = *this.pending_since.get_or_insert(now);
                let mut left = this.pace.window.saturating_sub(this.waited + (now - since));
                if left.is_zero() {
                    this.waited += now - since;
                    this.judge(now)?;
                    left = this.pace.window;
                }
                this.deadline.as_mut().reset(now + left);
                // Registers the timer with this task; it wakes us to judge the window.
                let _ = this.deadline.as_mut().poll(cx);
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.failed && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use http_body_util::BodyExt;

    fn trickle(every: Duration, chunks: usize, size: usize) -> Body {
        let s = futures_util::stream::iter(0..chunks).then(move |_| async move {
            tokio::time::sleep(every).await;
            Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; size]))
        });
        Body::from_stream(s)
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickled_body_is_cut_at_the_end_of_its_first_window() {
        let pace = BodyPace { window: Duration::from_secs(30), min_bytes_per_second: 1024 };
        let body = Body::new(Paced::new(trickle(Duration::from_secs(5), 1000, 1), pace));
        let started = Instant::now();
        let err = body.collect().await.expect_err("a body at 0.2 B/s must not be accepted");
        assert!(err.to_string().contains("too slowly"), "{err}");
        assert!(started.elapsed() <= Duration::from_secs(35), "cut after one window, not later");
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_body_is_cut_even_without_a_minimum_rate() {
        let pace = BodyPace { window: Duration::from_secs(10), min_bytes_per_second: 0 };
        let body = Body::new(Paced::new(trickle(Duration::from_secs(3600), 1, 1), pace));
        assert!(body.collect().await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_handler_pausing_between_reads_does_not_use_up_the_clients_window() {
        let pace = BodyPace { window: Duration::from_secs(10), min_bytes_per_second: 1024 };
        // Less than one window's minimum, but all of it there at once: the client was not slow.
        let mut body = Body::new(Paced::new(Body::from(vec![b'x'; 100]), pace));
        // The server takes a minute before it reads (a fsync, a busy database): not the client's fault.
        tokio::time::sleep(Duration::from_secs(60)).await;
        let got = body.frame().await.expect("a frame").expect("not cut");
        assert_eq!(got.into_data().unwrap().len(), 100);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_at_a_steady_rate_passes_whole() {
        let pace = BodyPace { window: Duration::from_secs(10), min_bytes_per_second: 1024 };
        let body = Body::new(Paced::new(trickle(Duration::from_secs(1), 60, 4096), pace));
        let got = body.collect().await.expect("a fast enough body passes").to_bytes();
        assert_eq!(got.len(), 60 * 4096);
    }
}
