//! A scripted HTTP/1.1 collector on 127.0.0.1 for the delivery tests: it records every request
//! (arrival time, method, target, headers, body) and answers from a script, then 200.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Answer {
    Status(u16),
    RetryAfter(u16, String),
    /// Close the connection without answering.
    Drop,
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub at: Instant,
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The events of this request, each as (key, value) pairs.
    pub fn events(&self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        if self.method == "POST" {
            let body: serde_json::Value = serde_json::from_slice(&self.body).expect("a JSON body");
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_object().unwrap().clone())
                .collect()
        } else {
            let query = self.target.split_once('?').map_or("", |(_, q)| q);
            let mut map = serde_json::Map::new();
            for pair in query.split('&') {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                map.insert(k.to_owned(), serde_json::Value::String(v.to_owned()));
            }
            vec![map]
        }
    }
}

pub struct Collector {
    pub url: String,
    script: Arc<Mutex<VecDeque<Answer>>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Collector {
    pub fn start(script: impl IntoIterator<Item = Answer>) -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(script.into_iter().collect::<VecDeque<_>>()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (script.clone(), requests.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let (s, r) = (s.clone(), r.clone());
                thread::spawn(move || serve(stream, s, r));
            }
        });
        Collector {
            url,
            script,
            requests,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until `n` requests arrived.
    pub fn wait_for(&self, n: usize) -> Vec<Recorded> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.requests.lock().unwrap().len() < n && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        self.requests()
    }
}

fn serve(stream: TcpStream, script: Arc<Mutex<VecDeque<Answer>>>, requests: Arc<Mutex<Vec<Recorded>>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let length = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        requests.lock().unwrap().push(Recorded {
            at: Instant::now(),
            method,
            target,
            headers,
            body,
        });
        let answer = script.lock().unwrap().pop_front().unwrap_or(Answer::Status(200));
        let (status, extra) = match answer {
            Answer::Drop => return,
            Answer::Status(code) => (code, String::new()),
            Answer::RetryAfter(code, value) => (code, format!("Retry-After: {value}\r\n")),
        };
        let response = format!("HTTP/1.1 {status} Scripted\r\n{extra}Content-Length: 0\r\n\r\n");
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
