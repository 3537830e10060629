//! The HTTP client under the ClickHouse client: the crate's default, plus `TCP_NODELAY` and a
//! bound on every answer.
//!
//! An insert is sent as a few small writes (headers, then compressed chunks). With Nagle's
//! algorithm on, each of them can wait for the server's delayed ACK, about 40 ms an insert;
//! measured on 18.16, that was most of the importer's own time.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::connection::CaCerts;

/// What the `clickhouse` crate uses by default.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);
/// Below ClickHouse's own keep-alive timeout (3 s), so a pooled connection is never one the
/// server is closing.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(2);

/// The body type is the `clickhouse` crate's own, which it does not name publicly; it is
/// inferred where the client is handed over. No answer may exceed `max_response` bytes (see
/// [`Bounded`]); `ca` adds a private CA to the trusted roots.
pub fn client<B>(max_response: u64, ca: Option<&CaCerts>) -> Client<HttpsConnector<Bounded>, B>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_keepalive(Some(TCP_KEEPALIVE));
    connector.enforce_http(false);
    let connector = Bounded {
        inner: connector,
        limit: max_response,
    };
    // Certificates are checked against the Mozilla roots bundled with webpki-roots, so TLS
    // works the same on every machine, with verification always on; CH_CA_FILE adds a
    // private CA to them.
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = ca {
        // Each was parsed from PEM when the settings were checked; one rustls cannot use
        // would fail the handshake with a certificate error, which names CH_CA_FILE's server.
        let _ = roots.add_parsable_certificates(ca.certs.iter().cloned());
    }
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("the ring provider supports the default TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build(connector)
}

/// The failure of an answer larger than the bound: found in an error's chain by
/// [`too_large`].
#[derive(Debug)]
pub struct TooLarge {
    pub limit: u64,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the answer is larger than {} bytes", self.limit)
    }
}

impl std::error::Error for TooLarge {}

/// The bound that failed a request, if it failed because its answer was too large.
pub fn too_large(error: &(dyn std::error::Error + 'static)) -> Option<u64> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<TooLarge>() {
            return Some(found.limit);
        }
        // An io::Error's payload is not its source: look inside it.
        let inner = error
            .downcast_ref::<std::io::Error>()
            .and_then(|e| e.get_ref())
            .and_then(|e| e.downcast_ref::<TooLarge>());
        if let Some(found) = inner {
            return Some(found.limit);
        }
        next = error.source();
    }
    None
}

/// The connector under TLS: hyper's, with each connection [`Counted`]. The `clickhouse` crate
/// reads whole answers into memory (rows, or bytes) and has no bound of its own; the socket is
/// the one place every answer passes, typed fetches included.
#[derive(Clone)]
pub struct Bounded {
    inner: HttpConnector,
    limit: u64,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Uri> for Bounded {
    type Response = TokioIo<Counted>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let limit = self.limit;
        Box::pin(async move {
            let stream = connecting.await?.into_inner();
            Ok(TokioIo::new(Counted {
                stream,
                read: 0,
                limit,
            }))
        })
    }
}

/// A connection that fails a read once more than `limit` bytes came in since the client last
/// wrote: HTTP/1 sends a request, then reads its whole answer, so that is one answer's size
/// (headers and any TLS framing included).
pub struct Counted {
    stream: TcpStream,
    read: u64,
    limit: u64,
}

impl Connection for Counted {
    fn connected(&self) -> Connected {
        self.stream.connected()
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        self.read += (buf.filled().len() - before) as u64;
        if self.read > self.limit {
            let limit = self.limit;
            return Poll::Ready(Err(std::io::Error::other(TooLarge { limit })));
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        // A request goes out: the next answer starts.
        self.read = 0;
        Pin::new(&mut self.stream).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.read = 0;
        Pin::new(&mut self.stream).poll_write_vectored(cx, data)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
