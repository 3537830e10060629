//! The HTTP client under the ClickHouse client: the crate's default, plus `TCP_NODELAY`.
//!
//! An insert is sent as a few small writes (headers, then compressed chunks). With Nagle's
//! algorithm on, each of them can wait for the server's delayed ACK, about 40 ms an insert;
//! measured on 18.16, that was most of the importer's own time.

use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::connection::CaCerts;

/// What the `clickhouse` crate uses by default.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);
/// Below ClickHouse's own keep-alive timeout (3 s), so a pooled connection is never one the
/// server is closing.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(2);

/// The body type is the `clickhouse` crate's own, which it does not name publicly; it is
/// inferred where the client is handed over.
pub fn client<B>(ca: Option<&CaCerts>) -> Client<HttpsConnector<HttpConnector>, B>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_keepalive(Some(TCP_KEEPALIVE));
    connector.enforce_http(false);
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
