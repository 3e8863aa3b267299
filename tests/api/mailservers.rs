//! Real mail servers for the integration tests: a private, unprivileged Dovecot (IMAP) per test,
//! on 127.0.0.1 and a free high port, stopped by a Drop guard. The test command installs the
//! Debian package (`scripts/test.sh`). Dovecot runs unprivileged from a private configuration
//! (as `nobody` when the tests run as root, since it refuses root for mail access).

use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The uid/gid Dovecot runs as when the tests run as root (Dovecot refuses root for mail access).
const NOBODY: u32 = 65534;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("a path");
    unsafe { libc::chown(c.as_ptr(), uid, gid) };
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("readable").flatten() {
            chown_tree(&entry.path(), uid, gid);
        }
    }
}

/// A running Dovecot with one user per mailbox address, all with the password `secret`.
pub struct Dovecot {
    pub port: u16,
    /// The implicit-TLS port, when started with TLS.
    pub tls_port: Option<u16>,
    /// The certificate authority that signed the server's certificate (PEM), when with TLS.
    pub ca_file: Option<PathBuf>,
    pub dir: PathBuf,
    child: Option<Child>,
    _tmp: tempfile::TempDir,
}

/// How a test's Dovecot differs from the default.
#[derive(Default)]
pub struct Options {
    /// TLS: STARTTLS on the IMAP port, implicit TLS on another, with a certificate for 127.0.0.1
    /// signed by a CA made for the test.
    pub tls: bool,
    /// Overrides the capabilities announced (e.g. without MOVE); the commands still work.
    pub capability: Option<String>,
    /// Log every message's copies, flag changes and expunges (Dovecot's mail_log plugin) to
    /// `dovecot.log`, to see which commands a client used.
    pub mail_log: bool,
    /// Name folders as Cyrus does: the personal namespace has the prefix `INBOX.` and `.` as
    /// separator, so `Processed` does not exist and cannot be created; `INBOX.Processed` can.
    pub inbox_prefix: bool,
}

/// A CA and a certificate for 127.0.0.1 signed by it, made with the openssl tool.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (scripts/test.sh installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=postroom test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext file");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}

impl Dovecot {
    pub fn start(users: &[&str]) -> Dovecot {
        Self::start_with(users, Options::default())
    }

    pub fn start_with(users: &[&str], options: Options) -> Dovecot {
        let tmp = tempfile::tempdir().expect("a temp dir");
        let dir = tmp.path().to_path_buf();
        // Every folder on the way must be traversable by the unprivileged user.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let port = free_port();
        let (user, group) = if is_root() {
            ("nobody".to_string(), "nogroup".to_string())
        } else {
            let name = std::env::var("USER").unwrap_or_else(|_| "nobody".into());
            (name.clone(), name)
        };
        let mut lines = String::new();
        for u in users {
            let home = dir.join("mail").join(u);
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(home.join("Maildir").join(sub)).expect("maildir");
            }
            lines.push_str(&format!("{u}:{{PLAIN}}secret::::{}\n", home.display()));
        }
        std::fs::write(dir.join("users"), lines).expect("users file");
        for sub in ["run", "state"] {
            std::fs::create_dir_all(dir.join(sub)).expect("dirs");
        }
        let d = dir.display();
        let tls_port = options.tls.then(free_port);
        let (ssl, imaps) = match tls_port {
            Some(p) => {
                make_certificates(&dir);
                (
                    format!("ssl = yes\nssl_cert = <{d}/server.pem\nssl_key = <{d}/server.key\n"),
                    format!("inet_listener imaps {{\n    address = 127.0.0.1\n    port = {p}\n    ssl = yes\n  }}"),
                )
            }
            None => (
                "ssl = no\n".to_string(),
                "inet_listener imaps {\n    port = 0\n  }".to_string(),
            ),
        };
        let capability = options
            .capability
            .map(|c| format!("protocol imap {{\n  imap_capability = {c}\n}}\n"))
            .unwrap_or_default()
            + if options.mail_log {
                "mail_plugins = $mail_plugins mail_log notify\n\
                 plugin {\n  mail_log_events = copy expunge\n  mail_log_fields = uid flags\n}\n"
            } else {
                ""
            }
            + if options.inbox_prefix {
                "namespace inbox {\n  inbox = yes\n  prefix = INBOX.\n  separator = .\n}\n"
            } else {
                ""
            };
        let conf = format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {d}/run\nstate_dir = {d}/state\n\
             instance_name = dovecot-test-{port}\nlog_path = {d}/dovecot.log\n\
             default_internal_user = {user}\ndefault_internal_group = {group}\ndefault_login_user = {user}\n\
             first_valid_uid = 0\nfirst_valid_gid = 0\n{ssl}disable_plaintext_auth = no\n{capability}\
             auth_mechanisms = plain login\nmail_location = maildir:~/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/users\n}}\n\
             userdb {{\n  driver = passwd-file\n  args = username_format=%u {d}/users\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
             {imaps}\n  chroot =\n}}\nservice anvil {{\n  chroot =\n}}\n"
        );
        std::fs::write(dir.join("dovecot.conf"), conf).expect("config");
        if is_root() {
            chown_tree(&dir, NOBODY, NOBODY);
        }
        let ca_file = tls_port.map(|_| dir.join("ca.pem"));
        let mut server = Dovecot {
            port,
            tls_port,
            ca_file,
            dir,
            child: None,
            _tmp: tmp,
        };
        server.restart();
        server
    }

    /// Starts the (stopped) server again on the same folder and port.
    pub fn restart(&mut self) {
        let mut cmd = Command::new("dovecot");
        cmd.arg("-c")
            .arg(self.dir.join("dovecot.conf"))
            .arg("-F")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // A group of its own: stopping kills the per-connection imap processes too.
            .process_group(0);
        if is_root() {
            cmd.uid(NOBODY).gid(NOBODY);
        }
        self.child = Some(
            cmd.spawn()
                .expect("dovecot runs (scripts/test.sh installs dovecot-imapd)"),
        );
        self.wait_ready();
    }

    /// Kills the server and every session process it started (as an outage would).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe { libc::kill(-(c.id() as libc::pid_t), libc::SIGKILL) };
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn wait_ready(&self) {
        // Generous: on a busy 2-core machine (tests training classifiers beside it) Dovecot's
        // start can take seconds.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default();
        panic!(
            "dovecot did not listen on {} within 30 s; its log:\n{log}",
            self.port
        );
    }

    /// A logged-in IMAP session for one of the users.
    pub fn session(&self, user: &str) -> imap::Session<imap::Connection> {
        let client = imap::ClientBuilder::new("127.0.0.1", self.port)
            .mode(imap::ConnectionMode::Plaintext)
            .connect()
            .expect("connect to dovecot");
        client
            .login(user, "secret")
            .map_err(|e| e.0)
            .expect("login")
    }

    /// Appends raw messages to a user's folder (as a mail server delivering them would).
    pub fn append(&self, user: &str, folder: &str, messages: &[Vec<u8>]) {
        let mut s = self.session(user);
        for m in messages {
            s.append(folder, m).finish().expect("append");
        }
        let _ = s.logout();
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGKILL frees the port at once (SIGTERM takes seconds, per the notes).
        self.stop();
    }
}

#[test]
fn dovecot_serves_appended_messages_over_imap() {
    let dovecot = Dovecot::start(&["support@example.test"]);
    let messages: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            format!("From: c{i}@example.com\r\nTo: support@example.test\r\nSubject: test {i}\r\nMessage-ID: <m{i}@example.com>\r\n\r\nbody {i}\r\n")
                .into_bytes()
        })
        .collect();
    dovecot.append("support@example.test", "INBOX", &messages);

    let mut s = dovecot.session("support@example.test");
    let mailbox = s.select("INBOX").expect("select");
    assert_eq!(mailbox.exists, 3);
    let fetched = s.uid_fetch("1:*", "(UID RFC822)").expect("fetch");
    let mut subjects: Vec<String> = fetched
        .iter()
        .map(|f| {
            let parsed = postroom::mail::parse(f.body().expect("a body"), &Default::default());
            parsed.subject
        })
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["test 0", "test 1", "test 2"]);
    let _ = s.logout();
}
