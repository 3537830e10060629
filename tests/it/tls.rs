//! TLS: a self-signed server refused, since certificates are verified; HTTPS to a self-hosted
//! ClickHouse whose certificate a private CA signed (issue 30): refused with the bundled roots
//! alone, accepted with `CH_CA_FILE`. The CA and the server certificate
//! are made by openssl for each run; a TLS front (rustls) before the test server stands for
//! the reverse proxy such a server usually sits behind.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use crate::harness::*;

/// Runs openssl with `args` in `dir`, insisting on success.
fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate for `subject` valid for 2 days, `name.pem` with its key
/// `name.key`, in `dir`; `extra` arguments for `openssl req`.
fn self_signed(dir: &Path, name: &str, subject: &str, extra: &[&str]) {
    let (key, cert) = (format!("{name}.key"), format!("{name}.pem"));
    let mut args = vec![
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", subject, "-keyout",
        &key, "-out", &cert,
    ];
    args.extend(extra);
    openssl(dir, &args);
}

/// A CA (`ca.pem`) and a server certificate for localhost that it signed (`server.pem`,
/// `server.key`), in `dir`.
fn make_ca_and_server_cert(dir: &Path) {
    self_signed(
        dir,
        "ca",
        "/CN=ccusage-import test CA",
        &[
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
}

/// Serves TLS with `dir`'s server certificate on a free port of 127.0.0.1 and passes each
/// connection on to `upstream` (host:port) byte for byte. Runs until the test ends.
fn tls_front(dir: &Path, upstream: String) -> u16 {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
                tokio::spawn(async move {
                    // A handshake the client refuses simply ends here.
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                });
            }
        });
    });
    port
}

#[test]
fn a_server_certificate_of_a_private_ca_is_trusted_with_ch_ca_file() {
    let env = TestEnv::new("private_ca");
    let certs = env.path("certs");
    std::fs::create_dir_all(&certs).unwrap();
    make_ca_and_server_cert(&certs);
    let upstream = server_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let port = tls_front(&certs, upstream);
    let url = format!("https://localhost:{port}");
    let claude = env.generate_logs("claude", SMALL);
    let importer = || {
        env.importer("ca-box")
            .env("CH_URL", &url)
            .logs(&claude)
            .args(["--quiet", "--max-retries", "0"])
    };

    // The bundled roots alone: the certificate is refused, nothing is written.
    let refused = importer().run();
    assert_eq!(refused.code, 3, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains(&url) && refused.stderr.to_lowercase().contains("certificate"),
        "{}",
        refused.stderr
    );

    // With the CA: the import goes through the TLS front into the test server.
    let trusted = importer().env("CH_CA_FILE", certs.join("ca.pem")).run();
    assert_eq!(trusted.code, 0, "{}{}", trusted.stdout, trusted.stderr);
    assert_eq!(
        env.sql("SELECT count() FROM ccusage_import_runs WHERE machine_name = 'ca-box'")
            .trim(),
        "1"
    );
    assert!(env.count("ccusage_usage_daily") != "0");
    let shown = env
        .importer("ca-box")
        .env("CH_CA_FILE", certs.join("ca.pem"))
        .args(["config", "--get", "CH_CA_FILE"])
        .run();
    assert_eq!(
        shown.stdout.trim(),
        certs.join("ca.pem").display().to_string()
    );

    // A file that holds no certificate, or the server's key: one line naming the setting, exit 2.
    for bad in ["server.key", "server.ext"] {
        let run = importer().env("CH_CA_FILE", certs.join(bad)).run();
        assert_eq!(run.code, 2, "{bad}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{bad}: {}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!(
                "ccusage-import: error: CH_CA_FILE {}",
                certs.join(bad).display()
            )),
            "{bad}: {}",
            run.stderr
        );
    }
}

#[test]
fn tls_is_used_with_certificate_verification() {
    let env = TestEnv::new("tls");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    // A TLS server with a self-signed certificate: the handshake must be refused.
    self_signed(env.dir.path(), "self", "/CN=localhost", &[]);
    let (key, cert) = (env.path("self.key"), env.path("self.pem"));
    let port = free_port();
    let mut server = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-accept", &port.to_string(), "-www"])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("openssl s_server", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg("")
        .arg("--ch-host")
        .arg("localhost")
        .arg("--ch-port")
        .arg(port.to_string())
        .arg("--ch-secure")
        .arg("true")
        .arg("--max-retries")
        .arg("0")
        .run();
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!("https://localhost:{port}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.to_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );
    assert!(!dir.join("calls.log").exists());
}
