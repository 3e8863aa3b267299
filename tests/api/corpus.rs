//! The .eml corpus (tests/fixtures/eml): every file parsed with LF and CRLF endings.
//!
//! The fixtures are grouped as rfc / legacy / malformed / vendors (after stalwartlabs/mail-parser
//! `resources/eml/`). `CORPUS` says what each must yield; a guard ties the table to the files so a
//! moved or emptied corpus cannot pass. What `mail::parse` gets wrong today is listed per fixture in
//! `known_bugs` and pinned by one `#[ignore = "bug: ..."]` test each, so fixing a bug means removing
//! its marker and its `#[ignore]`.

use postroom::mail::{parse, Limits, ParsedMessage};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Fewer fixtures than this means the corpus was moved or emptied: the walk found nothing to test.
const MIN_FIXTURES: usize = 20;

/// One property a fixture is checked for; `Expect::known_bugs` names the ones that fail today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Identity,
    From,
    Subject,
    Text,
    Html,
    Attachments,
    Malformed,
    Automated,
    Report,
    Threading,
    /// Something of the message (text, subject, sender or a file) reaches the agent.
    Readable,
}

/// How the message is identified.
enum Id {
    /// By its Message-ID (without angle brackets).
    MessageId(&'static str),
    /// By `sha256:` and the hash of its bytes: it has no Message-ID.
    Hash,
}

/// What a delivery status notification must report.
struct Dsn {
    final_recipient: &'static str,
    action: &'static str,
    status: &'static str,
    original_message_id: &'static str,
}

/// What one fixture must yield.
struct Expect {
    /// Path under tests/fixtures/eml, with `/`.
    file: &'static str,
    identity: Id,
    /// The From address; `None`: the message has none that can be read.
    from: Option<&'static str>,
    /// The decoded display name of the sender, when checked.
    from_name: Option<&'static str>,
    /// Decoded display names that must appear among To and Cc.
    names: &'static [&'static str],
    /// A substring of the decoded subject.
    subject: &'static str,
    /// A substring of the decoded text body (compared with `\n` line endings).
    text: &'static str,
    /// The message carries an HTML part as sent.
    html: bool,
    attachments: usize,
    /// Names every one of which must be among the attachments.
    attachment_names: &'static [&'static str],
    /// An attachment's name and how its decoded bytes begin.
    attachment_bytes: Option<(&'static str, &'static [u8])>,
    /// An inline part with this Content-ID.
    inline_cid: Option<&'static str>,
    malformed: bool,
    automated: bool,
    report: Option<Dsn>,
    /// In-Reply-To and how many References.
    thread: Option<(&'static str, usize)>,
    known_bugs: &'static [Check],
}

const fn fx(
    file: &'static str,
    identity: Id,
    from: Option<&'static str>,
    subject: &'static str,
    text: &'static str,
) -> Expect {
    Expect {
        file,
        identity,
        from,
        from_name: None,
        names: &[],
        subject,
        text,
        html: false,
        attachments: 0,
        attachment_names: &[],
        attachment_bytes: None,
        inline_cid: None,
        malformed: false,
        automated: false,
        report: None,
        thread: None,
        known_bugs: &[],
    }
}

use Id::{Hash, MessageId as Mid};

static CORPUS: &[Expect] = &[
    // ---------------------------------------------------------------------------------- rfc/
    Expect {
        html: true,
        ..fx(
            "rfc/alternative-text-html.eml",
            Mid("hostile-1@lottery.example"),
            Some("winner@lottery.example"),
            "Account verification required",
            "verify your account within 24 hours: https://lottery.example/verify",
        )
    },
    Expect {
        from_name: Some("François Lefèvre"),
        names: &["Service clientèle", "Hélène Martin"],
        ..fx(
            "rfc/encoded-words.eml",
            Mid("encoded-words-1@example.fr"),
            Some("francois.lefevre@example.fr"),
            // Two adjacent encoded words: the folding white space between them must vanish.
            "Commande n°4711 : où est mon colis ?",
            "ma commande n°4711 n'est toujours pas arrivée",
        )
    },
    Expect {
        attachments: 1,
        attachment_names: &["Where is my parcel.eml"],
        attachment_bytes: Some((
            "Where is my parcel.eml",
            b"Return-Path: <p.novak@example.cz>",
        )),
        ..fx(
            "rfc/forwarded-rfc822.eml",
            Mid("fwd-7731@postroom.test"),
            Some("lead@postroom.test"),
            "Fwd: Where is my parcel?",
            "I am forwarding this customer's mail",
        )
    },
    Expect {
        html: true,
        attachments: 1,
        attachment_names: &["wheel.png"],
        attachment_bytes: Some(("wheel.png", b"\x89PNG\r\n\x1a\n")),
        ..fx(
            "rfc/mixed-two-alternatives.eml",
            Mid("mixed-alt-1@example.es"),
            Some("ines.garcia@example.es"),
            "Damaged suitcase wheel",
            // Each alternative gives its text once, in order, a blank line between them.
            "came off on the first trip:\n\nThe warranty card says two years.",
        )
    },
    Expect {
        attachments: 1,
        attachment_names: &["Invoice 2026-0042.pdf"],
        attachment_bytes: Some(("Invoice 2026-0042.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\r\n")),
        ..fx(
            "rfc/mixed-pdf-attachment.eml",
            Mid("5f2b1c0e.1c69fb81.8a2e.0042@example-corp.de"),
            Some("ap@example-corp.de"),
            "Invoice 2026-0042 disputed",
            "the attached invoice charges shipping twice",
        )
    },
    fx(
        "rfc/no-message-id.eml",
        Hash,
        Some("kiosk@branch-17.example.net"),
        "Printer at branch 17",
        "the receipt printer is out of paper",
    ),
    Expect {
        from_name: Some("Ann Lee"),
        names: &["Customer Support"],
        ..fx(
            "rfc/plain-text.eml",
            Mid("20261124081403.4711@mail.example.com"),
            Some("ann.lee@example.com"),
            "Order 4711 has not arrived",
            "Could you tell me where it is, or refund me?",
        )
    },
    fx(
        "rfc/quoted-printable.eml",
        Mid("qp-1@example.fr"),
        Some("claire.dubois@example.fr"),
        "Facture F-2026-118",
        // Spans two soft line breaks, one of them inside "déjà", and an encoded "=".
        "J'ai déjà payé la facture F-2026-118 mais je reçois encore des rappels de paiement. \
         Le montant = 89,00 EUR.",
    ),
    Expect {
        html: true,
        attachments: 1,
        attachment_names: &["logo.png"],
        attachment_bytes: Some(("logo.png", b"\x89PNG\r\n\x1a\n")),
        inline_cid: Some("logo@shop.example"),
        ..fx(
            "rfc/related-inline-image.eml",
            Mid("related-1@shop.example"),
            Some("news@shop.example"),
            "Your coupon did not work",
            // No text part: derived from the HTML.
            "The coupon code WINTER26 was refused at checkout.",
        )
    },
    Expect {
        attachments: 1,
        attachment_names: &["scratch.png"],
        attachment_bytes: Some(("scratch.png", b"\x89PNG\r\n\x1a\n")),
        inline_cid: Some("scratch@example.it"),
        ..fx(
            "rfc/related-text-image-text.eml",
            Mid("related-text-1@example.it"),
            Some("marco.rossi@example.it"),
            "Scratched table top",
            // The text after the image is the second part of a multipart/related.
            "is scratched here:\n\nIt is 20 cm long.",
        )
    },
    Expect {
        thread: Some(("reply-1042-2@postroom.test", 3)),
        ..fx(
            "rfc/reply-in-reply-to.eml",
            Mid("CAJ7reply3@mail.example.com"),
            Some("ann.lee@example.com"),
            "Re: [#PR-1042] Refund request",
            "Thank you, the refund has arrived.",
        )
    },
    Expect {
        from_name: Some("Jürgen Weber"),
        attachments: 3,
        attachment_names: &[
            "naïve file.txt",
            "Rechnung für März 2026.pdf",
            "Quarterly support report for the EMEA region 2026.csv",
        ],
        attachment_bytes: Some(("naïve file.txt", "Première ligne".as_bytes())),
        ..fx(
            "rfc/rfc2231-names.eml",
            Mid("rfc2231-1@example.de"),
            Some("juergen.weber@example.de"),
            "Documents for my claim",
            "Here are the documents for my claim.",
        )
    },
    fx(
        "rfc/two-text-parts.eml",
        Mid("two-text-1@example.in"),
        Some("priya.nair@example.in"),
        "Wrong size delivered",
        // A gateway's notice, added as a second text/plain part.
        "received size 41.\n\nSent from the Example Corp mail gateway.",
    ),
    // ------------------------------------------------------------------------------- legacy/
    Expect {
        known_bugs: &[],
        ..fx(
            "legacy/8bit-no-charset.eml",
            Mid("legacy-8bit-no-charset@example.fr"),
            Some("jean.martin@example.fr"),
            "Remboursement",
            "je voudrais être remboursé pour le café renvoyé",
        )
    },
    Expect {
        // Every header written in raw Latin-1, as the body is.
        from_name: Some("Jérôme Dupré"),
        names: &["Service Après-Vente"],
        attachments: 1,
        attachment_names: &["reçu théière.pdf"],
        attachment_bytes: Some(("reçu théière.pdf", b"%PDF-1.4\n")),
        ..fx(
            "legacy/8bit-headers.eml",
            Mid("legacy-8bit-headers@example.fr"),
            Some("jerome.dupre@example.fr"),
            "Réclamation : théière cassée",
            "La théière de la commande 6120 est arrivée cassée.",
        )
    },
    Expect {
        from_name: Some("陳大文"),
        ..fx(
            "legacy/big5.eml",
            Mid("legacy-big5@example.net"),
            Some("chan.taiman@example.hk"),
            "訂單查詢",
            "請問我的訂單 4410 何時出貨？",
        )
    },
    Expect {
        from_name: Some("王伟"),
        ..fx(
            "legacy/gb2312.eml",
            Mid("legacy-gb2312@example.net"),
            Some("wang.wei@example.cn"),
            "订单未收到",
            "我的订单 6620 还没有收到，请帮忙查询物流信息。",
        )
    },
    fx(
        "legacy/gbk.eml",
        Mid("legacy-gbk@example.net"),
        Some("zhu.rong@example.cn"),
        "发票抬头",
        // 镕 is outside GB2312: only a real GBK decoder reads it.
        "朱镕基贸易有限公司",
    ),
    Expect {
        from_name: Some("佐藤花子"),
        ..fx(
            "legacy/iso-2022-jp.eml",
            Mid("legacy-iso-2022-jp@example.jp"),
            Some("hanako.sato@example.jp"),
            "返品のお問い合わせ",
            "注文番号 3105 の商品が届きましたが、色が違いました。",
        )
    },
    Expect {
        from_name: Some("Klaus Müller"),
        ..fx(
            "legacy/iso-8859-1.eml",
            Mid("legacy-iso-8859-1@example.net"),
            Some("k.mueller@example.de"),
            "Stornierung Bestellung München",
            "ich möchte meine Bestellung 8812 stornieren.\n\nMit freundlichen Grüßen",
        )
    },
    Expect {
        from_name: Some("Chloé Petit"),
        ..fx(
            "legacy/iso-8859-15.eml",
            Mid("legacy-iso-8859-15@example.net"),
            Some("chloe.petit@example.fr"),
            "Double débit",
            "Le montant de 49,90 € a été débité deux fois. J'en ai gros sur le cœur.",
        )
    },
    Expect {
        from_name: Some("Paweł Kowalski"),
        ..fx(
            "legacy/iso-8859-2.eml",
            Mid("legacy-iso-8859-2@example.net"),
            Some("p.kowalski@example.pl"),
            "Zwrot pieniędzy",
            "Dzień dobry,\n\nzamówienie 3301 nie dotarło. Proszę o zwrot pieniędzy.",
        )
    },
    Expect {
        from_name: Some("Ольга Смирнова"),
        ..fx(
            "legacy/koi8-r.eml",
            Mid("legacy-koi8-r@example.net"),
            Some("olga@example.ru"),
            "Вопрос по доставке",
            "В письме ниже текст о доставке заказа 1290",
        )
    },
    Expect {
        attachments: 1,
        attachment_names: &["Facture n°12 été.pdf"],
        known_bugs: &[],
        ..fx(
            "legacy/percent-encoded-name.eml",
            Mid("legacy-percent-name@example.fr"),
            Some("lucie.bernard@example.fr"),
            "Facture jointe",
            "Voici la facture en pièce jointe.",
        )
    },
    fx(
        "legacy/shift_jis.eml",
        Mid("legacy-shift_jis@example.net"),
        Some("tanaka@example.jp"),
        "注文の表示について",
        // ソ and 表 end in the byte 0x5C (a backslash in ASCII).
        "注文番号 2207 の表示がおかしいです。ソフトの不具合でしょうか。",
    ),
    fx(
        "legacy/utf-7.eml",
        Mid("legacy-utf-7@example.at"),
        Some("lisa.schmidt@example.at"),
        "Grüße aus Wien",
        "Liebe Grüße aus Wien, die Lieferung 6001 fehlt noch.",
    ),
    Expect {
        from_name: Some("Иван Петров"),
        ..fx(
            "legacy/windows-1251.eml",
            Mid("legacy-windows-1251@example.net"),
            Some("ivan.petrov@example.ru"),
            "Возврат заказа",
            "Прошу оформить возврат заказа 7719, товар пришёл повреждённым.",
        )
    },
    fx(
        "legacy/windows-1252.eml",
        Mid("legacy-windows-1252@example.net"),
        Some("sean@example.ie"),
        "Express delivery – not express",
        "I was charged €120 for “express” delivery – it wasn’t express at all.",
    ),
    Expect {
        // Written as NFC, the form an agent types when searching.
        from_name: Some("Nguyễn Văn An"),
        known_bugs: &[],
        ..fx(
            "legacy/windows-1258.eml",
            Mid("legacy-windows-1258@example.vn"),
            Some("an.nguyen@example.vn"),
            "Đơn hàng 5120",
            "Tôi chưa nhận được đơn hàng 5120.",
        )
    },
    // ---------------------------------------------------------------------------- malformed/
    Expect {
        malformed: true,
        known_bugs: &[],
        ..fx(
            "malformed/binary-junk.eml",
            Hash,
            None,
            "",
            // The gzip magic, read as lossy UTF-8: what the "not a message" fallback keeps.
            "\u{1f}\u{fffd}\u{8}",
        )
    },
    Expect {
        malformed: true,
        attachments: 1,
        attachment_names: &["receipt.pdf"],
        attachment_bytes: Some(("receipt.pdf", b"%PDF-1.4\n")),
        known_bugs: &[],
        ..fx(
            "malformed/broken-base64.eml",
            Mid("broken-base64-1@example.com"),
            Some("mia.wong@example.com"),
            "Scan of the receipt",
            "The receipt is attached.",
        )
    },
    Expect {
        malformed: true,
        known_bugs: &[],
        ..fx(
            "malformed/header-without-colon.eml",
            Mid("no-colon-1@example.com"),
            Some("nina.ivanova@example.com"),
            "Lost password",
            "I cannot log in any more.",
        )
    },
    Expect {
        // RFC 5322 3.5: the body is optional. Everything is in the subject: not malformed.
        malformed: false,
        known_bugs: &[],
        ..fx(
            "malformed/headers-only.eml",
            Mid("headers-only-1@example.org"),
            Some("tom.baker@example.org"),
            "Call me back please, 0612345678",
            "",
        )
    },
    Expect {
        malformed: true,
        ..fx(
            "malformed/missing-from.eml",
            Mid("missing-from-1@gateway.example"),
            None,
            "Complaint without sender",
            "a web form gateway that forgot the From header",
        )
    },
    Expect {
        // A display name without an address: kept, but there is no address to answer.
        from_name: Some("Whomever"),
        malformed: true,
        ..fx(
            "malformed/name-without-address.eml",
            Mid("name-only-1@kiosk.example"),
            None,
            "Please call me back",
            "My number is 0612 345 678.",
        )
    },
    Expect {
        malformed: true,
        known_bugs: &[],
        ..fx(
            "malformed/nul-bytes.eml",
            Mid("nul-1@fax2mail.example"),
            Some("gw@fax2mail.example"),
            "Fax received",
            "Fax from +33 1 23 45 67 89",
        )
    },
    Expect {
        malformed: true,
        attachments: 1,
        attachment_names: &["packing-list.txt"],
        // Declared base64, but nothing of it decodes: the bytes as sent.
        attachment_bytes: Some(("packing-list.txt", b"Packing list for order 3390:")),
        ..fx(
            "malformed/undecodable-base64.eml",
            Mid("not-base64-1@example.ng"),
            Some("olu.adeyemi@example.ng"),
            "Packing list",
            "The packing list is attached; two items are missing.",
        )
    },
    Expect {
        malformed: true,
        attachments: 1,
        attachment_names: &["notes.txt"],
        attachment_bytes: Some(("notes.txt", b"first line of the notes")),
        ..fx(
            "malformed/unclosed-boundary.eml",
            Mid("unclosed-1@example.com"),
            Some("omar.haddad@example.com"),
            "Truncated upload",
            "My phone cut the message off, sorry.",
        )
    },
    // ------------------------------------------------------------------------------ vendors/
    Expect {
        html: true,
        ..fx(
            "vendors/apple-mail.eml",
            Mid("A1B2C3D4-E5F6-4789-ABCD-EF0123456789@icloud.example"),
            Some("emma.johansson@icloud.example"),
            "Subscription renewal",
            "Hello, my subscription renewed automatically",
        )
    },
    Expect {
        html: true,
        attachments: 1,
        attachment_names: &["cushion.png"],
        attachment_bytes: Some(("cushion.png", b"\x89PNG\r\n\x1a\n")),
        ..fx(
            "vendors/apple-mail-html-image-html.eml",
            Mid("C3D4E5F6-A7B8-4922-9900-AABBCCDDEEFF@icloud.example"),
            Some("lena.fischer@icloud.example"),
            "Wrong colour",
            "I ordered the blue cushion and got this one:\n\nThe label says blue, but it is green.",
        )
    },
    Expect {
        from_name: Some("Lena Fischer"),
        attachments: 1,
        attachment_names: &["IMG_4410.png"],
        attachment_bytes: Some(("IMG_4410.png", b"\x89PNG\r\n\x1a\n")),
        ..fx(
            "vendors/apple-mail-text-image-text.eml",
            Mid("B2C3D4E5-F6A7-4811-9900-AABBCCDDEEFF@icloud.example"),
            Some("lena.fischer@icloud.example"),
            "Cracked lamp shade",
            // Apple Mail writes text, image, text as three parts of a multipart/mixed.
            "arrived with a cracked shade:\n\nThe box was fine, so it broke before packing.",
        )
    },
    Expect {
        html: true,
        attachments: 2,
        attachment_names: &["attachment-2.eml"],
        attachment_bytes: Some((
            "attachment-2.eml",
            b"From: Customer Support <support@postroom.test>",
        )),
        // A delivery report is sent by a machine, whatever its headers say.
        automated: true,
        report: Some(Dsn {
            final_recipient: "carla@contoso.example",
            action: "failed",
            status: "5.1.10",
            original_message_id: "reply-4100-1@postroom.test",
        }),
        known_bugs: &[],
        ..fx(
            "vendors/bounce-exchange.eml",
            Mid("ndr-4100@contoso.example"),
            Some("postmaster@contoso.example"),
            "Undeliverable: Re: [#PR-4100] Refund confirmation",
            "Your message to carla@contoso.example couldn't be delivered.",
        )
    },
    Expect {
        from_name: Some("Mail Delivery System"),
        attachments: 2,
        automated: true,
        report: Some(Dsn {
            final_recipient: "bob@example.net",
            action: "failed",
            status: "5.1.1",
            original_message_id: "reply-4000-1@postroom.test",
        }),
        ..fx(
            "vendors/bounce-postfix.eml",
            Mid("20261212080003.9F8E7D6C5B@mx.postroom.test"),
            Some("MAILER-DAEMON@mx.postroom.test"),
            "Undelivered Mail Returned to Sender",
            "Recipient address rejected: User unknown",
        )
    },
    Expect {
        html: true,
        thread: Some(("reply-2290-1@postroom.test", 2)),
        ..fx(
            "vendors/gmail-reply.eml",
            Mid("CAH0aB1c+9xZQ=reply2@mail.gmail.com"),
            Some("priya.sharma@gmail.example"),
            "Re: Re: [#PR-2290] Damaged screen",
            "Yes, the courier picked it up this morning.",
        )
    },
    Expect {
        automated: true,
        ..fx(
            "vendors/mailing-list.eml",
            Mid("list-msg-5501@example.com"),
            Some("rustacean@example.com"),
            "[users] Release 2.4 breaks the importer",
            "the CSV importer rejects files with a BOM",
        )
    },
    Expect {
        automated: true,
        thread: Some(("ack-3107@postroom.test", 0)),
        ..fx(
            "vendors/out-of-office.eml",
            Mid("ooo-3107@example-ag.de"),
            Some("bernd.krause@example-ag.de"),
            "Automatische Antwort: [#PR-3107]",
            "nicht im Büro",
        )
    },
    Expect {
        from_name: Some("Schneider, Anna"),
        html: true,
        attachments: 2,
        attachment_names: &["image001.png", "Reklamation Lieferschein Nr. 4471.pdf"],
        attachment_bytes: Some(("Reklamation Lieferschein Nr. 4471.pdf", b"%PDF-1.4\n")),
        inline_cid: Some("image001.png@01DB4867.2A3B4C50"),
        ..fx(
            "vendors/outlook.eml",
            Mid("AM6PR02MB1234A1B2C3D4E5F6A7B8C9D0E1F2A3@AM6PR02MB1234.eurprd02.prod.outlook.com"),
            Some("Anna.Schneider@contoso.example"),
            "Reklamation Lieferung 4471",
            "die Lieferung 4471 kam beschädigt an. Fotos und Lieferschein anbei.",
        )
    },
    Expect {
        from_name: Some("Daan de Vries"),
        attachments: 1,
        attachment_names: &["aankoopbon.jpg"],
        attachment_bytes: Some(("aankoopbon.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF")),
        ..fx(
            "vendors/thunderbird.eml",
            Mid("8f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f@example.org"),
            Some("daan@example.org"),
            "Garantie aanvraag",
            "werkt niet meer na twee maanden.",
        )
    },
];

// ----------------------------------------------------------------------------------- helpers

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml")
}

/// Every .eml under the corpus, as paths relative to it with `/`, sorted.
fn fixture_files() -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read the corpus folder {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a readable folder entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|x| x == "eml") {
                let rel = path.strip_prefix(root).expect("under the corpus root");
                let parts: Vec<_> = rel.iter().map(|p| p.to_string_lossy()).collect();
                out.push(parts.join("/"));
            }
        }
    }
    let root = corpus_dir();
    let mut out = vec![];
    walk(&root, &root, &mut out);
    out.sort();
    out
}

fn read_fixture(rel: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn with_lf(raw: &[u8]) -> Vec<u8> {
    replace(raw, b"\r\n", b"\n")
}

fn with_crlf(raw: &[u8]) -> Vec<u8> {
    replace(&with_lf(raw), b"\n", b"\r\n")
}

/// The fixture with LF and with CRLF line endings.
fn both_endings(rel: &str) -> [(&'static str, Vec<u8>); 2] {
    let raw = read_fixture(rel);
    [("LF", with_lf(&raw)), ("CRLF", with_crlf(&raw))]
}

fn lf_text(s: &str) -> String {
    s.replace("\r\n", "\n")
}

fn expectation(rel: &str) -> &'static Expect {
    CORPUS
        .iter()
        .find(|e| e.file == rel)
        .unwrap_or_else(|| panic!("{rel} has no entry in CORPUS"))
}

/// Every way `p` differs from `e`, each with the check it belongs to.
fn check(e: &Expect, p: &ParsedMessage) -> Vec<(Check, String)> {
    let mut bad = vec![];
    let mut fail = |c: Check, msg: String| bad.push((c, msg));

    match e.identity {
        Id::MessageId(id) => {
            if p.message_id.as_deref() != Some(id) || p.identity != id {
                fail(
                    Check::Identity,
                    format!(
                        "message_id {:?} / identity {:?}, expected {id}",
                        p.message_id, p.identity
                    ),
                );
            }
        }
        Id::Hash => {
            if p.message_id.is_some() || !p.identity.starts_with("sha256:") {
                fail(
                    Check::Identity,
                    format!("expected a hash identity, got {:?}", p.identity),
                );
            }
        }
    }

    // A name without an address (`From: Whomever`) is a sender with an empty address.
    let from = p
        .from
        .as_ref()
        .map(|m| m.address.as_str())
        .filter(|a| !a.is_empty());
    if from != e.from {
        fail(Check::From, format!("from {from:?}, expected {:?}", e.from));
    }
    if let Some(name) = e.from_name {
        let got = p.from.as_ref().and_then(|m| m.name.as_deref());
        if got != Some(name) {
            fail(Check::From, format!("from name {got:?}, expected {name:?}"));
        }
    }
    for name in e.names {
        if !p
            .to
            .iter()
            .chain(&p.cc)
            .any(|m| m.name.as_deref() == Some(*name))
        {
            fail(
                Check::From,
                format!("no To/Cc named {name:?} in {:?} {:?}", p.to, p.cc),
            );
        }
    }

    if !p.subject.contains(e.subject) {
        fail(
            Check::Subject,
            format!("subject {:?} lacks {:?}", p.subject, e.subject),
        );
    }
    let text = lf_text(&p.text);
    if !text.contains(e.text) {
        fail(Check::Text, format!("text {text:?} lacks {:?}", e.text));
    }
    if e.html && p.html.is_none() {
        fail(Check::Html, "no HTML body".into());
    }

    let names: Vec<&str> = p.attachments.iter().map(|a| a.name.as_str()).collect();
    if p.attachments.len() != e.attachments {
        fail(
            Check::Attachments,
            format!(
                "{} attachments {names:?}, expected {}",
                names.len(),
                e.attachments
            ),
        );
    }
    for name in e.attachment_names {
        if !names.contains(name) {
            fail(
                Check::Attachments,
                format!("no attachment named {name:?} in {names:?}"),
            );
        }
    }
    if let Some((name, prefix)) = e.attachment_bytes {
        match p.attachments.iter().find(|a| a.name == name) {
            Some(a) if a.bytes.starts_with(prefix) => {}
            Some(a) => fail(
                Check::Attachments,
                format!(
                    "{name} begins {:?}, expected {:?}",
                    String::from_utf8_lossy(&a.bytes[..a.bytes.len().min(prefix.len() + 8)]),
                    String::from_utf8_lossy(prefix)
                ),
            ),
            None => fail(
                Check::Attachments,
                format!("no attachment {name:?} to read"),
            ),
        }
    }
    if let Some(cid) = e.inline_cid {
        if !p
            .attachments
            .iter()
            .any(|a| a.inline && a.content_id.as_deref() == Some(cid))
        {
            fail(
                Check::Attachments,
                format!("no inline part with Content-ID {cid:?}"),
            );
        }
    }

    if p.is_malformed() != e.malformed {
        fail(
            Check::Malformed,
            format!(
                "malformed {}, expected {} (problems {:?})",
                p.is_malformed(),
                e.malformed,
                p.problems
            ),
        );
    }
    if p.automated != e.automated {
        fail(
            Check::Automated,
            format!("automated {}, expected {}", p.automated, e.automated),
        );
    }

    match (&e.report, &p.delivery_report) {
        (None, None) => {}
        (Some(want), Some(got)) => {
            let same = got.final_recipient.as_deref() == Some(want.final_recipient)
                && got.action.as_deref() == Some(want.action)
                && got.status.as_deref() == Some(want.status)
                && got.original_message_id.as_deref() == Some(want.original_message_id);
            if !same {
                fail(
                    Check::Report,
                    format!(
                        "report {got:?}, expected {} / {} / {} / {}",
                        want.final_recipient, want.action, want.status, want.original_message_id
                    ),
                );
            }
        }
        (want, got) => fail(
            Check::Report,
            format!("delivery report {got:?}, expected one: {}", want.is_some()),
        ),
    }

    match e.thread {
        Some((in_reply_to, references)) => {
            if p.in_reply_to != [in_reply_to] || p.references.len() != references {
                fail(
                    Check::Threading,
                    format!(
                        "in_reply_to {:?} references {:?}, expected {in_reply_to} and {references}",
                        p.in_reply_to, p.references
                    ),
                );
            }
        }
        None => {
            if !p.in_reply_to.is_empty() || !p.references.is_empty() {
                fail(
                    Check::Threading,
                    format!(
                        "unexpected threading {:?} {:?}",
                        p.in_reply_to, p.references
                    ),
                );
            }
        }
    }

    if p.text.trim().is_empty()
        && p.subject.is_empty()
        && p.from.is_none()
        && p.attachments.is_empty()
    {
        fail(
            Check::Readable,
            "nothing of the message reaches the agent".into(),
        );
    }
    bad
}

/// A regression test for a fixed gap (or, while `#[ignore]`d, a known one): the fixture passes
/// `which` with both line endings.
#[track_caller]
fn assert_fixed(rel: &str, which: Check) {
    let e = expectation(rel);
    for (ending, raw) in both_endings(rel) {
        let p = parse(&raw, &Limits::default());
        let bad: Vec<_> = check(e, &p)
            .into_iter()
            .filter(|(c, _)| *c == which)
            .map(|(_, m)| m)
            .collect();
        assert!(bad.is_empty(), "{rel} ({ending}): {bad:#?}");
    }
}

// ------------------------------------------------------------------------------------- tests

#[test]
fn every_fixture_parses_with_lf_and_crlf() {
    let limits = Limits::default();
    let mut ran = 0;
    for rel in fixture_files() {
        let [(_, lf), (_, crlf)] = both_endings(&rel);
        let a = parse(&lf, &limits);
        let b = parse(&crlf, &limits);
        assert_eq!(a.subject, b.subject, "{rel}: subject");
        assert_eq!(a.from, b.from, "{rel}: from");
        assert_eq!((&a.to, &a.cc), (&b.to, &b.cc), "{rel}: to/cc");
        assert_eq!(lf_text(&a.text), lf_text(&b.text), "{rel}: text");
        assert_eq!(
            a.html.as_deref().map(lf_text),
            b.html.as_deref().map(lf_text),
            "{rel}: html"
        );
        let files = |p: &ParsedMessage| {
            p.attachments
                .iter()
                // Text attachments sent 7bit/8bit keep the wire's line endings; base64 ones must
                // be byte-identical, which this still shows.
                .map(|x| {
                    (
                        x.name.clone(),
                        x.content_type.clone(),
                        x.inline,
                        with_lf(&x.bytes),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert!(files(&a) == files(&b), "{rel}: attachments differ");
        assert_eq!(a.is_malformed(), b.is_malformed(), "{rel}: malformed flag");
        assert_eq!(a.automated, b.automated, "{rel}: automated");
        assert_eq!(
            a.delivery_report, b.delivery_report,
            "{rel}: delivery report"
        );
        assert_eq!(
            (&a.message_id, &a.in_reply_to, &a.references),
            (&b.message_id, &b.in_reply_to, &b.references),
            "{rel}: ids"
        );
        assert_eq!((a.size, b.size), (lf.len(), crlf.len()), "{rel}: size");
        ran += 1;
    }
    assert!(
        ran >= MIN_FIXTURES,
        "only {ran} fixtures ran from {}: the corpus is missing or moved",
        corpus_dir().display()
    );
}

#[test]
fn every_fixture_meets_its_expectations() {
    let files: BTreeSet<String> = fixture_files().into_iter().collect();
    let table: BTreeSet<String> = CORPUS.iter().map(|e| e.file.to_string()).collect();
    assert_eq!(table.len(), CORPUS.len(), "CORPUS names a file twice");
    let untested: Vec<_> = files.difference(&table).collect();
    let missing: Vec<_> = table.difference(&files).collect();
    assert!(
        untested.is_empty(),
        "fixtures without a CORPUS entry: {untested:?}"
    );
    assert!(
        missing.is_empty(),
        "CORPUS entries without a file: {missing:?}"
    );
    assert!(files.len() >= MIN_FIXTURES, "only {} fixtures", files.len());

    let mut failures = vec![];
    for e in CORPUS {
        for (ending, raw) in both_endings(e.file) {
            let p = parse(&raw, &Limits::default());
            let bad = check(e, &p);
            for (c, msg) in &bad {
                if !e.known_bugs.contains(c) {
                    failures.push(format!("{} ({ending}) {c:?}: {msg}", e.file));
                }
            }
            for c in e.known_bugs {
                if !bad.iter().any(|(b, _)| b == c) {
                    eprintln!(
                        "note: {} ({ending}) now passes {c:?}: remove its known_bugs marker \
                         and the #[ignore] of its bug test",
                        e.file
                    );
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn nothing_in_the_corpus_panics_or_is_dropped() {
    let mut flagged = 0;
    for rel in fixture_files() {
        let e = expectation(&rel);
        for (ending, raw) in both_endings(&rel) {
            let p = std::panic::catch_unwind(|| parse(&raw, &Limits::default()))
                .unwrap_or_else(|_| panic!("{rel} ({ending}): parse panicked"));
            assert!(!p.identity.is_empty(), "{rel} ({ending}): empty identity");
            assert_eq!(p.size, raw.len(), "{rel} ({ending}): size");
            assert!(!p.too_large, "{rel} ({ending}): too large");
            assert!(
                p.problems.iter().all(|x| !x.trim().is_empty()),
                "{rel} ({ending}): a blank problem in {:?}",
                p.problems
            );
            if e.malformed && !e.known_bugs.contains(&Check::Malformed) {
                assert!(
                    p.is_malformed(),
                    "{rel} ({ending}): malformed yet not flagged"
                );
                flagged += 1;
            }
            if !e.known_bugs.contains(&Check::Readable) {
                let readable = check(e, &p).into_iter().all(|(c, _)| c != Check::Readable);
                assert!(readable, "{rel} ({ending}): nothing of it was kept: {p:?}");
            }
        }
    }
    assert!(
        flagged >= 2 * 4,
        "only {flagged} malformed parses were checked"
    );
}

/// A base64 body as mailers write it: 76 characters a line.
fn base64_lines(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + bytes.len() / 38 + 4);
    for (i, chunk) in bytes.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push('\n');
        }
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (k, b)| n | u32::from(*b) << (16 - 8 * k));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.push('\n');
    out
}

#[test]
fn a_very_large_message_is_flagged_and_keeps_its_headers() {
    // A phone's photo album: ~5 MB once base64-encoded. Generated here, never committed.
    let photo: Vec<u8> = (0..3_900_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let raw = format!(
        "From: Sara Lind <sara.lind@example.se>\n\
         To: support@postroom.test\n\
         Subject: Photos of the damaged sofa\n\
         Date: Mon, 14 Dec 2026 10:00:00 +0100\n\
         Message-ID: <huge-5mb@example.se>\n\
         In-Reply-To: <reply-5000-1@postroom.test>\n\
         References: <reply-5000-1@postroom.test>\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"photos\"\n\
         \n\
         --photos\n\
         Content-Type: text/plain; charset=utf-8\n\
         \n\
         The sofa arrived torn, photos attached.\n\
         \n\
         --photos\n\
         Content-Type: image/jpeg; name=\"IMG_0001.jpg\"\n\
         Content-Disposition: attachment; filename=\"IMG_0001.jpg\"\n\
         Content-Transfer-Encoding: base64\n\
         \n\
         {}\
         --photos--\n",
        base64_lines(&photo)
    );
    assert!(raw.len() > 5_000_000, "{} bytes", raw.len());
    let limits = Limits {
        max_message_bytes: 1 << 20,
    };
    for raw in [with_lf(raw.as_bytes()), with_crlf(raw.as_bytes())] {
        let p = parse(&raw, &limits);
        assert!(p.too_large && p.is_malformed(), "{:?}", p.problems);
        assert_eq!(p.size, raw.len());
        assert_eq!(p.message_id.as_deref(), Some("huge-5mb@example.se"));
        assert_eq!(p.identity, "huge-5mb@example.se");
        assert_eq!(
            p.from.as_ref().map(|m| m.address.as_str()),
            Some("sara.lind@example.se")
        );
        assert_eq!(p.subject, "Photos of the damaged sofa");
        assert_eq!(p.in_reply_to, ["reply-5000-1@postroom.test"]);
        assert_eq!(p.references, ["reply-5000-1@postroom.test"]);
        assert!(p.date.is_some());
        assert!(p.attachments.is_empty() && p.html.is_none() && p.text.is_empty());

        // Under the default limit the same bytes parse whole.
        let whole = parse(&raw, &Limits::default());
        assert!(
            !whole.too_large && !whole.is_malformed(),
            "{:?}",
            whole.problems
        );
        assert_eq!(whole.attachments.len(), 1);
        assert_eq!(whole.attachments[0].name, "IMG_0001.jpg");
        assert!(whole.attachments[0].bytes == photo, "the photo changed");
        assert!(lf_text(&whole.text).contains("The sofa arrived torn"));
    }
}

#[test]
fn sanitized_html_never_carries_scripts_or_remote_images() {
    let mut sent_as_html = 0;
    for rel in fixture_files() {
        for (ending, raw) in both_endings(&rel) {
            let p = parse(&raw, &Limits::default());
            let Some(safe) = &p.html_sanitized else {
                continue;
            };
            if expectation(&rel).html {
                sent_as_html += 1;
            }
            let lower = safe.to_ascii_lowercase();
            for bad in [
                "<script",
                "onerror=",
                "onload=",
                "javascript:",
                "src=\"http",
                "src=\"//",
                "srcset=",
                "background=",
                "<iframe",
                "<style",
                "<meta",
                "<form",
                "<svg",
            ] {
                assert!(
                    !lower.contains(bad),
                    "{rel} ({ending}): {bad} in sanitized HTML:\n{safe}"
                );
            }
        }
    }
    assert!(
        sent_as_html >= 2 * 6,
        "only {sent_as_html} parses of HTML as sent"
    );

    // The hostile fixture reached the sanitizer, and inline images survive it.
    let [(_, raw), _] = both_endings("rfc/alternative-text-html.eml");
    let p = parse(&raw, &Limits::default());
    assert!(p.html.as_deref().is_some_and(|h| h.contains("<script")));
    let safe = p.html_sanitized.unwrap_or_default();
    assert!(safe.contains("Please verify your account"), "{safe}");
    assert!(safe.contains("src=\"cid:badge@lottery.example\""), "{safe}");
    for rel in ["vendors/outlook.eml", "rfc/related-inline-image.eml"] {
        let [(_, raw), _] = both_endings(rel);
        let safe = parse(&raw, &Limits::default())
            .html_sanitized
            .unwrap_or_default();
        assert!(safe.contains("src=\"cid:"), "{rel}: {safe}");
    }
}

// ---------------------------------------------------------------- known bugs in src/mail/mime.rs

#[test]
fn an_8bit_body_without_a_charset_is_read_as_latin_1() {
    assert_fixed("legacy/8bit-no-charset.eml", Check::Text);
}

#[test]
fn windows_1258_text_comes_out_composed() {
    assert_fixed("legacy/windows-1258.eml", Check::Text);
    assert_fixed("legacy/windows-1258.eml", Check::From);
}

#[test]
fn a_percent_encoded_attachment_name_is_decoded() {
    assert_fixed("legacy/percent-encoded-name.eml", Check::Attachments);
}

#[test]
fn binary_junk_is_kept_as_text() {
    assert_fixed("malformed/binary-junk.eml", Check::Readable);
    assert_fixed("malformed/binary-junk.eml", Check::Text);
}

#[test]
fn a_damaged_base64_attachment_keeps_what_decodes() {
    assert_fixed("malformed/broken-base64.eml", Check::Attachments);
}

#[test]
fn a_header_line_without_a_colon_is_flagged() {
    assert_fixed("malformed/header-without-colon.eml", Check::Malformed);
}

#[test]
fn nul_bytes_in_the_body_are_flagged() {
    assert_fixed("malformed/nul-bytes.eml", Check::Malformed);
}

#[test]
fn a_message_without_a_body_is_not_malformed() {
    assert_fixed("malformed/headers-only.eml", Check::Malformed);
}

#[test]
fn every_inline_text_part_is_kept_in_order() {
    for rel in [
        "vendors/apple-mail-text-image-text.eml",
        "rfc/related-text-image-text.eml",
        "rfc/two-text-parts.eml",
        "rfc/mixed-two-alternatives.eml",
    ] {
        assert_fixed(rel, Check::Text);
    }
    // The text after the image is body, not a file.
    assert_fixed("rfc/related-text-image-text.eml", Check::Attachments);
}

#[test]
fn every_inline_part_is_read_once_in_order() {
    // A fixture, what its text must say and what its HTML must say: each once, in this order.
    // No HTML phrases: the message has no HTML body.
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "vendors/apple-mail-text-image-text.eml",
            &["cracked shade:", "a new shade."],
            &[],
        ),
        (
            "rfc/related-text-image-text.eml",
            &["scratched here:", "not a discount."],
            &[],
        ),
        (
            "rfc/two-text-parts.eml",
            &["received size 41.", "Scanned for viruses."],
            &[],
        ),
        (
            // The text/plain alternative holds both halves; the HTML alternative is two parts.
            "vendors/apple-mail-html-image-html.eml",
            &["got this one:", "it is green."],
            &["got this one:", "it is green."],
        ),
        (
            "rfc/mixed-two-alternatives.eml",
            &["first trip:", "two years."],
            &["<i>first</i> trip:", "<b>two years</b>"],
        ),
    ];
    fn in_order_once(what: &str, haystack: &str, phrases: &[&str], rel: &str) {
        let mut at = 0;
        for phrase in phrases {
            assert_eq!(
                haystack.matches(phrase).count(),
                1,
                "{rel}: {phrase:?} must be in the {what} once: {haystack:?}"
            );
            let found = haystack.find(phrase).unwrap_or_default();
            assert!(found >= at, "{rel}: {phrase:?} out of order: {haystack:?}");
            at = found;
        }
    }
    for (rel, text, html) in cases {
        for (ending, raw) in both_endings(rel) {
            let p = parse(&raw, &Limits::default());
            let rel = format!("{rel} ({ending})");
            in_order_once("text", &lf_text(&p.text), text, &rel);
            if html.is_empty() {
                assert!(p.html.is_none(), "{rel}: {:?}", p.html);
            } else {
                in_order_once("HTML", &p.html.unwrap_or_default(), html, &rel);
                in_order_once(
                    "safe HTML",
                    &p.html_sanitized.unwrap_or_default(),
                    html,
                    &rel,
                );
            }
        }
    }
}

#[test]
fn raw_8bit_headers_are_read_like_their_body() {
    assert_fixed("legacy/8bit-headers.eml", Check::From);
    assert_fixed("legacy/8bit-headers.eml", Check::Subject);
    assert_fixed("legacy/8bit-headers.eml", Check::Attachments);
}

#[test]
fn a_sender_name_without_an_address_is_kept() {
    assert_fixed("malformed/name-without-address.eml", Check::From);
}

#[test]
fn an_undecodable_base64_part_keeps_its_raw_bytes() {
    assert_fixed("malformed/undecodable-base64.eml", Check::Attachments);
}

#[test]
fn every_delivery_report_is_automated() {
    assert_fixed("vendors/bounce-exchange.eml", Check::Automated);
}

#[test]
fn format_flowed_text_is_unwrapped() {
    for (rel, joined) in [
        (
            "vendors/apple-mail.eml",
            "although I cancelled it on 1 December. Please refund",
        ),
        (
            "vendors/thunderbird.eml",
            "werkt niet meer na twee maanden. Ik heb de aankoopbon bijgevoegd.",
        ),
    ] {
        for (ending, raw) in both_endings(rel) {
            let text = lf_text(&parse(&raw, &Limits::default()).text);
            assert!(text.contains(joined), "{rel} ({ending}): {text:?}");
        }
    }
}

#[test]
fn text_only_mail_has_no_html_body() {
    for e in CORPUS.iter().filter(|e| !e.html) {
        for (ending, raw) in both_endings(e.file) {
            let p = parse(&raw, &Limits::default());
            assert!(p.html.is_none(), "{} ({ending}): {:?}", e.file, p.html);
        }
    }
}

#[test]
fn sanitized_html_has_no_data_url_links() {
    for rel in fixture_files() {
        for (ending, raw) in both_endings(&rel) {
            let p = parse(&raw, &Limits::default());
            let safe = p.html_sanitized.unwrap_or_default().to_ascii_lowercase();
            assert!(!safe.contains("href=\"data:"), "{rel} ({ending}): {safe}");
        }
    }
}

/// The corpus through a real Dovecot, with LF and with CRLF line endings: every message becomes
/// exactly one interaction, from the right contact, with its text, files and flags, queued where
/// its flags say; the server ends with every message moved.
#[test]
fn the_corpus_ingested_through_dovecot_is_one_interaction_per_message() {
    use crate::helpers::spawn_app_with;
    use crate::ingest::{folder_count, interactions, mailbox, wait_for, SUPPORT};
    use postroom::domain::interaction::{InteractionEvent, MessageStored};
    use postroom::events::{DomainEvent, EventStore};
    use std::collections::HashMap;

    let files = fixture_files();
    assert!(files.len() >= MIN_FIXTURES);
    for ending in 0..2 {
        let dovecot = crate::mailservers::Dovecot::start(&[SUPPORT]);
        let raws: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|f| {
                let [lf, crlf] = both_endings(f);
                (f.clone(), if ending == 0 { lf.1 } else { crlf.1 })
            })
            .collect();
        let label = if ending == 0 { "LF" } else { "CRLF" };
        // IMAP literals cannot carry NUL bytes: those are delivered as maildir files, as a local
        // delivery agent would; every other one is APPENDed, in order (UIDs 1, 2, ...).
        let (appended, delivered): (Vec<_>, Vec<_>) =
            raws.iter().partition(|(_, raw)| !raw.contains(&0));
        let bytes: Vec<Vec<u8>> = appended.iter().map(|(_, r)| r.clone()).collect();
        dovecot.append(SUPPORT, "INBOX", &bytes);
        let new_dir = dovecot.dir.join("mail").join(SUPPORT).join("Maildir/new");
        for (i, (_, raw)) in delivered.iter().enumerate() {
            let path = new_dir.join(format!("1700000000.corpus{i}.host"));
            std::fs::write(&path, raw).unwrap();
            if unsafe { libc::geteuid() } == 0 {
                let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
                unsafe { libc::chown(c.as_ptr(), 65534, 65534) };
            }
        }
        let mut mb = mailbox(&dovecot, "support", SUPPORT, Some("Processed"));
        mb.malformed_queue = Some("malformed".into());
        let app = spawn_app_with(|s| s.mailboxes = vec![mb]);
        let tok = app.token_for("sam", "supervisor");
        wait_for("the inbox emptied", || {
            folder_count(&dovecot, SUPPORT, "INBOX") == 0
        });
        wait_for("every message recorded", || {
            interactions(&app) == raws.len()
        });
        assert_eq!(
            folder_count(&dovecot, SUPPORT, "Processed"),
            raws.len() as u32,
            "{label}"
        );

        // Every MessageStored, by the INBOX UID it was fetched from.
        let store = app.engine.storage.store.clone();
        let mut by_uid: HashMap<u32, (postroom::domain::InteractionId, MessageStored)> =
            HashMap::new();
        for e in store.read_all(1, 100_000).unwrap() {
            if let Ok(DomainEvent::Interaction(InteractionEvent::MessageStored(m))) =
                DomainEvent::from_recorded(&e)
            {
                let id = postroom::domain::InteractionId::from_stream(&e.stream).unwrap();
                let uid = m.source.as_ref().unwrap().uid;
                assert!(
                    by_uid.insert(uid, (id, m)).is_none(),
                    "{label}: UID {uid} recorded twice"
                );
            }
        }
        assert_eq!(by_uid.len(), raws.len(), "{label}: one record per message");
        let content = |r: &Option<postroom::domain::ContentRef>| {
            r.as_ref()
                .and_then(|r| app.engine.storage.content.get(r).unwrap())
                .unwrap_or_default()
        };
        let mut failures = vec![];
        let mut unknown_senders = std::collections::HashSet::new();
        for (rel, _) in &raws {
            let e = expectation(rel);
            let found = match appended.iter().position(|(f, _)| f == rel) {
                Some(i) => by_uid.get(&(i as u32 + 1)),
                // A delivered file comes back as Dovecot serves it (CRLF, NUL as 0x80): found
                // by its Message-ID, or as the one delivered file without one.
                None => {
                    let delivered_uids = by_uid
                        .iter()
                        .filter(|(uid, _)| **uid as usize > appended.len());
                    let mut candidates = delivered_uids.filter(|(_, (_, m))| match e.identity {
                        Id::MessageId(mid) => m.message_id.as_deref() == Some(mid),
                        Id::Hash => m.message_id.is_none(),
                    });
                    candidates.next().map(|(_, v)| v)
                }
            };
            let Some((id, m)) = found else {
                failures.push(format!("{rel} ({label}): no interaction"));
                continue;
            };
            let view = app
                .get(&format!("/api/v1/interactions/{id}"), Some(&tok))
                .body;
            // A sender that cannot be read is an unknown contact of the message's own.
            let from = match e.from {
                Some(from) => from.to_lowercase(),
                None => postroom::mail::sender::anonymous(&m.identity).normalised(),
            };
            if view["from"].as_str().map(str::to_lowercase) != Some(from.clone()) {
                failures.push(format!("{rel} ({label}): from {} not {from}", view["from"]));
            }
            if e.from.is_none() && !unknown_senders.insert(from.clone()) {
                failures.push(format!("{rel} ({label}): {from} shared"));
            }
            let contact = app.get(&format!("/api/v1/contacts?email={from}"), Some(&tok));
            let listed = contact.body["interactions"]
                .as_array()
                .is_some_and(|l| l.iter().any(|i| i["interaction_id"] == id.to_string()));
            if !listed {
                failures.push(format!("{rel} ({label}): not in {from}'s history"));
            }
            if contact.body["unknown"] != e.from.is_none() {
                failures.push(format!(
                    "{rel} ({label}): contact unknown {}",
                    contact.body["unknown"]
                ));
            }
            let text = lf_text(&String::from_utf8_lossy(&content(&m.text)));
            if !e.known_bugs.contains(&Check::Text) && !text.contains(e.text) {
                failures.push(format!("{rel} ({label}): text lacks {:?}", e.text));
            }
            if !e.known_bugs.contains(&Check::Attachments) {
                if m.attachments.len() != e.attachments {
                    failures.push(format!(
                        "{rel} ({label}): {} attachments, expected {}",
                        m.attachments.len(),
                        e.attachments
                    ));
                }
                for name in e.attachment_names {
                    if !m.attachments.iter().any(|a| a.name == *name) {
                        failures.push(format!("{rel} ({label}): no attachment {name}"));
                    }
                }
                // What is stored is what was decoded (or, where nothing decodes, sent).
                if let Some((name, prefix)) = e.attachment_bytes {
                    let stored = m
                        .attachments
                        .iter()
                        .find(|a| a.name == name)
                        .map(|a| (a.size, content(&Some(a.content.clone()))));
                    let ok = stored.as_ref().is_some_and(|(size, bytes)| {
                        *size == bytes.len() as u64 && with_lf(bytes).starts_with(&with_lf(prefix))
                    });
                    if !ok {
                        failures.push(format!(
                            "{rel} ({label}): {name} stored as {:?} bytes, not beginning {:?}",
                            stored.map(|(size, _)| size),
                            String::from_utf8_lossy(prefix)
                        ));
                    }
                }
            }
            // A sender that cannot be read is a problem ingest adds. Dovecot serves NUL bytes as
            // 0x80 (IMAP cannot carry them), so a message malformed only by its NULs arrives
            // without them: its flag is not asserted here (the parser's tests cover NULs).
            let malformed = e.malformed || e.from.is_none();
            let nul_only = delivered.iter().any(|(f, _)| f == rel) && e.from.is_some();
            if !e.known_bugs.contains(&Check::Malformed)
                && !nul_only
                && m.problems.is_empty() == malformed
            {
                failures.push(format!(
                    "{rel} ({label}): malformed {:?}, expected {malformed}",
                    m.problems
                ));
            }
            if !e.known_bugs.contains(&Check::Automated) && m.automated != e.automated {
                failures.push(format!("{rel} ({label}): automated {}", m.automated));
            }
            // Malformed mail and reports about mail we never sent go to the malformed queue.
            let queue = if !m.problems.is_empty() || e.report.is_some() {
                "malformed"
            } else {
                "inbound"
            };
            if view["queue"] != queue {
                failures.push(format!("{rel} ({label}): queue {}", view["queue"]));
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
