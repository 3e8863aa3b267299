//! The ingest section of `postroom bench`: from an IMAP server to queued interactions, against
//! the raw rate at which the same client fetches the same messages, and parse-only against bare
//! `mail-parser`, all in one run.

use crate::engine::BenchArgs;
use postroom::mail::imap::Ingest;
use postroom::settings::{MailboxSettings, Settings};
use postroom::startup::Engine;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn corpus(dir: &Path) -> Result<Vec<Vec<u8>>, String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| format!("--corpus {}: {e}", d.display()))? {
            let p = e.map_err(|e| e.to_string())?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let all: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display())))
        .collect::<Result<_, _>>()?;
    // IMAP literals cannot carry NUL bytes without the BINARY extension (an APPEND of one
    // stalls): such fixtures stay in the parser's tests, not in the server's folder.
    Ok(all.into_iter().filter(|m| !m.contains(&0)).collect())
}

/// Message `i`: a corpus message whose own Message-ID and From are replaced by unique ones (else
/// the copies of one fixture are one message to postroom, rightly), CRLF line endings.
fn nth(corpus: &[Vec<u8>], i: usize) -> Vec<u8> {
    let base = &corpus[i % corpus.len()];
    let text = String::from_utf8_lossy(base).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut out = format!("Message-ID: <bench-{i}@example.com>\nFrom: bench{i}@example.com\n");
    let mut skipping = false;
    for line in head.lines() {
        let lower = line.to_ascii_lowercase();
        if line.starts_with([' ', '\t']) {
            if !skipping {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        skipping = lower.starts_with("message-id:") || lower.starts_with("from:");
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(body);
    out.replace('\n', "\r\n").into_bytes()
}

fn session(
    addr: &str,
    user: &str,
    password: &str,
) -> Result<imap::Session<imap::Connection>, String> {
    let (host, port) = addr
        .rsplit_once(':')
        .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_string(), p)))
        .ok_or_else(|| format!("--imap: {addr:?} is not host:port"))?;
    let client = imap::ClientBuilder::new(host.as_str(), port)
        .mode(imap::ConnectionMode::Plaintext)
        .connect()
        .map_err(|e| format!("--imap {addr}: {e}"))?;
    client
        .login(user, password)
        .map_err(|(e, _)| format!("login as {user}: {e}"))
}

pub fn run(args: &BenchArgs, addr: &str, root: &Path, quick: bool) -> Result<(), String> {
    let n = if quick { 500 } else { args.messages };
    let corpus = corpus(&args.corpus)?;
    if corpus.is_empty() {
        return Err(format!("--corpus {}: no .eml files", args.corpus.display()));
    }
    let mut s = session(addr, &args.imap_user, &args.imap_password)?;
    // A fresh folder of exactly n messages.
    let folder = format!("bench{}", std::process::id());
    s.create(&folder)
        .map_err(|e| format!("creating {folder}: {e}"))?;
    for i in 0..n {
        s.append(&folder, &nth(&corpus, i))
            .finish()
            .map_err(|e| format!("append: {e}"))?;
        if i % 1000 == 999 {
            eprintln!("  appended {}", i + 1);
        }
    }
    eprintln!("  appended {n}; fetching");
    println!(
        "\n## IMAP ingest ({n} messages cycled from {} corpus files)",
        corpus.len()
    );

    // 1. The raw fetch: the same client, the same batches, no processing.
    let t = Instant::now();
    s.select(&folder).map_err(|e| e.to_string())?;
    let mut uids: Vec<u32> = s
        .uid_search("ALL")
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    uids.sort_unstable();
    let mut raws: Vec<Vec<u8>> = Vec::with_capacity(n);
    for chunk in uids.chunks(200) {
        let set = postroom::mail::ingest_plan::uid_set(chunk);
        let fetched = s
            .uid_fetch(set, "(UID BODY.PEEK[])")
            .map_err(|e| e.to_string())?;
        raws.extend(fetched.iter().filter_map(|f| f.body().map(<[u8]>::to_vec)));
        eprintln!("  fetched {}", raws.len());
    }
    let raw_secs = t.elapsed().as_secs_f64();
    let raw_rate = raws.len() as f64 / raw_secs;
    let _ = s.logout();

    // 2. Parsing only.
    let t = Instant::now();
    let mut parts = 0usize;
    for r in &raws {
        if let Some(m) = mail_parser::MessageParser::default().parse(r) {
            parts += m.parts.len();
        }
    }
    let bare = raws.len() as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let limits = postroom::mail::Limits::default();
    for r in &raws {
        parts += postroom::mail::parse(r, &limits).attachments.len();
    }
    let ours = raws.len() as f64 / t.elapsed().as_secs_f64();
    std::hint::black_box(parts);

    // 3. End to end: the server's own ingest, from the folder to durably queued interactions.
    let data = root.join("ingest-data");
    let mut settings = Settings::load(None, Vec::new()).map_err(|e| e.to_string())?;
    settings.data_dir = PathBuf::from(&data);
    settings.listen = "127.0.0.1:0".into();
    let (host, port) = addr.rsplit_once(':').unwrap_or((addr, "143"));
    let done_folder = format!("{folder}-done");
    let processed = if args.seen {
        String::new()
    } else {
        format!("processed_folder = \"{done_folder}\"\n")
    };
    let mailbox: MailboxSettings = toml::from_str(&format!(
        "name = \"bench\"\nhost = \"{host}\"\nport = {port}\ntls = \"none\"\nusername = \"{}\"\npassword = \"{}\"\nfolder = \"{folder}\"\n{processed}poll_interval_secs = 0.05\nbatch = {}\n",
        args.imap_user, args.imap_password, args.ingest_batch
    ))
    .map_err(|e| e.to_string())?;
    let e2e_secs = actix_web::rt::System::new().block_on(async move {
        let engine = Arc::new(Engine::start(settings).map_err(|e| e.to_string())?);
        let cpu_before = (machine_ticks(), process_ticks());
        let t = Instant::now();
        let mut ingest = Ingest::start(
            engine.ingest_handles(),
            vec![(mailbox, args.imap_password.clone())],
        );
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut report = Instant::now();
        // Every bench message lands in the inbound queue: its depth is a constant-time count, so
        // watching for the end costs the measured ingest nothing (decoding the whole cache every
        // few milliseconds would compete with it for the two cores).
        let inbound = engine.receiver.process().workflow.entry.clone();
        loop {
            let queued = engine
                .projections
                .read(|p| p.queues.depth(&inbound).unwrap_or(0));
            if report.elapsed() > Duration::from_secs(2) {
                report = Instant::now();
                eprintln!("  {queued} queued");
            }
            if queued >= n {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("ingest did not finish: {queued} of {n} queued"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = t.elapsed().as_secs_f64();
        let cpu_after = (machine_ticks(), process_ticks());
        ingest.stop();
        engine.shutdown();
        Ok::<_, String>((secs, cpu_before, cpu_after))
    })?;
    let (e2e_secs, (m0, p0), (m1, p1)) = e2e_secs;
    // 4. The IMAP work ingest cannot avoid: the same client fetches every message and moves it
    // (here back from the processed folder) or flags it, with no processing at all.
    let mut s = session(addr, &args.imap_user, &args.imap_password)?;
    let (from, what) = if args.seen {
        (&folder, "flag")
    } else {
        (&done_folder, "move")
    };
    s.select(from).map_err(|e| e.to_string())?;
    let mut back: Vec<u32> = s
        .uid_search("ALL")
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    back.sort_unstable();
    let t = Instant::now();
    let mut moved = 0usize;
    for chunk in back.chunks(200) {
        let set = postroom::mail::ingest_plan::uid_set(chunk);
        let fetched = s
            .uid_fetch(&set, "(UID BODY.PEEK[])")
            .map_err(|e| e.to_string())?;
        std::hint::black_box(fetched.len());
        if args.seen {
            // Ingest left them \Seen: the same STORE, the other way.
            s.uid_store(&set, "-FLAGS.SILENT (\\Seen)")
                .map_err(|e| e.to_string())?;
        } else {
            s.uid_mv(&set, &folder).map_err(|e| e.to_string())?;
        }
        moved += chunk.len();
    }
    let fetch_move_rate = moved as f64 / t.elapsed().as_secs_f64();
    let _ = s.logout();
    let e2e = n as f64 / e2e_secs;
    println!("| what | messages/s | ratio |");
    println!("|---|---|---|");
    println!("| raw fetch from the server (UID FETCH BODY.PEEK[], batches of 200) | {raw_rate:.0} | 1.0 |");
    println!(
        "| fetch and {what} by the same client, nothing else (the IMAP work ingest cannot avoid) | {fetch_move_rate:.0} | {:.2} of the raw fetch |",
        fetch_move_rate / raw_rate
    );
    println!(
        "| postroom end to end (fetch, parse, store, record, queue durably, {what}; batches of {}) | {e2e:.0} | {:.2} of the raw fetch |",
        args.ingest_batch,
        e2e / raw_rate
    );
    println!(
        "| postroom end to end against fetch and {what} alone | {e2e:.0} | {:.2} of fetch and {what} |",
        e2e / fetch_move_rate
    );
    println!("| parse only, bare mail-parser | {bare:.0} | 1.0 |");
    println!(
        "| parse only, postroom::mail::parse (+ sanitising, repairs) | {ours:.0} | {:.2} of bare |",
        ours / bare
    );
    // Where the end-to-end run's time went: is the machine's CPU the limit?
    if let (Some((busy0, total0)), Some((busy1, total1)), Some(p0), Some(p1)) = (m0, m1, p0, p1) {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let total = (total1 - total0).max(1) as f64;
        let machine = (busy1 - busy0) as f64 / total * cores;
        let ours = (p1 - p0) as f64 / total * cores;
        println!(
            "\nDuring the end-to-end run the machine's CPUs were busy {machine:.2} of {cores:.0} cores; postroom's process used {ours:.2} (the rest: the mail server and everything else)."
        );
    }
    Ok(())
}

/// The machine's busy and total CPU ticks (all cores), from /proc/stat.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4)?;
    Some((total - idle, total))
}

/// This process's CPU ticks (user and system), from /proc/self/stat, in the same unit as the
/// machine's ticks summed over cores.
fn process_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}
