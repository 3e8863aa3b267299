//! The web form under load: `clients` threads, each on a keep-alive connection of its own, submit
//! JSON forms back to back for a while; `GET /healthz` at the same concurrency, run right before,
//! is the baseline (the HTTP stack alone). Against a `postroom serve` this benchmark starts (the
//! binary beside it, a fresh data folder, flush durability, no rate limit), or any server given
//! with `--webform-url` (so two builds can be measured by the same client).

use crate::engine::BenchArgs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process a benchmark started; stopped when dropped.
pub struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `postroom serve` (the binary beside this one) on `data`, with `extra` arguments and
/// `env`, its log in `log` (none: discarded), and answers it with its URL once it serves.
pub fn start_server(
    data: &Path,
    extra: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
    log: Option<&Path>,
) -> Result<(Server, String), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin: PathBuf = exe.with_file_name("postroom");
    if !bin.exists() {
        return Err(format!(
            "{} is missing: build it first (cargo build --release)",
            bin.display()
        ));
    }
    let stderr = match log {
        Some(path) => Stdio::from(std::fs::File::create(path).map_err(|e| e.to_string())?),
        None => Stdio::null(),
    };
    let child = Command::new(&bin)
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env("POSTROOM_WEBFORM_RATE_LIMIT_PER_MINUTE", "0")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let server = Server(child);
    let info = data.join("server.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(&info) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                if let Some(url) = v["url"].as_str() {
                    return Ok((server, url.to_string()));
                }
            }
        }
        if Instant::now() > deadline {
            return Err("the server did not start within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Requests per second and latency quantiles of one load.
struct Load {
    done: u64,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn load(
    clients: usize,
    secs: f64,
    request: impl Fn(&ureq::Agent, usize, u64) -> Result<(), String> + Sync,
) -> Result<Load, String> {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let results: Vec<Result<Vec<Duration>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let request = &request;
                s.spawn(move || {
                    let agent = ureq::AgentBuilder::new()
                        .timeout(Duration::from_secs(30))
                        .build();
                    let mut times = Vec::new();
                    let mut n = 0u64;
                    while Instant::now() < until {
                        let t = Instant::now();
                        request(&agent, c, n)?;
                        times.push(t.elapsed());
                        n += 1;
                    }
                    Ok(times)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a client panicked".into())))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut all = Vec::new();
    for r in results {
        all.extend(r?);
    }
    all.sort();
    let q = |f: f64| {
        all.get(((all.len() as f64 * f) as usize).min(all.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    Ok(Load {
        done: all.len() as u64,
        per_sec: all.len() as f64 / elapsed,
        p50_ms: q(0.5),
        p99_ms: q(0.99),
    })
}

pub fn run(args: &BenchArgs, root: &Path, secs: f64) -> Result<(), String> {
    let (_server, url) = match &args.webform_url {
        Some(url) => (None, url.trim_end_matches('/').to_string()),
        None => {
            let (server, url) = start_server(
                &root.join("webform"),
                &[],
                &[("POSTROOM_LOG_DURABILITY", "flush")],
                None,
            )?;
            (Some(server), url)
        }
    };
    let clients = args.clients;
    println!("\n## The web form under load ({clients} clients, {secs}s per load, {url})");
    let health = format!("{url}/healthz");
    let form = format!("{url}/api/v1/webform");
    let baseline = load(clients, secs, |agent, _, _| {
        agent
            .get(&health)
            .call()
            .map(|_| ())
            .map_err(|e| format!("GET /healthz: {e}"))
    })?;
    let forms = load(clients, secs, |agent, c, n| {
        let body = serde_json::json!({
            "from": format!("customer-{c}-{n}@example.com"),
            "name": format!("Customer {c}"),
            "subject": format!("Order {n} has not arrived"),
            "body": "Hello, my order from last week has not arrived yet. Could you check it?",
        });
        match agent.post(&form).send_json(body) {
            Ok(r) if r.status() == 202 => Ok(()),
            Ok(r) => Err(format!("POST /webform answered {}", r.status())),
            Err(e) => Err(format!("POST /webform: {e}")),
        }
    })?;
    let row = |name: &str, l: &Load| {
        println!(
            "| {name} | {} | {:.0} | {:.2} | {:.2} |",
            l.done, l.per_sec, l.p50_ms, l.p99_ms
        )
    };
    println!("| load | requests | per second | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|");
    row("GET /healthz (baseline)", &baseline);
    row("POST /api/v1/webform (202, durable)", &forms);
    println!(
        "web form / baseline: {:.3} of the requests per second",
        forms.per_sec / baseline.per_sec.max(f64::MIN_POSITIVE)
    );
    Ok(())
}
