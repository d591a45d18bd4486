//! Recursive-descent parser for the SOQL subset (grammar in `reference/salesforce-api.md` §4.1).

use super::lexer::{lex, Tok};
use super::{
    CmpOp, Cond, Ident, LikeTok, Literal, OrderItem, Pos, Query, SelectItem, SoqlError, SubQuery,
};

/// Parses a whole query.
pub fn parse(text: &str) -> Result<Query, SoqlError> {
    let toks = lex(text)?;
    // Salesforce reports a wrong first keyword without a position: `unexpected token: SELEKT`.
    if let Some((Tok::Word(w), _)) = toks.first() {
        if !w.eq_ignore_ascii_case("SELECT") {
            return Err(SoqlError {
                code: "MALFORMED_QUERY",
                message: format!("unexpected token: {w}"),
            });
        }
    }
    let mut p = Parser { text, toks, i: 0 };
    let q = p.query()?;
    p.expect_eof()?;
    Ok(q)
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<(Tok, Pos)>,
    i: usize,
}

const RESERVED: &[&str] = &[
    "SELECT", "FROM", "WHERE", "ORDER", "BY", "LIMIT", "OFFSET", "AND", "OR", "NOT", "IN", "LIKE",
    "ASC", "DESC", "NULLS",
];

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        self.toks.get(self.i).map(|t| &t.0).unwrap_or(&Tok::Eof)
    }
    fn pos(&self) -> Pos {
        self.toks
            .get(self.i)
            .or(self.toks.last())
            .map(|t| t.1)
            .unwrap_or_default()
    }
    fn bump(&mut self) -> (Tok, Pos) {
        let t = self
            .toks
            .get(self.i)
            .cloned()
            .unwrap_or((Tok::Eof, Pos::default()));
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }
    fn unexpected(&self) -> SoqlError {
        SoqlError::at(
            "MALFORMED_QUERY",
            self.text,
            self.pos(),
            format!("unexpected token: {}", self.peek().describe()),
        )
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.i += 1;
        }
        yes
    }
    fn expect_kw(&mut self, kw: &str) -> Result<(), SoqlError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }
    fn eat_punct(&mut self, p: &str) -> bool {
        let yes = matches!(self.peek(), Tok::Punct(q) if *q == p);
        if yes {
            self.i += 1;
        }
        yes
    }
    fn expect_punct(&mut self, p: &str) -> Result<(), SoqlError> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }
    fn expect_eof(&self) -> Result<(), SoqlError> {
        match self.peek() {
            Tok::Eof => Ok(()),
            _ => Err(self.unexpected()),
        }
    }

    fn ident(&mut self) -> Result<Ident, SoqlError> {
        match self.peek().clone() {
            Tok::Word(w) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&w)) => {
                let pos = self.pos();
                self.i += 1;
                if w.split('.').any(str::is_empty) {
                    return Err(SoqlError::at(
                        "MALFORMED_QUERY",
                        self.text,
                        pos,
                        format!("unexpected token: '{w}'"),
                    ));
                }
                Ok(Ident {
                    segments: w.split('.').map(str::to_string).collect(),
                    pos,
                })
            }
            _ => Err(self.unexpected()),
        }
    }

    fn query(&mut self) -> Result<Query, SoqlError> {
        self.expect_kw("SELECT")?;
        let mut select = Vec::new();
        loop {
            if self.eat_punct("(") {
                select.push(SelectItem::Sub(self.subquery()?));
                self.expect_punct(")")?;
            } else {
                select.push(SelectItem::Field(self.ident()?));
            }
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_kw("FROM")?;
        let from = self.ident()?;
        let alias = match self.peek() {
            Tok::Word(w) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(w)) => {
                let a = w.clone();
                self.i += 1;
                Some(a)
            }
            _ => None,
        };
        let filter = if self.eat_kw("WHERE") {
            Some(self.cond()?)
        } else {
            None
        };
        let order = self.order_by()?;
        let limit = self.limit()?;
        let offset = if self.is_kw("OFFSET") {
            self.i += 1;
            let pos = self.pos();
            Some((self.integer()?, pos))
        } else {
            None
        };
        Ok(Query {
            select,
            from,
            alias,
            filter,
            order,
            limit,
            offset,
        })
    }

    fn subquery(&mut self) -> Result<SubQuery, SoqlError> {
        self.expect_kw("SELECT")?;
        let mut fields = vec![self.ident()?];
        while self.eat_punct(",") {
            fields.push(self.ident()?);
        }
        self.expect_kw("FROM")?;
        let from = self.ident()?;
        let filter = if self.eat_kw("WHERE") {
            Some(self.cond()?)
        } else {
            None
        };
        let order = self.order_by()?;
        let limit = self.limit()?;
        Ok(SubQuery {
            fields,
            from,
            filter,
            order,
            limit,
        })
    }

    fn order_by(&mut self) -> Result<Vec<OrderItem>, SoqlError> {
        let mut items = Vec::new();
        if !self.eat_kw("ORDER") {
            return Ok(items);
        }
        self.expect_kw("BY")?;
        loop {
            let field = self.ident()?;
            let desc = if self.eat_kw("DESC") {
                true
            } else {
                self.eat_kw("ASC");
                false
            };
            let nulls_first = if self.eat_kw("NULLS") {
                if self.eat_kw("FIRST") {
                    Some(true)
                } else {
                    self.expect_kw("LAST")?;
                    Some(false)
                }
            } else {
                None
            };
            items.push(OrderItem {
                field,
                desc,
                nulls_first,
            });
            if !self.eat_punct(",") {
                return Ok(items);
            }
        }
    }

    fn limit(&mut self) -> Result<Option<u64>, SoqlError> {
        if self.eat_kw("LIMIT") {
            Ok(Some(self.integer()?))
        } else {
            Ok(None)
        }
    }

    fn integer(&mut self) -> Result<u64, SoqlError> {
        match self.peek().clone() {
            Tok::Num(n) => match n.parse::<u64>() {
                Ok(v) => {
                    self.i += 1;
                    Ok(v)
                }
                Err(_) => Err(self.unexpected()),
            },
            _ => Err(self.unexpected()),
        }
    }

    /// `or_expr | and_expr`; mixing AND and OR without parentheses is an error.
    fn cond(&mut self) -> Result<Cond, SoqlError> {
        let first = self.not_expr()?;
        let op = if self.is_kw("AND") {
            "AND"
        } else if self.is_kw("OR") {
            "OR"
        } else {
            return Ok(first);
        };
        let mut parts = vec![first];
        while self.eat_kw(op) {
            parts.push(self.not_expr()?);
        }
        if self.is_kw("AND") || self.is_kw("OR") {
            return Err(self.unexpected());
        }
        Ok(if op == "AND" {
            Cond::And(parts)
        } else {
            Cond::Or(parts)
        })
    }

    fn not_expr(&mut self) -> Result<Cond, SoqlError> {
        if self.eat_kw("NOT") {
            return Ok(Cond::Not(Box::new(self.not_expr()?)));
        }
        if self.eat_punct("(") {
            let c = self.cond()?;
            self.expect_punct(")")?;
            return Ok(c);
        }
        let field = self.ident()?;
        if self.eat_kw("LIKE") {
            let (tok, pos) = self.bump();
            let Tok::Str(raw) = tok else {
                self.i -= 1;
                return Err(self.unexpected());
            };
            return Ok(Cond::Like(field, self.like_pattern(&raw, pos)?));
        }
        let negated = if self.is_kw("NOT") {
            self.i += 1;
            if !self.is_kw("IN") {
                return Err(self.unexpected());
            }
            true
        } else {
            false
        };
        if self.eat_kw("IN") {
            self.expect_punct("(")?;
            let mut values = vec![self.literal()?];
            while self.eat_punct(",") {
                values.push(self.literal()?);
            }
            self.expect_punct(")")?;
            return Ok(Cond::In(field, negated, values));
        }
        let op = match self.peek() {
            Tok::Punct("=") => CmpOp::Eq,
            Tok::Punct("!=") | Tok::Punct("<>") => CmpOp::Ne,
            Tok::Punct("<") => CmpOp::Lt,
            Tok::Punct("<=") => CmpOp::Le,
            Tok::Punct(">") => CmpOp::Gt,
            Tok::Punct(">=") => CmpOp::Ge,
            _ => return Err(self.unexpected()),
        };
        self.i += 1;
        let (value, pos) = self.literal()?;
        Ok(Cond::Cmp(field, op, value, pos))
    }

    fn literal(&mut self) -> Result<(Literal, Pos), SoqlError> {
        let pos = self.pos();
        let lit = match self.peek().clone() {
            Tok::Str(raw) => Literal::Str(self.unescape(&raw, pos)?),
            Tok::Num(n) => Literal::Num(n.parse::<f64>().map_err(|_| self.unexpected())?),
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Tok::Word(w) if w.eq_ignore_ascii_case("null") => Literal::Null,
            Tok::Date(d) if d.len() == 10 => {
                if crate::salesforce::store::parse_date(&d).is_none() {
                    return Err(SoqlError::at(
                        "MALFORMED_QUERY",
                        self.text,
                        pos,
                        format!(
                            "line {}:{} no viable alternative at character '{d}'",
                            pos.row,
                            pos.col - 1
                        ),
                    ));
                }
                Literal::Date(d)
            }
            Tok::Date(d) => {
                let parsed =
                    time::OffsetDateTime::parse(&d, &time::format_description::well_known::Rfc3339)
                        .map_err(|_| {
                            SoqlError::at(
                                "MALFORMED_QUERY",
                                self.text,
                                pos,
                                format!("unexpected token: '{d}'"),
                            )
                        })?;
                let utc = parsed.to_offset(time::UtcOffset::UTC);
                let fmt = time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]"
                );
                Literal::DateTime(utc.format(&fmt).map_err(|_| self.unexpected())?)
            }
            _ => return Err(self.unexpected()),
        };
        self.i += 1;
        Ok((lit, pos))
    }

    fn bad_escape(&self, raw: &str, seq: &str, pos: Pos) -> SoqlError {
        SoqlError::at(
            "MALFORMED_QUERY",
            self.text,
            pos,
            format!("Invalid string literal '{raw}'. Illegal character sequence '{seq}' in string literal."),
        )
    }

    /// Decodes escapes; `like` allows `\%` and `\_` (returned as `Err(char)` = literal wildcard char).
    fn decode(
        &self,
        raw: &str,
        pos: Pos,
        like: bool,
    ) -> Result<Vec<Result<char, char>>, SoqlError> {
        let mut out = Vec::new();
        let mut it = raw.chars();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(Ok(c));
                continue;
            }
            let Some(e) = it.next() else {
                return Err(self.bad_escape(raw, "\\", pos));
            };
            let decoded = match e {
                'n' | 'N' => '\n',
                'r' | 'R' => '\r',
                't' | 'T' => '\t',
                'b' | 'B' => '\u{7}',
                'f' | 'F' => '\u{c}',
                '"' => '"',
                '\'' => '\'',
                '\\' => '\\',
                '%' | '_' if like => {
                    out.push(Err(e));
                    continue;
                }
                'u' => {
                    let hex: String = it.by_ref().take(4).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) if hex.len() == 4 => ch,
                        _ => return Err(self.bad_escape(raw, &format!("\\u{hex}"), pos)),
                    }
                }
                other => return Err(self.bad_escape(raw, &format!("\\{other}"), pos)),
            };
            out.push(Ok(decoded));
        }
        Ok(out)
    }

    fn unescape(&self, raw: &str, pos: Pos) -> Result<String, SoqlError> {
        Ok(self
            .decode(raw, pos, false)?
            .into_iter()
            .map(|c| c.unwrap_or_else(|w| w))
            .collect())
    }

    fn like_pattern(&self, raw: &str, pos: Pos) -> Result<Vec<LikeTok>, SoqlError> {
        Ok(self
            .decode(raw, pos, true)?
            .into_iter()
            .map(|c| match c {
                Ok('%') => LikeTok::Any,
                Ok('_') => LikeTok::One,
                Ok(ch) | Err(ch) => LikeTok::Char(ch),
            })
            .collect())
    }
}
