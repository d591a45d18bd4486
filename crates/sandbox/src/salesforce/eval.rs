//! Evaluates a parsed SOQL query against the [`Store`]: resolves names against the
//! schema (the source of `INVALID_FIELD` / `INVALID_TYPE` errors), filters, sorts and
//! renders records in the REST shape (`reference/salesforce-api.md` §3.2, §3.5–3.7, §4.3–4.5).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::schema::{self, ChildRelationship, Field, FieldType, SObject};
use super::soql::{CmpOp, Cond, Ident, LikeTok, Literal, OrderItem, Query, SelectItem, SoqlError};
use super::store::{normalize_id, Record, Store};

/// A field path resolved against the schema.
#[derive(Debug, Clone)]
pub struct Path {
    /// Lookups to follow: (lookup field, relationship name, target sObject).
    pub hops: Vec<(&'static str, &'static str, &'static SObject)>,
    /// The final field.
    pub field: &'static Field,
}

/// A resolved WHERE.
#[derive(Debug, Clone)]
pub enum RCond {
    /// All.
    And(Vec<RCond>),
    /// Any.
    Or(Vec<RCond>),
    /// Not.
    Not(Box<RCond>),
    /// Comparison.
    Cmp(Path, CmpOp, Literal),
    /// `[NOT] IN`.
    In(Path, bool, Vec<Literal>),
    /// LIKE.
    Like(Path, Vec<LikeTok>),
}

/// A resolved ORDER BY item.
#[derive(Debug, Clone)]
pub struct ROrder {
    path: Path,
    desc: bool,
    nulls_first: bool,
}

/// A resolved child subquery.
#[derive(Debug, Clone)]
pub struct RSub {
    /// The relationship.
    pub rel: &'static ChildRelationship,
    /// The child sObject.
    pub child: &'static SObject,
    /// Selected fields.
    pub fields: Vec<Path>,
    filter: Option<RCond>,
    order: Vec<ROrder>,
    limit: Option<u64>,
}

/// One resolved select item.
#[derive(Debug, Clone)]
pub enum RItem {
    /// A field (possibly through parents).
    Field(Path),
    /// A child subquery.
    Sub(RSub),
}

/// A query ready to run.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// FROM.
    pub sobject: &'static SObject,
    /// Select list.
    pub select: Vec<RItem>,
    filter: Option<RCond>,
    order: Vec<ROrder>,
    limit: Option<u64>,
    offset: Option<u64>,
}

const CUSTOM_FIELD_HINT: &str = "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.";

/// Resolves every name in `q` (the text is for error positions).
pub fn resolve(q: &Query, text: &str) -> Result<Resolved, SoqlError> {
    let from = q.from.text();
    let sobject = schema::sobject(&from).ok_or_else(|| {
        SoqlError::at(
            "INVALID_TYPE",
            text,
            q.from.pos,
            format!("sObject type '{from}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."),
        )
    })?;
    let r = Resolver {
        text,
        base: sobject,
        alias: q.alias.as_deref(),
    };
    let mut select = Vec::new();
    for item in &q.select {
        select.push(match item {
            SelectItem::Field(id) => RItem::Field(r.path(id)?),
            SelectItem::Sub(sub) => {
                let segs = &sub.from.segments;
                let name = match segs.as_slice() {
                    [rel] => rel.as_str(),
                    [first, rel] if r.is_base(first) => rel.as_str(),
                    _ => "",
                };
                let rel = sobject.child(name).ok_or_else(|| {
                    SoqlError::at(
                        "INVALID_TYPE",
                        text,
                        sub.from.pos,
                        format!("Didn't understand relationship '{}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", sub.from.text()),
                    )
                })?;
                let child = schema::sobject(rel.child).ok_or_else(|| SoqlError { code: "INVALID_TYPE", message: rel.child.into() })?;
                let cr = Resolver { text, base: child, alias: None };
                RItem::Sub(RSub {
                    rel,
                    child,
                    fields: sub.fields.iter().map(|f| cr.path(f)).collect::<Result<_, _>>()?,
                    filter: sub.filter.as_ref().map(|c| cr.cond(c)).transpose()?,
                    order: cr.order(&sub.order)?,
                    limit: sub.limit,
                })
            }
        });
    }
    if let Some((off, pos)) = q.offset {
        if off > 2000 {
            return Err(SoqlError::at(
                "NUMBER_OUTSIDE_VALID_RANGE",
                text,
                pos,
                format!("Maximum SOQL offset allowed is 2000, found {off}"),
            ));
        }
    }
    Ok(Resolved {
        sobject,
        select,
        filter: q.filter.as_ref().map(|c| r.cond(c)).transpose()?,
        order: r.order(&q.order)?,
        limit: q.limit,
        offset: q.offset.map(|o| o.0),
    })
}

struct Resolver<'a> {
    text: &'a str,
    base: &'static SObject,
    alias: Option<&'a str>,
}

impl Resolver<'_> {
    fn is_base(&self, seg: &str) -> bool {
        seg.eq_ignore_ascii_case(self.base.name)
            || self.alias.is_some_and(|a| a.eq_ignore_ascii_case(seg))
    }

    fn path(&self, id: &Ident) -> Result<Path, SoqlError> {
        let mut segs: &[String] = &id.segments;
        if let Some((first, rest)) = segs.split_first() {
            if !rest.is_empty() && self.is_base(first) {
                segs = rest;
            }
        }
        let mut current = self.base;
        let mut hops = Vec::new();
        let Some((last, rels)) = segs.split_last() else {
            return Err(SoqlError::at(
                "MALFORMED_QUERY",
                self.text,
                id.pos,
                "unexpected token: ''",
            ));
        };
        for rel in rels {
            let (field, target) = current.lookup(rel).ok_or_else(|| {
                SoqlError::at(
                    "INVALID_FIELD",
                    self.text,
                    id.pos,
                    format!("Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."),
                )
            })?;
            let target = schema::sobject(target).ok_or_else(|| SoqlError {
                code: "INVALID_TYPE",
                message: target.into(),
            })?;
            let rel_name = match field.ty {
                FieldType::Reference(_, n) => n,
                _ => field.name,
            };
            hops.push((field.name, rel_name, target));
            current = target;
        }
        let field = current.field(last).ok_or_else(|| {
            SoqlError::at(
                "INVALID_FIELD",
                self.text,
                id.pos,
                format!(
                    "No such column '{last}' on entity '{}'. {CUSTOM_FIELD_HINT}",
                    current.name
                ),
            )
        })?;
        Ok(Path { hops, field })
    }

    fn check_literal(
        &self,
        path: &Path,
        lit: &Literal,
        pos: super::soql::Pos,
    ) -> Result<(), SoqlError> {
        let name = path.field.name;
        let bad = |ty: &str, quoted: bool| {
            let q = if quoted { "" } else { "not " };
            Err(SoqlError::at(
                "INVALID_FIELD",
                self.text,
                pos,
                format!("value of filter criterion for field '{name}' must be of type {ty} and should {q}be enclosed in quotes"),
            ))
        };
        match (path.field.ty, lit) {
            (_, Literal::Null) => Ok(()),
            (FieldType::Text, Literal::Str(_)) => Ok(()),
            (FieldType::Text, _) => bad("string", true),
            (FieldType::Boolean, Literal::Bool(_)) => Ok(()),
            (FieldType::Boolean, _) => bad("boolean", false),
            (FieldType::Number, Literal::Num(_)) => Ok(()),
            (FieldType::Number, _) => bad("double", false),
            (FieldType::Date, Literal::Date(_)) => Ok(()),
            (FieldType::Date, _) => bad("date", false),
            (FieldType::DateTime, Literal::DateTime(_)) => Ok(()),
            (FieldType::DateTime, _) => bad("dateTime", false),
            (FieldType::Id | FieldType::Reference(..), Literal::Str(s)) => match normalize_id(s) {
                Some(_) => Ok(()),
                None => Err(SoqlError::at(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    self.text,
                    pos,
                    format!("invalid ID field: {s}"),
                )),
            },
            (FieldType::Id | FieldType::Reference(..), _) => bad("id", true),
        }
    }

    fn cond(&self, c: &Cond) -> Result<RCond, SoqlError> {
        Ok(match c {
            Cond::And(v) => RCond::And(v.iter().map(|c| self.cond(c)).collect::<Result<_, _>>()?),
            Cond::Or(v) => RCond::Or(v.iter().map(|c| self.cond(c)).collect::<Result<_, _>>()?),
            Cond::Not(c) => RCond::Not(Box::new(self.cond(c)?)),
            Cond::Cmp(id, op, lit, pos) => {
                let p = self.path(id)?;
                self.check_literal(&p, lit, *pos)?;
                RCond::Cmp(p, *op, lit.clone())
            }
            Cond::In(id, neg, lits) => {
                let p = self.path(id)?;
                for (lit, pos) in lits {
                    self.check_literal(&p, lit, *pos)?;
                }
                RCond::In(p, *neg, lits.iter().map(|l| l.0.clone()).collect())
            }
            Cond::Like(id, pat) => {
                let p = self.path(id)?;
                if p.field.ty != FieldType::Text {
                    return Err(SoqlError::at(
                        "INVALID_QUERY_FILTER_OPERATOR",
                        self.text,
                        id.pos,
                        format!(
                            "invalid operator on field '{}': LIKE applies to string fields only",
                            p.field.name
                        ),
                    ));
                }
                RCond::Like(p, pat.clone())
            }
        })
    }

    fn order(&self, items: &[OrderItem]) -> Result<Vec<ROrder>, SoqlError> {
        items
            .iter()
            .map(|o| {
                Ok(ROrder {
                    path: self.path(&o.field)?,
                    desc: o.desc,
                    // Nulls sort as the lowest value unless NULLS says otherwise.
                    nulls_first: o.nulls_first.unwrap_or(!o.desc),
                })
            })
            .collect()
    }
}

/// The value of `path` on `rec` (`Null` when a parent on the way is empty).
pub fn value_of<'a>(store: &'a Store, rec: &'a Record, path: &Path) -> &'a Value {
    let mut cur = rec;
    for (lookup, _, target) in &path.hops {
        match cur
            .get(*lookup)
            .and_then(Value::as_str)
            .and_then(|id| store.get(target.name, id))
        {
            Some(parent) => cur = parent,
            None => return &Value::Null,
        }
    }
    cur.get(path.field.name).unwrap_or(&Value::Null)
}

/// Compares a non-null stored value with a non-null literal.
fn compare(ty: FieldType, v: &Value, lit: &Literal) -> Option<Ordering> {
    match (ty, v, lit) {
        (FieldType::Text, Value::String(s), Literal::Str(l)) => {
            Some(s.to_lowercase().cmp(&l.to_lowercase()))
        }
        (FieldType::Number, Value::Number(n), Literal::Num(l)) => n.as_f64()?.partial_cmp(l),
        (FieldType::Boolean, Value::Bool(b), Literal::Bool(l)) => Some(b.cmp(l)),
        (FieldType::Date, Value::String(s), Literal::Date(l)) => Some(s.as_str().cmp(l.as_str())),
        (FieldType::DateTime, Value::String(s), Literal::DateTime(l)) => {
            Some(s.get(..19).unwrap_or(s).cmp(l.as_str()))
        }
        (FieldType::Id | FieldType::Reference(..), Value::String(s), Literal::Str(l)) => {
            Some(s.as_str().cmp(normalize_id(l).as_deref().unwrap_or(l)))
        }
        _ => None,
    }
}

fn is_null(ty: FieldType, v: &Value) -> bool {
    // On boolean fields `= null` means `= false`.
    v.is_null() || (ty == FieldType::Boolean && *v == Value::Bool(false))
}

/// Whether `rec` satisfies `c`.
pub fn matches(store: &Store, rec: &Record, c: &RCond) -> bool {
    match c {
        RCond::And(v) => v.iter().all(|c| matches(store, rec, c)),
        RCond::Or(v) => v.iter().any(|c| matches(store, rec, c)),
        RCond::Not(c) => !matches(store, rec, c),
        RCond::Cmp(p, op, lit) => {
            let v = value_of(store, rec, p);
            let ty = p.field.ty;
            if *lit == Literal::Null {
                return match op {
                    CmpOp::Eq => is_null(ty, v),
                    CmpOp::Ne => !is_null(ty, v),
                    _ => false,
                };
            }
            if v.is_null() {
                // `!=` includes null rows (reference §4.3, recommended default).
                return *op == CmpOp::Ne;
            }
            let Some(ord) = compare(ty, v, lit) else {
                return false;
            };
            match op {
                CmpOp::Eq => ord == Ordering::Equal,
                CmpOp::Ne => ord != Ordering::Equal,
                CmpOp::Lt => ord == Ordering::Less,
                CmpOp::Le => ord != Ordering::Greater,
                CmpOp::Gt => ord == Ordering::Greater,
                CmpOp::Ge => ord != Ordering::Less,
            }
        }
        RCond::In(p, negated, lits) => {
            let v = value_of(store, rec, p);
            let ty = p.field.ty;
            let hit = lits.iter().any(|l| match l {
                Literal::Null => is_null(ty, v),
                l => !v.is_null() && compare(ty, v, l) == Some(Ordering::Equal),
            });
            // `NOT IN` excludes null rows (reference §4.3, recommended default).
            if *negated {
                !v.is_null() && !hit
            } else {
                hit
            }
        }
        RCond::Like(p, pat) => value_of(store, rec, p)
            .as_str()
            .is_some_and(|s| super::soql::like_matches(pat, s)),
    }
}

fn sort_key_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// Filters (skipping deleted rows unless `all_rows`), sorts, applies OFFSET and LIMIT;
/// returns the keys (store row indexes) `candidates` pairs with the chosen rows.
fn select_rows(
    store: &Store,
    candidates: Vec<(usize, &Record)>,
    filter: Option<&RCond>,
    order: &[ROrder],
    limit: Option<u64>,
    offset: Option<u64>,
    all_rows: bool,
) -> Vec<usize> {
    let mut rows: Vec<(usize, &Record)> = candidates
        .into_iter()
        .filter(|&(_, rec)| {
            (all_rows || rec.get("IsDeleted") != Some(&Value::Bool(true)))
                && filter.is_none_or(|c| matches(store, rec, c))
        })
        .collect();
    if !order.is_empty() {
        rows.sort_by(|&(_, a), &(_, b)| {
            for o in order {
                let (va, vb) = (value_of(store, a, &o.path), value_of(store, b, &o.path));
                let ord = match (va.is_null(), vb.is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => {
                        return if o.nulls_first {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        }
                    }
                    (false, true) => {
                        return if o.nulls_first {
                            Ordering::Greater
                        } else {
                            Ordering::Less
                        }
                    }
                    (false, false) => {
                        let ord = sort_key_cmp(va, vb);
                        if o.desc {
                            ord.reverse()
                        } else {
                            ord
                        }
                    }
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
    let skip = offset.unwrap_or(0) as usize;
    let take = limit.map_or(usize::MAX, |l| l as usize);
    rows.into_iter()
        .skip(skip)
        .take(take)
        .map(|(i, _)| i)
        .collect()
}

impl Resolved {
    /// Indexes (into `store.rows(FROM)`) of the matching rows, in result order.
    pub fn run(&self, store: &Store, all_rows: bool) -> Vec<usize> {
        let rows = store.rows(self.sobject.name).iter().enumerate().collect();
        select_rows(
            store,
            rows,
            self.filter.as_ref(),
            &self.order,
            self.limit,
            self.offset,
            all_rows,
        )
    }
}

impl RSub {
    /// Indexes (into `store.rows(child)`) of the children of `parent_id` this subquery returns.
    pub fn run(&self, store: &Store, parent_id: &str, all_rows: bool) -> Vec<usize> {
        let all = store.rows(self.child.name);
        let mine = store.children(self.child.name, self.rel.field, parent_id);
        let cands = mine
            .iter()
            .filter_map(|&i| all.get(i).map(|rec| (i, rec)))
            .collect();
        select_rows(
            store,
            cands,
            self.filter.as_ref(),
            &self.order,
            self.limit,
            None,
            all_rows,
        )
    }
}

/// `{"type": T, "url": "/services/data/vNN.N/sobjects/T/<id>"}`.
pub fn attributes(sobject: &str, id: &str, version: &str) -> Value {
    serde_json::json!({"type": sobject, "url": format!("/services/data/{version}/sobjects/{sobject}/{id}")})
}

/// A stored value as Salesforce writes it: numbers as floats.
pub fn wire_value(ty: FieldType, v: &Value) -> Value {
    match (ty, v) {
        (FieldType::Number, Value::Number(n)) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        _ => v.clone(),
    }
}

/// Renders the selected `paths` of `rec` (without child subqueries) after its `attributes`.
pub fn render_fields(
    store: &Store,
    sobject: &SObject,
    rec: &Record,
    paths: &[Path],
    version: &str,
) -> Map<String, Value> {
    let id = rec.get("Id").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::new();
    out.insert("attributes".into(), attributes(sobject.name, id, version));
    for p in paths {
        put_path(store, &mut out, rec, &p.hops, p.field, version);
    }
    out
}

/// Writes one path into `out`, nesting parents by relationship name and merging
/// several fields of the same parent into one object; an empty parent is `null`.
fn put_path(
    store: &Store,
    out: &mut Map<String, Value>,
    rec: &Record,
    hops: &[(&'static str, &'static str, &'static SObject)],
    field: &'static Field,
    version: &str,
) {
    let Some(((lookup, rel, target), rest)) = hops.split_first() else {
        out.insert(
            field.name.to_string(),
            wire_value(field.ty, rec.get(field.name).unwrap_or(&Value::Null)),
        );
        return;
    };
    let parent = rec
        .get(*lookup)
        .and_then(Value::as_str)
        .and_then(|id| store.get(target.name, id));
    match parent {
        None => {
            out.insert((*rel).to_string(), Value::Null);
        }
        Some(parent) => {
            let entry = out.entry((*rel).to_string()).or_insert(Value::Null);
            if !entry.is_object() {
                let id = parent.get("Id").and_then(Value::as_str).unwrap_or_default();
                let mut m = Map::new();
                m.insert("attributes".into(), attributes(target.name, id, version));
                *entry = Value::Object(m);
            }
            if let Value::Object(m) = entry {
                put_path(store, m, parent, rest, field, version);
            }
        }
    }
}
