//! The condition language of screening rules: parsed once, when the rules load.
//!
//! ```text
//! expr   := and ( "||" and )*
//! and    := unary ( "&&" unary )*
//! unary  := "!" unary | "(" expr ")" | test
//! test   := field "contains" ["case"] STRING       substring
//!         | field "word" ["case"] STRING           whole words (a phrase: its words in a row)
//!         | field "matches" STRING                 regular expression (`regex` syntax; `(?i)`)
//!         | field "near" ["case"] "(" STRING "," STRING "," NUMBER ")"
//!                                                  two words at most NUMBER words apart
//!         | field "exists"                         the field has a value (a header is present)
//! field  := "from" | "to" | "cc" | "subject" | "body" | "text" | "attachments" | "language"
//!         | "header" "(" STRING ")"
//! ```
//!
//! Strings are in double quotes; `\"` is a quote and `\\` a backslash, any other backslash stays as
//! written (so `matches "\d{4}"` is the regular expression `\d{4}`).
//! Without `case`, comparisons ignore case. `text` is the subject and the body; a field with many
//! values (`to`, `cc`, `attachments`, a repeated header) passes when one of them does.

use std::fmt;

/// Where a test looks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    From,
    To,
    Cc,
    Subject,
    Body,
    /// The subject and the body.
    Text,
    Attachments,
    Language,
    /// A header by name (any case).
    Header(String),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::From => f.write_str("from"),
            Field::To => f.write_str("to"),
            Field::Cc => f.write_str("cc"),
            Field::Subject => f.write_str("subject"),
            Field::Body => f.write_str("body"),
            Field::Text => f.write_str("text"),
            Field::Attachments => f.write_str("attachments"),
            Field::Language => f.write_str("language"),
            Field::Header(h) => write!(f, "header({h:?})"),
        }
    }
}

/// One test on a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Contains {
        text: String,
        case: bool,
    },
    Word {
        words: Vec<String>,
        case: bool,
    },
    /// The index of the pattern in the rule set's regex list.
    Matches {
        pattern: String,
        index: usize,
    },
    Near {
        a: String,
        b: String,
        within: usize,
        case: bool,
    },
    Exists,
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Test(Field, Test),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// Why a condition does not parse: where, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {at}: {message}")]
pub struct SyntaxError {
    pub at: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(usize),
    LParen,
    RParen,
    Comma,
    Not,
    And,
    Or,
}

fn tokens(src: &str) -> Result<Vec<(usize, Token)>, SyntaxError> {
    let err = |at: usize, message: &str| SyntaxError {
        at: at + 1,
        message: message.to_string(),
    };
    // Positions count characters, as people read them.
    let chars: Vec<(usize, char)> = src.chars().enumerate().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' => {
                out.push((
                    at,
                    match c {
                        '(' => Token::LParen,
                        ')' => Token::RParen,
                        _ => Token::Comma,
                    },
                ));
                i += 1;
            }
            '!' => {
                out.push((at, Token::Not));
                i += 1;
            }
            '&' | '|' => {
                if chars.get(i + 1).map(|x| x.1) != Some(c) {
                    return Err(err(at, &format!("expected {c}{c}")));
                }
                out.push((at, if c == '&' { Token::And } else { Token::Or }));
                i += 2;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(at, "a string is not closed (missing \")")),
                        Some((_, '"')) => {
                            i += 1;
                            break;
                        }
                        Some((_, '\\')) => {
                            // `\"` and `\\` escape; any other backslash stays, for the
                            // regular expressions (`\d`, `\b`, `\.`).
                            match chars.get(i + 1) {
                                Some((_, e @ ('"' | '\\'))) => {
                                    s.push(*e);
                                    i += 2;
                                }
                                _ => {
                                    s.push('\\');
                                    i += 1;
                                }
                            }
                        }
                        Some((_, c)) => {
                            s.push(*c);
                            i += 1;
                        }
                    }
                }
                out.push((at, Token::Str(s)));
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while chars.get(i).is_some_and(|x| x.1.is_ascii_digit()) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().map(|x| x.1).collect();
                let n = text
                    .parse()
                    .map_err(|_| err(at, "the number is too large"))?;
                out.push((at, Token::Num(n)));
            }
            c if c.is_ascii_alphabetic() => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|x| x.1.is_ascii_alphanumeric() || x.1 == '_')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().map(|x| x.1).collect();
                out.push((at, Token::Ident(word)));
            }
            other => return Err(err(at, &format!("unexpected {other:?}"))),
        }
    }
    Ok(out)
}

/// How deep `!` and parentheses may nest.
const MAX_DEPTH: usize = 64;

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    depth: usize,
    end: usize,
    /// Every `matches` pattern, in order; a test refers to its index.
    patterns: Vec<String>,
}

/// Parses a condition; `patterns` collects the regular expressions it uses (their index is
/// recorded in each `Matches` test, continuing from `patterns.len()`).
pub fn parse(src: &str, patterns: &mut Vec<String>) -> Result<Expr, SyntaxError> {
    let mut p = Parser {
        tokens: tokens(src)?,
        pos: 0,
        depth: 0,
        end: src.chars().count() + 1,
        patterns: std::mem::take(patterns),
    };
    let result = p.or();
    let result = result.and_then(|e| match p.tokens.get(p.pos) {
        None => Ok(e),
        Some((at, t)) => Err(SyntaxError {
            at: at + 1,
            message: format!("unexpected {} after a complete condition", describe(t)),
        }),
    });
    *patterns = p.patterns;
    result
}

fn describe(t: &Token) -> String {
    match t {
        Token::Ident(w) => format!("{w:?}"),
        Token::Str(s) => format!("the string {s:?}"),
        Token::Num(n) => format!("the number {n}"),
        Token::LParen => "\"(\"".into(),
        Token::RParen => "\")\"".into(),
        Token::Comma => "\",\"".into(),
        Token::Not => "\"!\"".into(),
        Token::And => "\"&&\"".into(),
        Token::Or => "\"||\"".into(),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|t| &t.1)
    }

    fn at(&self) -> usize {
        self.tokens
            .get(self.pos)
            .map(|t| t.0 + 1)
            .unwrap_or(self.end)
    }

    fn fail<T>(&self, expected: &str) -> Result<T, SyntaxError> {
        let found = match self.peek() {
            Some(t) => describe(t),
            None => "the end".into(),
        };
        Err(SyntaxError {
            at: self.at(),
            message: format!("expected {expected}, found {found}"),
        })
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).map(|t| t.1.clone());
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: Token, what: &str) -> Result<(), SyntaxError> {
        if self.peek() == Some(&want) {
            self.pos += 1;
            Ok(())
        } else {
            self.fail(what)
        }
    }

    fn string(&mut self, what: &str) -> Result<String, SyntaxError> {
        match self.peek() {
            Some(Token::Str(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => self.fail(what),
        }
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.unary()?];
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError {
                at: self.at(),
                message: format!("more than {MAX_DEPTH} levels of ! and parentheses"),
            });
        }
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }

    fn unary_inner(&mut self) -> Result<Expr, SyntaxError> {
        match self.peek() {
            Some(Token::Not) => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Token::LParen) => {
                self.pos += 1;
                let e = self.or()?;
                self.expect(Token::RParen, "\")\"")?;
                Ok(e)
            }
            _ => self.test(),
        }
    }

    fn field(&mut self) -> Result<Field, SyntaxError> {
        let Some(Token::Ident(name)) = self.peek().cloned() else {
            return self.fail(
                "a field (from, to, cc, subject, body, text, attachments, language, header(\"…\"))",
            );
        };
        self.pos += 1;
        Ok(match name.as_str() {
            "from" => Field::From,
            "to" => Field::To,
            "cc" => Field::Cc,
            "subject" => Field::Subject,
            "body" => Field::Body,
            "text" => Field::Text,
            "attachments" => Field::Attachments,
            "language" => Field::Language,
            "header" => {
                self.expect(Token::LParen, "\"(\" after header")?;
                let h = self.string("a header name in quotes")?;
                self.expect(Token::RParen, "\")\"")?;
                Field::Header(h.to_ascii_lowercase())
            }
            _ => {
                self.pos -= 1;
                return self.fail(
                    "a field (from, to, cc, subject, body, text, attachments, language, header(\"…\"))",
                );
            }
        })
    }

    fn test(&mut self) -> Result<Expr, SyntaxError> {
        let field = self.field()?;
        let Some(Token::Ident(op)) = self.peek().cloned() else {
            return self.fail("contains, word, matches, near or exists");
        };
        self.pos += 1;
        let case = if self.peek() == Some(&Token::Ident("case".into())) && op != "matches" {
            self.pos += 1;
            true
        } else {
            false
        };
        let test = match op.as_str() {
            "contains" => {
                let text = self.string("a string after contains")?;
                // Without case, the needle is lower-cased once, here.
                Test::Contains {
                    text: if case { text } else { text.to_lowercase() },
                    case,
                }
            }
            "word" => {
                let phrase = self.string("a string after word")?;
                let words = super::text::words(&phrase, case);
                if words.is_empty() {
                    self.pos -= 1;
                    return self.fail("a string with at least one word");
                }
                Test::Word { words, case }
            }
            "matches" => {
                let pattern = self.string("a regular expression in quotes after matches")?;
                self.patterns.push(pattern.clone());
                Test::Matches {
                    pattern,
                    index: self.patterns.len() - 1,
                }
            }
            "near" => {
                self.expect(Token::LParen, "\"(\" after near")?;
                let a = self.string("a word in quotes")?;
                self.expect(Token::Comma, "\",\"")?;
                let b = self.string("a word in quotes")?;
                self.expect(Token::Comma, "\",\"")?;
                let within = match self.next() {
                    Some(Token::Num(n)) => n,
                    _ => {
                        self.pos -= 1;
                        return self.fail("a number of words");
                    }
                };
                self.expect(Token::RParen, "\")\"")?;
                let one = |w: &str| {
                    let ws = super::text::words(w, case);
                    (ws.len() == 1).then(|| ws[0].clone())
                };
                match (one(&a), one(&b)) {
                    (Some(a), Some(b)) => Test::Near { a, b, within, case },
                    _ => {
                        return Err(SyntaxError {
                            at: self.at(),
                            message: "near takes two single words".into(),
                        })
                    }
                }
            }
            "exists" => Test::Exists,
            _ => {
                self.pos -= 1;
                return self.fail("contains, word, matches, near or exists");
            }
        };
        Ok(Expr::Test(field, test))
    }
}
