//! Splits SOQL text into tokens with their positions. String literals keep their
//! raw (still escaped) text: whether `\%` and `\_` are legal depends on whether the
//! literal is a LIKE pattern, which only the parser knows.

use super::{Pos, SoqlError};

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name or keyword, possibly dotted (`Account.Name`).
    Word(String),
    /// `'…'`, raw text between the quotes.
    Str(String),
    /// A number as written.
    Num(String),
    /// A date or datetime literal as written.
    Date(String),
    /// Punctuation or operator: `(`, `)`, `,`, `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`.
    Punct(&'static str),
    /// End of input.
    Eof,
}

impl Tok {
    /// The token as Salesforce quotes it in "unexpected token" messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Word(w) | Tok::Num(w) | Tok::Date(w) => format!("'{w}'"),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Punct(p) => format!("'{p}'"),
            Tok::Eof => "<EOF>".to_string(),
        }
    }
}

/// The characters `chars[start..end]` as a string; an out-of-range span yields
/// the empty string (never the case for the spans `lex` builds).
fn collect(chars: &[char], start: usize, end: usize) -> String {
    chars.get(start..end).unwrap_or_default().iter().collect()
}

/// Tokenises `text`.
pub fn lex(text: &str) -> Result<Vec<(Tok, Pos)>, SoqlError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut row, mut line_start) = (0usize, 1usize, 0usize);
    while let Some(&c) = chars.get(i) {
        let pos = Pos {
            row,
            col: i - line_start + 1,
        };
        if c == '\n' {
            row += 1;
            line_start = i + 1;
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '\'' {
            let mut raw = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(SoqlError::at(
                            "MALFORMED_QUERY",
                            text,
                            pos,
                            "line 1:0 mismatched character '<EOF>' expecting '''",
                        ))
                    }
                    Some('\\') => {
                        let Some(&n) = chars.get(i + 1) else {
                            i += 1;
                            continue;
                        };
                        raw.push('\\');
                        raw.push(n);
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        if ch == '\n' {
                            row += 1;
                            line_start = i + 1;
                        }
                        raw.push(ch);
                        i += 1;
                    }
                }
            }
            out.push((Tok::Str(raw), pos));
            continue;
        }
        if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            let is_date = chars.get(i..i + 10).is_some_and(|ten| {
                ten.iter().enumerate().all(|(k, ch)| {
                    if k == 4 || k == 7 {
                        *ch == '-'
                    } else {
                        ch.is_ascii_digit()
                    }
                })
            });
            if is_date {
                i += 10;
                if chars.get(i) == Some(&'T') {
                    i += 1;
                    while chars.get(i).is_some_and(|ch| {
                        ch.is_ascii_digit() || matches!(ch, ':' | '.' | 'Z' | '+' | '-')
                    }) {
                        i += 1;
                    }
                }
                out.push((Tok::Date(collect(&chars, start, i)), pos));
            } else {
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|ch| ch.is_ascii_digit() || *ch == '.')
                {
                    i += 1;
                }
                out.push((Tok::Num(collect(&chars, start, i)), pos));
            }
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|ch| ch.is_alphanumeric() || *ch == '_' || *ch == '.')
            {
                i += 1;
            }
            out.push((Tok::Word(collect(&chars, start, i)), pos));
            continue;
        }
        let two = collect(&chars, i, chars.len().min(i + 2));
        let punct = match two.as_str() {
            "!=" => Some("!="),
            "<>" => Some("<>"),
            "<=" => Some("<="),
            ">=" => Some(">="),
            _ => None,
        };
        if let Some(p) = punct {
            out.push((Tok::Punct(p), pos));
            i += 2;
            continue;
        }
        let one = match c {
            '(' => "(",
            ')' => ")",
            ',' => ",",
            '=' => "=",
            '<' => "<",
            '>' => ">",
            _ => {
                return Err(SoqlError::at(
                    "MALFORMED_QUERY",
                    text,
                    pos,
                    format!("unexpected token: '{c}'"),
                ));
            }
        };
        out.push((Tok::Punct(one), pos));
        i += 1;
    }
    let pos = Pos {
        row,
        col: chars.len() - line_start + 1,
    };
    out.push((Tok::Eof, pos));
    Ok(out)
}
