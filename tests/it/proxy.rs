//! A TCP stand-in in front of ClickHouse for faults the real server cannot be made to show on
//! cue: a request whose answer is lost after the server did the work, and a server that
//! answers a chosen error code. Everything else is passed through byte for byte.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What happens to a request whose head contains a rule's pattern.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Forward it, let the server answer, then cut the connection instead of the answer.
    LoseAnswer,
    /// Never forward it; answer HTTP 500 with this ClickHouse error text.
    Refuse(&'static str),
}

struct Rule {
    pattern: &'static str,
    fault: Fault,
    /// How many more matching requests get the fault (`usize::MAX`: all).
    left: usize,
}

pub struct Proxy {
    pub port: u16,
    rules: Arc<Mutex<Vec<Rule>>>,
    /// Requests seen, and of them those that met a fault.
    pub requests: Arc<AtomicUsize>,
    pub faults: Arc<AtomicUsize>,
}

impl Proxy {
    /// A proxy to `upstream` (host:port), or with `None` a server that refuses everything
    /// matched and closes anything else.
    pub fn start(upstream: Option<String>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = Proxy {
            port: listener.local_addr().unwrap().port(),
            rules: Arc::default(),
            requests: Arc::default(),
            faults: Arc::default(),
        };
        let (rules, requests, faults) = (
            proxy.rules.clone(),
            proxy.requests.clone(),
            proxy.faults.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (rules, requests, faults) = (rules.clone(), requests.clone(), faults.clone());
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    serve(client, upstream.as_deref(), &rules, &requests, &faults)
                });
            }
        });
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Applies `fault` to the next `times` requests whose head holds `pattern` (URL-encoded
    /// as the client sends it: an insert's query is in the URL, `INSERT+INTO+%60table%60`).
    pub fn fault(&self, pattern: &'static str, fault: Fault, times: usize) {
        self.rules.lock().unwrap().push(Rule {
            pattern,
            fault,
            left: times,
        });
    }
}

/// The fault for a request that starts with `chunk`, using up one of the rule's turns.
fn take_fault(rules: &Mutex<Vec<Rule>>, chunk: &[u8]) -> Option<Fault> {
    let text = String::from_utf8_lossy(chunk);
    let mut rules = rules.lock().unwrap();
    let rule = rules
        .iter_mut()
        .find(|r| r.left > 0 && text.contains(r.pattern))?;
    rule.left = rule.left.saturating_sub(1);
    Some(rule.fault)
}

fn starts_request(chunk: &[u8]) -> bool {
    chunk.starts_with(b"POST ") || chunk.starts_with(b"GET ")
}

fn serve(
    mut client: TcpStream,
    upstream: Option<&str>,
    rules: &Mutex<Vec<Rule>>,
    requests: &AtomicUsize,
    faults: &AtomicUsize,
) {
    let server = upstream.map(|addr| TcpStream::connect(addr).unwrap());
    // Set once the server's next answer must be swallowed and the connection cut.
    let lose = Arc::new(AtomicBool::new(false));
    if let Some(server) = &server {
        let (mut from, mut to, lose) = (
            server.try_clone().unwrap(),
            client.try_clone().unwrap(),
            lose.clone(),
        );
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n @ 1..) = from.read(&mut buf) {
                if lose.load(Ordering::SeqCst) {
                    // The server has answered: the work is done, and the client never hears.
                    let _ = to.shutdown(Shutdown::Both);
                    let _ = from.shutdown(Shutdown::Both);
                    return;
                }
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            let _ = to.shutdown(Shutdown::Both);
        });
    }
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n @ 1..) = client.read(&mut buf) {
        let chunk = &buf[..n];
        if starts_request(chunk) {
            requests.fetch_add(1, Ordering::SeqCst);
            match take_fault(rules, chunk) {
                Some(Fault::LoseAnswer) => {
                    faults.fetch_add(1, Ordering::SeqCst);
                    lose.store(true, Ordering::SeqCst);
                }
                Some(Fault::Refuse(message)) => {
                    faults.fetch_add(1, Ordering::SeqCst);
                    refuse(&mut client, message);
                    return;
                }
                None if server.is_none() => return,
                None => {}
            }
        }
        match &server {
            Some(server) => {
                let mut server: &TcpStream = server;
                if server.write_all(chunk).is_err() {
                    return;
                }
            }
            None => return,
        }
    }
    if let Some(server) = &server {
        let _ = server.shutdown(Shutdown::Write);
    }
}

/// Answers as ClickHouse answers a failed query, then drains what the client still sends so
/// closing does not reset the connection before the answer is read.
fn refuse(client: &mut TcpStream, message: &str) {
    let code = message
        .strip_prefix("Code: ")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or("0");
    let body = format!("{message}\n");
    let answer = format!(
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=UTF-8\r\n\
         X-ClickHouse-Exception-Code: {code}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(answer.as_bytes());
    let _ = client.shutdown(Shutdown::Write);
    let _ = client.set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 4096];
    while let Ok(1..) = client.read(&mut sink) {}
}
