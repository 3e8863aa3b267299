//! From a web form to the offer on the chosen agent's desktop: a `postroom serve` this benchmark
//! starts (the binary beside it, a fresh data folder, flush durability) with `agents` ready
//! agents listed in its configuration, each reading its own `GET /api/v1/me/events` stream; forms
//! are submitted at a steady rate, and each offer's latency is the time from the start of the
//! form's request to the offer event on the agent's stream. The form's own response time, in
//! the same run, is the baseline.

use crate::webform::start_server;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::process::Command;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

fn add_user(data: &Path, name: &str, role: &str) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe.with_file_name("postroom"))
        .args(["users", "add", name, "--role", role, "--data"])
        .arg(data)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "users add {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

pub fn run(root: &Path, agents: usize, rate: f64, secs: f64) -> Result<(), String> {
    let data = root.join("offers");
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let mut tokens = Vec::new();
    let mut config = String::from(
        "[workflow.process]\ninbound = [{ step = \"route\", skills = [\"billing\"] }]\n\n",
    );
    for i in 0..agents {
        let name = format!("agent{i}");
        tokens.push(add_user(&data, &name, "agent")?);
        config.push_str(&format!(
            "[[agents]]\nuser = \"{name}\"\nskills = {{ billing = {} }}\ncapacity = {{ email = 100 }}\n\n",
            1 + i % 10
        ));
    }
    let config_path = root.join("offers.toml");
    std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
    let (_server, url) = start_server(
        &data,
        &["--config".as_ref(), config_path.as_os_str()],
        &[("POSTROOM_LOG_DURABILITY", "flush")],
        None,
    )?;
    // Every agent ready, each reading its stream on a thread of its own.
    let (tx, offers) = mpsc::channel::<(String, Instant)>();
    for token in &tokens {
        let r = ureq::post(&format!("{url}/api/v1/me/state"))
            .set("Authorization", &format!("Bearer {token}"))
            .send_json(serde_json::json!({"state": "ready"}));
        if let Err(e) = r {
            return Err(format!("POST /me/state: {e}"));
        }
        let resp = ureq::get(&format!("{url}/api/v1/me/events"))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .map_err(|e| format!("GET /me/events: {e}"))?;
        let tx = tx.clone();
        std::thread::spawn(move || {
            let reader = std::io::BufReader::new(resp.into_reader());
            let mut offer = false;
            for line in reader.lines() {
                let Ok(line) = line else { return };
                if line == "event: offer" {
                    offer = true;
                } else if let (true, Some(data)) = (offer, line.strip_prefix("data: ")) {
                    let at = Instant::now();
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(data) {
                        if let Some(id) = v["interaction_id"].as_str() {
                            if tx.send((id.to_string(), at)).is_err() {
                                return;
                            }
                        }
                    }
                    offer = false;
                }
            }
        });
    }
    drop(tx);
    // The forms, one every 1/rate seconds.
    let submitted: Arc<Mutex<HashMap<String, (Instant, Duration)>>> = Default::default();
    let total = (rate * secs) as usize;
    let gap = Duration::from_secs_f64(1.0 / rate);
    let form = format!("{url}/api/v1/webform");
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let start = Instant::now();
    for n in 0..total {
        let due = start + gap * n as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let t = Instant::now();
        let r = agent
            .post(&form)
            .send_json(serde_json::json!({
                "from": format!("customer{n}@example.com"),
                "subject": format!("Invoice {n} charged twice"),
                "body": "Hello, my card was charged twice for the same invoice.",
            }))
            .map_err(|e| format!("POST /webform: {e}"))?;
        let answered = t.elapsed();
        let v: serde_json::Value = r.into_json().map_err(|e| e.to_string())?;
        let id = v["interaction_id"].as_str().unwrap_or_default().to_string();
        submitted
            .lock()
            .map_err(|_| "poisoned")?
            .insert(id, (t, answered));
    }
    // Every offer, or 10 s more.
    let mut latencies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while latencies.len() < total {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        let Ok((id, at)) = offers.recv_timeout(left) else {
            break;
        };
        if let Some((t, _)) = submitted.lock().map_err(|_| "poisoned")?.get(&id) {
            latencies.push(at.duration_since(*t).as_secs_f64() * 1000.0);
        }
    }
    let mut forms: Vec<f64> = submitted
        .lock()
        .map_err(|_| "poisoned")?
        .values()
        .map(|(_, d)| d.as_secs_f64() * 1000.0)
        .collect();
    latencies.sort_by(f64::total_cmp);
    forms.sort_by(f64::total_cmp);
    println!(
        "\n## From a web form to the offer on the agent's event stream ({agents} agents, {rate} forms/s for {secs} s)"
    );
    println!("| measure | count | p50 ms | p99 ms |");
    println!("|---|---|---|---|");
    println!(
        "| POST /api/v1/webform answered (baseline) | {} | {:.2} | {:.2} |",
        forms.len(),
        quantile(&forms, 0.5),
        quantile(&forms, 0.99)
    );
    println!(
        "| offer event received on the agent's stream | {} | {:.2} | {:.2} |",
        latencies.len(),
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.99)
    );
    if latencies.len() < total {
        return Err(format!(
            "{} of {total} offers arrived within 10 s of the last form",
            latencies.len()
        ));
    }
    println!(
        "offer / form answered: p50 {:.1}×, p99 {:.1}×",
        quantile(&latencies, 0.5) / quantile(&forms, 0.5).max(f64::MIN_POSITIVE),
        quantile(&latencies, 0.99) / quantile(&forms, 0.99).max(f64::MIN_POSITIVE)
    );
    Ok(())
}
