//! The SMTP adapter: hands a composed message (the exact bytes stored in the content store) to
//! the configured server through lettre's async transport and a small connection pool, and
//! says whether a failure is worth retrying.

use crate::settings::{SmtpSettings, TlsMode};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// A configured SMTP client. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The envelope sender (the `[smtp] from` address).
    sender: Address,
}

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// Retrying cannot help (a 5xx answer, an address the server refuses).
    pub permanent: bool,
    pub message: String,
}

fn address(a: &str, what: &str) -> Result<Address, String> {
    let (user, domain) = a
        .rsplit_once('@')
        .ok_or_else(|| format!("the {what} {a} has no '@'"))?;
    // SMTP carries the domain in its ASCII (A-label) form.
    let domain = idna::domain_to_ascii(domain)
        .map_err(|_| format!("the domain of the {what} {a} is not IDNA"))?;
    Address::new(user, domain).map_err(|e| format!("the {what} {a}: {e}"))
}

fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters, String> {
    let mut b = TlsParameters::builder(settings.host.clone());
    // The system's certificate authorities, then the configured CA file.
    if let Ok(certs) = rustls_native_certs::load_native_certs() {
        for c in certs {
            if let Ok(cert) = Certificate::from_der(c.to_vec()) {
                b = b.add_root_certificate(cert);
            }
        }
    }
    if let Some(path) = &settings.tls_ca_file {
        let pem =
            std::fs::read(path).map_err(|e| format!("smtp.tls_ca_file {}: {e}", path.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| format!("smtp.tls_ca_file {}: {e}", path.display()))?;
        b = b.add_root_certificate(cert);
    }
    b.build_rustls().map_err(|e| format!("smtp TLS: {e}"))
}

impl Mailer {
    /// A client for `settings` (the password already resolved). Nothing connects until the first
    /// message.
    pub fn new(settings: &SmtpSettings, password: Option<String>) -> Result<Mailer, String> {
        let sender = settings.sender().map_err(|e| e.to_string())?;
        let sender = address(sender.address.as_str(), "sender")?;
        let tls = match settings.tls {
            TlsMode::None => Tls::None,
            TlsMode::Starttls => Tls::Required(tls_parameters(settings)?),
            TlsMode::Tls => Tls::Wrapper(tls_parameters(settings)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs_f64(settings.timeout_secs)))
            .pool_config(
                PoolConfig::new()
                    .max_size(settings.pool_size)
                    .idle_timeout(Duration::from_secs(60)),
            );
        if let (Some(user), Some(password)) = (&settings.username, password) {
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Mailer {
            transport: builder.build(),
            sender,
        })
    }

    /// Sends `message` to `recipient`; answers once the server accepted it (its final `250`).
    pub async fn send(&self, recipient: &str, message: &[u8]) -> Result<(), SendError> {
        let to = address(recipient, "recipient").map_err(|message| SendError {
            permanent: true,
            message,
        })?;
        let envelope =
            Envelope::new(Some(self.sender.clone()), vec![to]).map_err(|e| SendError {
                permanent: true,
                message: e.to_string(),
            })?;
        // lettre ends the data with CRLF "." CRLF; the message's own final CRLF is that first
        // CRLF (RFC 5321 §4.1.1.4), so the server stores exactly the bytes we composed.
        let message = message.strip_suffix(b"\r\n").unwrap_or(message);
        match self.transport.send_raw(&envelope, message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(SendError {
                // A refused login (530, 534, 535, 538) is our configuration, not the message:
                // retried, so mending the password sends what waits.
                permanent: e.is_permanent()
                    && !e.status().is_some_and(|c| {
                        matches!(c.to_string().as_str(), "530" | "534" | "535" | "538")
                    }),
                message: crate::domain::header::display_text(&e.to_string())
                    .chars()
                    .take(500)
                    .collect(),
            }),
        }
    }
}
