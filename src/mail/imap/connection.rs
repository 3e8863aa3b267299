//! IMAP connections for ingest: plain, STARTTLS or implicit TLS, every one with socket timeouts
//! (a half-open connection fails a read within two minutes instead of holding a mailbox and
//! shutdown forever), verified against the system's certificate authorities plus the mailbox's
//! own `tls_ca_file`.

use super::error::{ImapError, ImapResult};
use crate::settings::{MailboxSettings, TlsMode};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

pub type Session = imap::Session<imap::Connection>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Reads and writes; longer than any answer a healthy server takes for one batch.
pub const IO_TIMEOUT: Duration = Duration::from_secs(120);

/// A logged-in session and a handle on its socket (to restore timeouts the `imap` crate clears,
/// as it does after IDLE).
pub struct Conn {
    pub session: Session,
    /// The same socket as the session's (to put back timeouts the `imap` crate clears).
    pub socket: TcpStream,
    /// The server announced IDLE.
    pub idle: bool,
    /// The server announced MOVE (else: COPY, flag `\Deleted`, expunge those UIDs).
    pub moves: bool,
    /// The server announced UIDPLUS (UID EXPUNGE: only our messages are expunged).
    pub uidplus: bool,
    /// The server announced NAMESPACE (RFC 2342).
    pub namespace: bool,
}

/// Puts a session's socket timeouts back.
pub fn restore_timeouts(socket: &TcpStream) {
    let _ = socket.set_read_timeout(Some(IO_TIMEOUT));
    let _ = socket.set_write_timeout(Some(IO_TIMEOUT));
}

fn tcp(settings: &MailboxSettings) -> ImapResult<TcpStream> {
    use std::net::ToSocketAddrs;
    let where_ = format!("{}:{}", settings.host, settings.port);
    let addrs: Vec<_> = (settings.host.as_str(), settings.port)
        .to_socket_addrs()
        .map_err(|e| ImapError::transient(format!("resolving {where_}"), e))?
        .collect();
    let mut last = ImapError::transient(format!("resolving {where_}"), "no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(tcp) => {
                tcp.set_read_timeout(Some(IO_TIMEOUT))
                    .and_then(|_| tcp.set_write_timeout(Some(IO_TIMEOUT)))
                    .and_then(|_| tcp.set_nodelay(true))
                    .map_err(|e| ImapError::transient(format!("connecting to {where_}"), e))?;
                return Ok(tcp);
            }
            Err(e) => last = ImapError::transient(format!("connecting to {where_}"), e),
        }
    }
    Err(last)
}

/// The TLS client configuration: the system's roots plus the mailbox's own CA file.
fn tls_config(settings: &MailboxSettings) -> ImapResult<Arc<rustls::ClientConfig>> {
    tls_roots(settings)
        .map_err(|e| ImapError::permanent("TLS configuration", e))
        .map(|roots| {
            Arc::new(
                rustls::ClientConfig::builder()
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
            )
        })
}

fn tls_roots(settings: &MailboxSettings) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    // A system without a certificate bundle still works with a configured CA file.
    if let Ok(certs) = rustls_native_certs::load_native_certs() {
        roots.add_parsable_certificates(certs);
    }
    if let Some(path) = &settings.tls_ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| format!("reading tls_ca_file {}: {e}", path.display()))?;
        let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("tls_ca_file {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!(
                "tls_ca_file {} holds no PEM certificate",
                path.display()
            ));
        }
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(format!(
                "tls_ca_file {}: no usable certificate",
                path.display()
            ));
        }
    }
    if roots.is_empty() {
        return Err("no certificate authorities to verify the server with (install ca-certificates or set tls_ca_file)".into());
    }
    Ok(roots)
}

fn handshake(settings: &MailboxSettings, tcp: TcpStream) -> ImapResult<imap::Connection> {
    let name = rustls::pki_types::ServerName::try_from(settings.host.clone()).map_err(|e| {
        ImapError::permanent(format!("{} as a server name for TLS", settings.host), e)
    })?;
    let mut conn = rustls::ClientConnection::new(tls_config(settings)?, name)
        .map_err(|e| ImapError::permanent("starting TLS", e))?;
    let mut tcp = tcp;
    // Complete the handshake here, so a bad certificate is reported as such.
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).map_err(|e| {
            let context = format!("TLS with {}:{}", settings.host, settings.port);
            // rustls reports a refused certificate or protocol as InvalidData.
            if e.kind() == std::io::ErrorKind::InvalidData {
                ImapError::permanent(context, e)
            } else {
                ImapError::transient(context, e)
            }
        })?;
    }
    Ok(Box::new(rustls::StreamOwned::new(conn, tcp)))
}

/// Connects as the mailbox's TLS mode says and logs in.
pub fn connect(settings: &MailboxSettings, password: &str) -> ImapResult<Conn> {
    let where_ = format!("{}:{}", settings.host, settings.port);
    let tcp = tcp(settings)?;
    let socket = tcp
        .try_clone()
        .map_err(|e| ImapError::transient(format!("connecting to {where_}"), e))?;
    let greeting = |e| ImapError::transient(format!("greeting from {where_}"), e);
    let client = match settings.tls {
        TlsMode::None => {
            let mut c = imap::Client::new(Box::new(tcp) as imap::Connection);
            c.read_greeting().map_err(greeting)?;
            c
        }
        TlsMode::Tls => {
            let mut c = imap::Client::new(handshake(settings, tcp)?);
            c.read_greeting().map_err(greeting)?;
            c
        }
        TlsMode::Starttls => {
            let mut tcp = tcp;
            starttls(&mut tcp).map_err(|(permanent, e)| {
                let context = format!("STARTTLS with {where_}");
                if permanent {
                    ImapError::permanent(context, e)
                } else {
                    ImapError::transient(context, e)
                }
            })?;
            let mut c = imap::Client::new(handshake(settings, tcp)?);
            // The greeting came before STARTTLS; none follows the handshake.
            c.greeting_read = true;
            c
        }
    };
    let mut session = client
        .login(&settings.username, password)
        .map_err(|(e, _)| ImapError::imap("logging in", e))?;
    let (idle, moves, uidplus, namespace) = match session.capabilities() {
        Ok(c) => (
            c.has_str("IDLE"),
            c.has_str("MOVE"),
            c.has_str("UIDPLUS"),
            c.has_str("NAMESPACE"),
        ),
        Err(e) => return Err(ImapError::imap(format!("capabilities of {where_}"), e)),
    };
    Ok(Conn {
        session,
        socket,
        idle,
        moves,
        uidplus,
        namespace,
    })
}

/// One line from the server, read a byte at a time: nothing after it may be consumed, since TLS
/// starts right after the STARTTLS answer.
fn read_line(tcp: &mut TcpStream) -> Result<String, String> {
    use std::io::Read;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        if line.len() > 8192 {
            return Err("an answer line longer than 8 KiB".into());
        }
        match tcp.read(&mut byte) {
            Ok(0) => return Err("the server closed the connection".into()),
            Ok(_) => line.push(byte[0]),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_string())
}

/// Reads the answer to `tag` (untagged lines first), failing unless it is OK.
fn answer(tcp: &mut TcpStream, tag: &str) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    loop {
        let line = read_line(tcp)?;
        if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
            return if rest.to_ascii_uppercase().starts_with("OK") {
                Ok(lines)
            } else {
                Err(rest.to_string())
            };
        }
        lines.push(line);
    }
}

/// The plain-text part of STARTTLS: greeting, capabilities, the command. Never falls back to
/// plain text: the password would cross the network in clear. An error says whether it is
/// permanent (the server does not offer or refuses STARTTLS).
fn starttls(tcp: &mut TcpStream) -> Result<(), (bool, String)> {
    use std::io::Write;
    let transient = |e: String| (false, e);
    let greeting = read_line(tcp).map_err(transient)?;
    if !greeting.to_ascii_uppercase().starts_with("* OK") {
        return Err((true, format!("unexpected greeting {greeting:?}")));
    }
    tcp.write_all(b"s1 CAPABILITY\r\n")
        .map_err(|e| transient(e.to_string()))?;
    let caps = answer(tcp, "s1").map_err(transient)?;
    let offered = caps.iter().any(|l| {
        l.to_ascii_uppercase()
            .split_whitespace()
            .any(|w| w == "STARTTLS")
    }) || greeting.to_ascii_uppercase().contains("STARTTLS");
    if !offered {
        return Err((true, "the server does not offer STARTTLS".into()));
    }
    tcp.write_all(b"s2 STARTTLS\r\n")
        .map_err(|e| transient(e.to_string()))?;
    answer(tcp, "s2").map_err(|e| (true, e))?;
    Ok(())
}
