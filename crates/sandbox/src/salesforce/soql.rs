//! The SOQL subset of `reference/salesforce-api.md` §4: lexer, parser (to an AST),
//! and the errors Salesforce gives for bad queries, with their Row/Column text.

mod lexer;
mod parser;

pub use parser::parse;

/// A position in the query text (1-based row and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub row: usize,
    /// 1-based column.
    pub col: usize,
}

/// A query error in Salesforce's terms: the `errorCode` and the full `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoqlError {
    /// `MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE`, …
    pub code: &'static str,
    /// The message as Salesforce writes it (with the quoted line, caret and Row/Column).
    pub message: String,
}

impl SoqlError {
    /// An error at `pos` in `query`, in the shape
    /// `"\n<line>\n<caret>\nERROR at Row:R:Column:C\n<text>"`.
    pub fn at(code: &'static str, query: &str, pos: Pos, text: impl std::fmt::Display) -> Self {
        let line = query
            .lines()
            .nth(pos.row.saturating_sub(1))
            .unwrap_or_default();
        let caret = " ".repeat(pos.col.saturating_sub(1));
        SoqlError {
            code,
            message: format!(
                "\n{line}\n{caret}^\nERROR at Row:{}:Column:{}\n{text}",
                pos.row, pos.col
            ),
        }
    }
}

/// A parsed query (top level).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The select list.
    pub select: Vec<SelectItem>,
    /// The FROM object as written.
    pub from: Ident,
    /// Optional alias of the FROM object.
    pub alias: Option<String>,
    /// WHERE.
    pub filter: Option<Cond>,
    /// ORDER BY.
    pub order: Vec<OrderItem>,
    /// LIMIT.
    pub limit: Option<u64>,
    /// OFFSET.
    pub offset: Option<(u64, Pos)>,
}

/// A name with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The dotted segments as written.
    pub segments: Vec<String>,
    /// Where it starts.
    pub pos: Pos,
}

impl Ident {
    /// The name as written, segments joined by dots.
    pub fn text(&self) -> String {
        self.segments.join(".")
    }
}

/// One item of a select list.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// A field path.
    Field(Ident),
    /// A parent-to-child subquery.
    Sub(SubQuery),
}

/// `(SELECT … FROM relationship …)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubQuery {
    /// Field paths (relative to the child sObject).
    pub fields: Vec<Ident>,
    /// The child relationship as written (`Customer_Subscriptions__r`, `Account.Contacts`).
    pub from: Ident,
    /// WHERE.
    pub filter: Option<Cond>,
    /// ORDER BY.
    pub order: Vec<OrderItem>,
    /// LIMIT.
    pub limit: Option<u64>,
}

/// A WHERE condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// All must hold.
    And(Vec<Cond>),
    /// One must hold.
    Or(Vec<Cond>),
    /// Negation.
    Not(Box<Cond>),
    /// `field op value`.
    Cmp(Ident, CmpOp, Literal, Pos),
    /// `field [NOT] IN (values)`.
    In(Ident, bool, Vec<(Literal, Pos)>),
    /// `field LIKE 'pattern'`.
    Like(Ident, Vec<LikeTok>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=` or `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'` with escapes decoded.
    Str(String),
    /// An unquoted number.
    Num(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `YYYY-MM-DD`.
    Date(String),
    /// `YYYY-MM-DDTHH:MM:SS(Z|±hh:mm)`, normalised to UTC `YYYY-MM-DDTHH:MM:SS`.
    DateTime(String),
}

/// One element of a LIKE pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LikeTok {
    /// A literal character (compared case-insensitively).
    Char(char),
    /// `_`: exactly one character.
    One,
    /// `%`: any run of characters.
    Any,
}

/// `ORDER BY` item.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    /// The field.
    pub field: Ident,
    /// DESC?
    pub desc: bool,
    /// Explicit NULLS FIRST (`Some(true)`) / LAST (`Some(false)`).
    pub nulls_first: Option<bool>,
}

/// Case-insensitive LIKE match.
pub fn like_matches(pattern: &[LikeTok], value: &str) -> bool {
    let chars: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
    let pat: Vec<LikeTok> = pattern
        .iter()
        .flat_map(|t| match t {
            LikeTok::Char(c) => c.to_lowercase().map(LikeTok::Char).collect::<Vec<_>>(),
            other => vec![other.clone()],
        })
        .collect();
    // Classic wildcard matching with backtracking on the last `%`.
    let (mut p, mut v) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&ch) = chars.get(v) {
        match pat.get(p) {
            Some(LikeTok::Char(c)) if *c == ch => {
                p += 1;
                v += 1;
            }
            Some(LikeTok::One) => {
                p += 1;
                v += 1;
            }
            Some(LikeTok::Any) => {
                star = Some((p, v));
                p += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    p = sp + 1;
                    v = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    pat.get(p..)
        .is_some_and(|rest| rest.iter().all(|t| *t == LikeTok::Any))
}
