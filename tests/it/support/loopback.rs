//! A small HTTP/1.1 server on 127.0.0.1 for feed tests: it speaks the real wire format and can
//! misbehave on purpose (reset mid-body, stall past a timeout), which a mock transport cannot.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query (`/v1/querybatch`, `/advisories?after=x`).
    pub target: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// What to answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A normal response.
    Ok {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
    /// Send the headers and the first `sent` bytes of a body of `total` bytes, then reset.
    ResetMidBody {
        /// Bytes sent before the reset.
        sent: usize,
        /// Declared Content-Length.
        total: usize,
    },
    /// Wait this long before answering anything.
    Stall(Duration),
}

impl Reply {
    /// 200 with a body.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self::Ok {
            status: 200,
            headers: vec![],
            body: body.into(),
        }
    }

    /// A status with no body.
    pub fn status(status: u16) -> Self {
        Self::Ok {
            status,
            headers: vec![],
            body: vec![],
        }
    }

    /// Add a header.
    pub fn header(mut self, k: &str, v: &str) -> Self {
        if let Self::Ok { headers, .. } = &mut self {
            headers.push((k.to_string(), v.to_string()));
        }
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running server; it stops accepting when dropped (the listener thread ends with the test
/// process).
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Every request received, in order.
    pub log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Start a server answering with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log2 = log.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let h = handler.clone();
                let log = log2.clone();
                thread::spawn(move || {
                    let _ = serve(stream, &*h, &log);
                });
            }
        });
        Self { url, log }
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

/// The paths (without query) of `reqs`, in order.
pub fn paths(reqs: &[Request]) -> Vec<String> {
    reqs.iter().map(|r| r.path().to_string()).collect()
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    // Head and body go out in two writes: without this, Nagle's algorithm and the client's
    // delayed ACK add ~40 ms to every keep-alive request.
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let len = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        let req = Request {
            method,
            target,
            headers,
            body,
        };
        log.lock().unwrap().push(req.clone());
        match handler(&req) {
            Reply::Ok {
                status,
                headers,
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                out.write_all(head.as_bytes())?;
                out.write_all(&body)?;
                out.flush()?;
            }
            Reply::ResetMidBody { sent, total } => {
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {total}\r\n\r\n");
                out.write_all(head.as_bytes())?;
                out.write_all(&vec![b'{'; sent])?;
                out.flush()?;
                // Closing with unread data pending makes the kernel send RST.
                let _ = out.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
            Reply::Stall(d) => {
                thread::sleep(d);
                return Ok(());
            }
        }
    }
}

/// The text of the header block of a Block Kit body (`""` when there is none).
pub fn slack_header(body: &serde_json::Value) -> String {
    body["blocks"][0]["text"]["text"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// A Slack incoming-webhook receiver at `path` that accepts only Block Kit bodies (a header
/// block first, at most 50 typed blocks, a non-empty fallback `text`) and keeps them; its first
/// `fail_first` requests get a 500.
pub fn slack_receiver(
    path: &'static str,
    fail_first: usize,
) -> (Server, Arc<Mutex<Vec<serde_json::Value>>>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(AtomicUsize::new(fail_first));
    let acc = accepted.clone();
    let server = Server::start(move |req: &Request| {
        if req.method != "POST" || req.path() != path {
            return Reply::status(404);
        }
        if failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Reply::status(500);
        }
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(&req.body) else {
            return Reply::status(400);
        };
        let blocks_ok = body["blocks"].as_array().is_some_and(|b| {
            !b.is_empty()
                && b.len() <= 50
                && b.iter().all(|x| x["type"].is_string())
                && b[0]["type"] == "header"
        });
        if !blocks_ok || body["text"].as_str().is_none_or(|t| t.is_empty()) {
            return Reply::status(400);
        }
        acc.lock().unwrap().push(body);
        Reply::ok("ok")
    });
    (server, accepted)
}
