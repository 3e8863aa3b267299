//! The .eml corpus (tests/fixtures/eml): every file parsed with LF and CRLF endings.

use postroom::mail::{parse, Limits};

#[test]
fn dump_corpus() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml");
    let mut files = vec![];
    for d in std::fs::read_dir(&root).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            files.push(f.unwrap().path());
        }
    }
    files.sort();
    for f in files {
        let raw = std::fs::read(&f).unwrap();
        let mut p = parse(&raw, &Limits::default());
        let atts: Vec<_> = p
            .attachments
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    a.content_type.clone(),
                    a.inline,
                    a.content_id.clone(),
                    a.bytes.len(),
                )
            })
            .collect();
        p.attachments.clear();
        p.html_sanitized = p.html_sanitized.map(|h| h.chars().take(3000).collect());
        p.html = p.html.map(|h| h.chars().take(120).collect());
        p.text = p.text.chars().take(400).collect();
        println!("=== {}\n{:#?}\nATT {:?}\n", f.display(), p, atts);
    }
}

#[test]
fn dump_junk() {
    use mail_parser::MimeHeaders;
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/eml/malformed/binary-junk.eml"
    ))
    .unwrap();
    let m = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .unwrap();
    for h in m.headers() {
        println!("H {:?} off {}..{}", h.name, h.offset_start, h.offset_end);
    }
    for p in &m.parts {
        println!(
            "P {:?} {}..{} enc_problem {}",
            p.content_type(),
            p.offset_body,
            p.offset_end,
            p.is_encoding_problem
        );
    }
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/eml/malformed/headers-only.eml"
    ))
    .unwrap();
    let m = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .unwrap();
    for p in &m.parts {
        println!(
            "P {:?} {}..{} enc_problem {} {:?}",
            p.content_type(),
            p.offset_body,
            p.offset_end,
            p.is_encoding_problem,
            p.body
        );
    }
}
