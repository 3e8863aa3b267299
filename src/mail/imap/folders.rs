//! The processed folder as the server names it: resolved through the personal namespace and the
//! hierarchy separator (NAMESPACE, RFC 2342; `LIST "" ""` where NAMESPACE is not offered), and
//! created when it is missing.
//!
//! The `imap` crate (3.0.0-alpha.15) has no NAMESPACE call, and its response reader gives up on
//! the untagged `* NAMESPACE` line (imap-proto cannot parse it), leaving the tagged answer unread:
//! `run_command_and_read_response("NAMESPACE")` fails and puts the session out of step. So the
//! command is written with `run_command` and its answer read here a line at a time (see
//! `read_line`), then parsed.

use super::connection::Session;
use super::error::{ImapError, ImapResult};

/// What NAMESPACE answered: the personal namespace (prefix and separator) and the prefixes of the
/// others (other users', shared).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Namespaces {
    /// The first personal namespace's prefix (`INBOX.` on Cyrus, usually empty on Dovecot).
    pub prefix: String,
    /// Its hierarchy separator; `None`: flat names.
    pub separator: Option<char>,
    /// The prefixes of the other namespaces: a name in one of them is left as it is.
    pub others: Vec<String>,
}

/// One item of an IMAP answer, as far as NAMESPACE needs: strings, NIL and lists.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Str(String),
    Nil,
    List(Vec<Item>),
}

/// Reads one item from `s` (after spaces); `None` on anything unexpected (a literal included: no
/// server seen sends a namespace prefix that way).
fn item(s: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<Item> {
    while s.peek() == Some(&' ') {
        s.next();
    }
    match s.next()? {
        '"' => {
            let mut out = String::new();
            loop {
                match s.next()? {
                    '"' => return Some(Item::Str(out)),
                    '\\' => out.push(s.next()?),
                    c => out.push(c),
                }
            }
        }
        '(' => {
            let mut list = Vec::new();
            loop {
                while s.peek() == Some(&' ') {
                    s.next();
                }
                if s.peek() == Some(&')') {
                    s.next();
                    return Some(Item::List(list));
                }
                list.push(item(s)?);
            }
        }
        c if c.eq_ignore_ascii_case(&'n') => {
            let rest: String = [s.next()?, s.next()?].iter().collect();
            rest.eq_ignore_ascii_case("il").then_some(Item::Nil)
        }
        _ => None,
    }
}

/// The (prefix, separator) pairs of one namespace group: NIL or `(("prefix" "sep" ext…)…)`.
fn group(item: &Item) -> Option<Vec<(String, Option<char>)>> {
    match item {
        Item::Nil => Some(Vec::new()),
        Item::List(entries) => entries
            .iter()
            .map(|e| match e {
                Item::List(parts) => {
                    let prefix = match parts.first()? {
                        Item::Str(p) => p.clone(),
                        _ => return None,
                    };
                    let separator = match parts.get(1)? {
                        Item::Str(d) => d.chars().next(),
                        _ => None,
                    };
                    Some((prefix, separator))
                }
                _ => None,
            })
            .collect(),
        Item::Str(_) => None,
    }
}

/// Parses the answer to NAMESPACE (`* NAMESPACE personal other shared`, other lines ignored).
pub(super) fn parse_namespace(answer: &str) -> Option<Namespaces> {
    let line = answer.lines().find_map(|l| {
        let l = l.trim_start();
        let upper = l.to_ascii_uppercase();
        upper
            .starts_with("* NAMESPACE ")
            .then(|| l["* NAMESPACE ".len()..].to_string())
    })?;
    let mut chars = line.chars().peekable();
    let personal = group(&item(&mut chars)?)?;
    let mut others = Vec::new();
    for _ in 0..2 {
        others.extend(group(&item(&mut chars)?)?.into_iter().map(|(p, _)| p));
    }
    let (prefix, separator) = personal.into_iter().next().unwrap_or_default();
    Some(Namespaces {
        prefix,
        separator,
        others: others.into_iter().filter(|p| !p.is_empty()).collect(),
    })
}

/// Whether `name` starts with `prefix` (the `INBOX` part of a prefix in any case, as IMAP says of
/// INBOX).
fn carries(name: &str, prefix: &str) -> bool {
    if name.starts_with(prefix) {
        return true;
    }
    let inbox = |s: &str| s.get(..5).is_some_and(|i| i.eq_ignore_ascii_case("INBOX"));
    inbox(prefix) && inbox(name) && name.get(5..prefix.len()) == prefix.get(5..)
}

/// The server's name for a configured folder. Levels are written with `/` in the configuration
/// and given the server's separator; a name without the personal prefix gets it; `INBOX`, a name
/// that already carries the prefix, and a name in another namespace stay as they are.
pub(super) fn resolve(name: &str, ns: &Namespaces) -> String {
    if name.eq_ignore_ascii_case("INBOX") {
        return name.to_string();
    }
    let name = match ns.separator {
        Some(sep) if sep != '/' => name.replace('/', &sep.to_string()),
        _ => name.to_string(),
    };
    if ns.prefix.is_empty()
        || carries(&name, &ns.prefix)
        || ns.others.iter().any(|p| carries(&name, p))
    {
        return name;
    }
    format!("{}{name}", ns.prefix)
}

/// Asks the server for its namespaces: NAMESPACE where announced, else the separator from
/// `LIST "" ""` and no prefix. A server that answers neither leaves names as configured.
pub(super) fn namespaces(s: &mut Session, has_namespace: bool) -> ImapResult<Namespaces> {
    if has_namespace {
        if let Some(ns) = namespace_answer(s)?.as_deref().and_then(parse_namespace) {
            return Ok(ns);
        }
    }
    let separator = s.list(Some(""), Some("\"\"")).ok().and_then(|names| {
        names
            .iter()
            .find_map(|n| n.delimiter().and_then(|d| d.chars().next()))
    });
    Ok(Namespaces {
        separator,
        ..Namespaces::default()
    })
}

/// One line from the server, read through the session's own buffer. The crate offers no public
/// line reader but `read_greeting`, which reads exactly one line once `greeting_read` is false
/// (and asserts that it is: it is set just before).
fn read_line(s: &mut Session) -> ImapResult<String> {
    s.greeting_read = false;
    let line = s.read_greeting();
    s.greeting_read = true;
    line.map(|l| String::from_utf8_lossy(&l).into_owned())
        .map_err(|e| ImapError::imap("reading the answer to NAMESPACE", e))
}

/// Sends NAMESPACE and reads its answer up to the tagged completion: the untagged lines, or
/// `None` if the server refused it. The session stays in step either way.
fn namespace_answer(s: &mut Session) -> ImapResult<Option<String>> {
    s.run_command("NAMESPACE")
        .map_err(|e| ImapError::imap("sending NAMESPACE", e))?;
    let mut untagged = String::new();
    // A bound on what a misbehaving server can make this read.
    for _ in 0..1000 {
        let line = read_line(s)?;
        if line.starts_with('*') || line.starts_with('+') {
            untagged.push_str(&line);
            continue;
        }
        // The tagged completion: `<tag> OK|NO|BAD …`.
        let ok = line
            .split_whitespace()
            .nth(1)
            .is_some_and(|w| w.eq_ignore_ascii_case("OK"));
        return Ok(ok.then_some(untagged));
    }
    Err(ImapError::transient(
        "reading the answer to NAMESPACE",
        "no completion after 1000 lines",
    ))
}

/// A mailbox name as an IMAP quoted string.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Resolves the configured processed folder and creates it when it is missing. Answers the
/// server's name for it; an error (it cannot be created) is permanent: nothing could be moved.
pub(super) fn prepare_processed(
    s: &mut Session,
    has_namespace: bool,
    configured: &str,
) -> ImapResult<String> {
    let name = resolve(configured, &namespaces(s, has_namespace)?);
    let context = || format!("processed folder {configured:?} (on the server {name:?})");
    let exists = s
        .list(Some(""), Some(&quoted(&name)))
        .map_err(|e| ImapError::imap(format!("listing the {}", context()), e))?
        .iter()
        .any(|n| {
            // The crate does not re-export imap-proto's NameAttribute: compared by its name. A
            // \Noselect name is only a level of hierarchy, which CREATE turns into a folder.
            n.name() == name
                && !n
                    .attributes()
                    .iter()
                    .any(|a| format!("{a:?}") == "NoSelect")
        });
    if !exists {
        if let Err(e) = s.create(&name) {
            let already = matches!(&e, imap::Error::No(no) if no.information.to_ascii_uppercase().contains("ALREADYEXISTS"));
            if !already {
                return Err(ImapError::imap(format!("creating the {}", context()), e));
            }
        }
        tracing::info!(folder = %name, "created the processed folder");
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cyrus() -> Namespaces {
        parse_namespace("* NAMESPACE ((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"\" \".\"))\r\n")
            .expect("parsed")
    }

    #[test]
    fn namespace_answers_are_parsed() {
        assert_eq!(
            cyrus(),
            Namespaces {
                prefix: "INBOX.".into(),
                separator: Some('.'),
                others: vec!["user.".into()],
            }
        );
        let dovecot = parse_namespace("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n").expect("parsed");
        assert_eq!(dovecot.prefix, "");
        assert_eq!(dovecot.separator, Some('/'));
        // Extension data after the separator, and NIL as the separator.
        let ext = parse_namespace(
            "* NAMESPACE ((\"\" NIL \"X-PARAM\" (\"a\" \"b\"))) NIL ((\"Public/\" \"/\"))",
        )
        .expect("parsed");
        assert_eq!(ext.separator, None);
        assert_eq!(ext.others, vec!["Public/".to_string()]);
        for bad in [
            "",
            "* NAMESPACE",
            "* NAMESPACE ((\"INBOX.\"",
            "* NAMESPACE {5}\r\n",
        ] {
            assert_eq!(parse_namespace(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_resolved_in_the_personal_namespace() {
        let ns = cyrus();
        assert_eq!(resolve("Processed", &ns), "INBOX.Processed");
        assert_eq!(resolve("INBOX.Processed", &ns), "INBOX.Processed");
        assert_eq!(resolve("inbox.Processed", &ns), "inbox.Processed");
        assert_eq!(resolve("INBOX", &ns), "INBOX");
        assert_eq!(resolve("Archive/Done", &ns), "INBOX.Archive.Done");
        assert_eq!(resolve("user.other.Done", &ns), "user.other.Done");
        let flat = Namespaces::default();
        assert_eq!(resolve("Processed", &flat), "Processed");
        let slash = Namespaces {
            separator: Some('/'),
            ..Namespaces::default()
        };
        assert_eq!(resolve("Archive/Done", &slash), "Archive/Done");
        // Multi-byte names do not trip the prefix comparison.
        assert_eq!(resolve("Éé", &ns), "INBOX.Éé");
        assert_eq!(resolve("INBOXé", &ns), "INBOX.INBOXé");
    }
}
