//! A real SMTP server for the tests: aiosmtpd (the test command installs `python3-aiosmtpd`) on
//! 127.0.0.1 and a high port, with a handler (`scripts/smtp_sink.py`) that keeps each message
//! exactly as it arrived (the DATA bytes after dot-unstuffing, CRLF and all) with its envelope,
//! so a test reads back what a customer's server would receive, byte for byte. Recipients whose
//! local part starts with `reject` are refused with `550 5.1.1` (a permanent failure).

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SCRIPT: &str = include_str!("../../scripts/smtp_sink.py");

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub bytes: Vec<u8>,
}

impl Received {
    /// The first value of header `name` (unfolded), if any.
    pub fn header(&self, name: &str) -> Option<String> {
        let text = String::from_utf8_lossy(&self.bytes);
        let head = text.split("\r\n\r\n").next().unwrap_or_default();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// A running sink; stopped (SIGKILL) when dropped.
pub struct SmtpSink {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
    _tmp: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        Self::start_on(crate::mailservers::free_port())
    }

    /// A sink on a given port (to stand in for a server that comes back).
    pub fn start_on(port: u16) -> SmtpSink {
        let tmp = tempfile::tempdir().expect("a temp dir");
        let mut sink = SmtpSink {
            port,
            dir: tmp.path().to_path_buf(),
            child: None,
            _tmp: tmp,
        };
        sink.restart();
        sink
    }

    /// Starts the (stopped) server again on the same port; what it received is kept.
    pub fn restart(&mut self) {
        std::fs::write(self.dir.join("sink.py"), SCRIPT).expect("the script");
        let out = self.dir.join("messages");
        std::fs::create_dir_all(&out).expect("a message folder");
        let child = Command::new("/usr/bin/python3")
            .arg(self.dir.join("sink.py"))
            .arg(&out)
            .arg(self.port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (scripts/test.sh installs python3-aiosmtpd)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("aiosmtpd did not listen on {} within 15 s", self.port);
    }

    /// Kills the server (as an outage would).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Every message received so far, in order of arrival.
    pub fn messages(&self) -> Vec<Received> {
        let out = self.dir.join("messages");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&out)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let meta: serde_json::Value = serde_json::from_slice(
                    &std::fs::read(p.with_extension("json")).expect("the envelope"),
                )
                .expect("JSON");
                Received {
                    mail_from: meta["mail_from"].as_str().unwrap_or_default().to_string(),
                    rcpt_tos: meta["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default(),
                    bytes: std::fs::read(&p).expect("the message"),
                }
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
