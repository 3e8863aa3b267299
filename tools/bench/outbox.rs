//! Acknowledgements delivered through the outbox against a bare lettre client, in the same run,
//! to the same SMTP server (aiosmtpd; `scripts/bench-outbox.sh` starts one and passes `--smtp`).
//!
//! Baseline: lettre's async SMTP client with a pool of 4, sending `answers` acknowledgement-sized
//! messages (composed by `mail::outbound::format`, as the server composes them), 4 at once.
//! Outbox: a `postroom serve` started here with `[smtp]` (pool 4, the default fsync durability)
//! takes `answers` web forms from distinct customers (8 clients) and acknowledges each: the loop
//! policy's decision, composing, two appends for the answer and two for the send. Timed from the
//! first form to the last message the server accepted (`postroom_outbox_sent_total`).

use crate::engine::BenchArgs;
use lettre::address::Envelope;
use lettre::transport::smtp::client::Tls;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use postroom::domain::address::NamedAddress;
use postroom::domain::header::HeaderText;
use postroom::domain::EmailAddress;
use postroom::mail::outbound::{format, Outbound, Party};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn message(i: usize) -> Result<Vec<u8>, String> {
    let text = |s: &str| HeaderText::parse(s).map_err(|e| format!("{e:?}"));
    format(&Outbound {
        from: NamedAddress::parse("Support <support@example.test>")?,
        to: Party {
            name: Some(text(&format!("Customer {i}"))?),
            address: EmailAddress::parse(&format!("customer-{i}@example.com"))
                .map_err(|e| e.to_string())?,
        },
        subject: text(&format!("Re: Order {i} has not arrived [#ABCDE]"))?,
        message_id: text(&format!("{i:032x}.reply@example.test"))?,
        in_reply_to: None,
        references: Vec::new(),
        auto_replied: true,
        date: std::time::SystemTime::now(),
        text: format!(
            "Dear Customer {i},\n\nthank you for your message. We have received it and will \
             answer as soon as we can.\n\nIf you write to us about the same matter, please keep \
             [#ABCDE] in the subject, or simply answer this message.\n\nKind regards,\nCustomer \
             Support\n"
        ),
        html: None,
    })
    .map_err(|e| e.to_string())
}

fn bare_lettre(host: &str, port: u16, n: usize) -> Result<f64, String> {
    let messages: Vec<Vec<u8>> = (0..n).map(message).collect::<Result<_, _>>()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        use futures_util::StreamExt;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(Tls::None)
            .pool_config(PoolConfig::new().max_size(4))
            .build();
        let started = Instant::now();
        let results: Vec<Result<(), String>> =
            futures_util::stream::iter(messages.iter().enumerate())
                .map(|(i, m)| {
                    let transport = &transport;
                    async move {
                        let envelope = Envelope::new(
                            Some("support@example.test".parse().map_err(|e| format!("{e}"))?),
                            vec![format!("customer-{i}@example.com")
                                .parse()
                                .map_err(|e| format!("{e}"))?],
                        )
                        .map_err(|e| e.to_string())?;
                        let m = m.strip_suffix(b"\r\n").unwrap_or(m);
                        transport
                            .send_raw(&envelope, m)
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    }
                })
                .buffer_unordered(4)
                .collect()
                .await;
        let elapsed = started.elapsed().as_secs_f64();
        for r in results {
            r?;
        }
        eprintln!("(bare lettre: {n} sent in {elapsed:.2} s)");
        drop(transport);
        Ok(n as f64 / elapsed)
    })
}

fn postroom(args: &[&str]) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe.with_file_name("postroom"))
        .args(args)
        .output()
        .map_err(|e| format!("postroom {args:?}: {e} (build it first: cargo build --release)"))?;
    if !out.status.success() {
        return Err(format!(
            "postroom {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn sent_total(agent: &ureq::Agent, url: &str, token: &str) -> f64 {
    agent
        .get(&format!("{url}/metrics"))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("postroom_outbox_sent_total"))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0.0)
}

fn through_outbox(root: &Path, host: &str, port: u16, n: usize) -> Result<f64, String> {
    let data = root.join("outbox");
    let data_arg = data.to_str().ok_or("a UTF-8 path")?;
    let token = postroom(&[
        "users", "add", "bench", "--role", "admin", "--data", data_arg,
    ])?;
    let config = root.join("outbox.toml");
    std::fs::write(
        &config,
        format!(
            "[smtp]\nhost = \"{host}\"\nport = {port}\ntls = \"none\"\n\
             from = \"Support <support@example.test>\"\npool_size = 4\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let (server, url) = crate::webform::start_server(
        &data,
        &["--config".as_ref(), config.as_os_str()],
        &[],
        Some(&root.join("outbox.log")),
    )?;
    let started = Instant::now();
    let clients = 8;
    std::thread::scope(|s| -> Result<(), String> {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let url = &url;
                s.spawn(move || -> Result<(), String> {
                    let agent = ureq::agent();
                    for i in (c..n).step_by(clients) {
                        let body = serde_json::json!({
                            "from": format!("customer-{i}@example.com"),
                            "name": format!("Customer {i}"),
                            "subject": format!("Order {i} has not arrived"),
                            "body": "Hello, my order from last week has not arrived yet.",
                        });
                        agent
                            .post(&format!("{url}/api/v1/webform"))
                            .send_json(body)
                            .map_err(|e| e.to_string())?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "a client panicked".to_string())??;
        }
        Ok(())
    })?;
    let submitted = started.elapsed().as_secs_f64();
    let agent = ureq::agent();
    let deadline = Instant::now() + Duration::from_secs(if n > 500 { 600 } else { 60 });
    loop {
        let sent = sent_total(&agent, &url, &token);
        if sent >= n as f64 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the outbox sent {sent} of {n} within 10 minutes (log: {})",
                root.join("outbox.log").display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "(forms submitted in {submitted:.2} s; last acknowledgement accepted at {elapsed:.2} s)"
    );
    drop(server);
    Ok(n as f64 / elapsed)
}

pub fn run(args: &BenchArgs, smtp: &str, root: &Path, quick: bool) -> Result<(), String> {
    let (host, port) = smtp
        .rsplit_once(':')
        .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_string(), p)))
        .ok_or_else(|| format!("--smtp {smtp:?} is not host:port"))?;
    let n = if quick { 200 } else { args.answers };
    println!("\n## Acknowledgements through the outbox against bare lettre ({n} messages, {smtp})");
    let bare = bare_lettre(&host, port, n)?;
    let outbox = through_outbox(root, &host, port, n)?;
    println!("| sender | messages per second |");
    println!("|---|---|");
    println!("| bare lettre (pool 4, 4 at once) | {bare:.0} |");
    println!("| postroom: web form → acknowledgement → outbox (fsync) | {outbox:.0} |");
    println!(
        "outbox / bare lettre: {:.3} of the rate",
        outbox / bare.max(f64::MIN_POSITIVE)
    );
    Ok(())
}
