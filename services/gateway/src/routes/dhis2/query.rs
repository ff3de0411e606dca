//! DHIS2's metadata query parameters over JSON objects: `fields=` (with
//! nested `a[b,c]`, `*` and `:all`), `filter=property:operator:value` (with
//! `rootJunction=OR`), and `page` / `pageSize` / `paging=false` with DHIS2's
//! `pager` object. Each list is built in full as JSON, then filtered, paged
//! and projected, so every collection speaks the same dialect.

use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// A `fields=` selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    /// Every field (`*`, `:all`).
    All,
    /// These fields, each with its own sub-selection for objects and lists.
    Some(Vec<(String, Fields)>),
}

impl Fields {
    /// DHIS2's default for lists.
    pub fn list_default() -> Self {
        Self::Some(vec![
            ("id".into(), Self::All),
            ("displayName".into(), Self::All),
        ])
    }

    /// Parses `id,name,parent[id,name],children[id]`.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let (fields, rest) = parse_list(raw.trim(), 0)?;
        if !rest.is_empty() {
            return Err(bad_fields(raw, "an unmatched `]`"));
        }
        Ok(fields)
    }

    /// The object with only the selected fields (recursively).
    pub fn project(&self, value: &Value) -> Value {
        match (self, value) {
            (Self::All, v) => v.clone(),
            (Self::Some(wanted), Value::Object(map)) => {
                let mut out = Map::new();
                for (name, sub) in wanted {
                    if name == "*" || name == ":all" {
                        for (k, v) in map {
                            out.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    } else if let Some(v) = map.get(name) {
                        out.insert(name.clone(), sub.project(v));
                    }
                }
                Value::Object(out)
            }
            (Self::Some(_), Value::Array(items)) => {
                Value::Array(items.iter().map(|i| self.project(i)).collect())
            }
            (Self::Some(_), v) => v.clone(),
        }
    }
}

fn bad_fields(raw: &str, what: &str) -> ApiError {
    ApiError::field("fields", format!("`{raw}` is not a field list: {what}"))
}

/// Parses names separated by commas until the end or a `]`; returns the
/// selection and what follows the `]` (or nothing).
fn parse_list(src: &str, depth: usize) -> Result<(Fields, &str), ApiError> {
    if depth > 8 {
        return Err(bad_fields(src, "nested more than 8 deep"));
    }
    let mut fields = Vec::new();
    let mut rest = src;
    loop {
        let end = rest.find([',', '[', ']']).unwrap_or(rest.len());
        let name = rest[..end].trim();
        rest = &rest[end..];
        let sub = if let Some(inner) = rest.strip_prefix('[') {
            let (sub, after) = parse_list(inner, depth + 1)?;
            rest = after;
            sub
        } else {
            Fields::All
        };
        if name.is_empty() && !matches!(sub, Fields::All) {
            return Err(bad_fields(src, "a `[` without a field name"));
        }
        if name == "*" || name == ":all" {
            fields.push((name.to_owned(), Fields::All));
        } else if !name.is_empty() {
            fields.push((name.to_owned(), sub));
        }
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if let Some(after) = rest.strip_prefix(']') {
            if depth == 0 {
                return Err(bad_fields(src, "an unmatched `]`"));
            }
            return Ok((Fields::Some(fields), after));
        } else {
            if depth > 0 {
                return Err(bad_fields(src, "a `[` without its `]`"));
            }
            let all = fields.iter().all(|(n, _)| n == "*" || n == ":all");
            return Ok((
                if all && !fields.is_empty() {
                    Fields::All
                } else {
                    Fields::Some(fields)
                },
                rest,
            ));
        }
    }
}

/// One `filter=property:operator:value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    path: Vec<String>,
    op: Op,
    value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Like,
    NotLike,
    ILike,
    NotILike,
    StartsWith,
    EndsWith,
    In,
    NotIn,
    Gt,
    Ge,
    Lt,
    Le,
    Null,
    NotNull,
}

impl Filter {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let mut parts = raw.splitn(3, ':');
        let (Some(property), Some(op)) = (parts.next(), parts.next()) else {
            return Err(ApiError::field(
                "filter",
                format!("`{raw}` is not a filter: property:operator:value, e.g. name:ilike:binh"),
            ));
        };
        let value = parts.next().unwrap_or("").to_owned();
        let op = match op {
            "eq" => Op::Eq,
            "!eq" | "ne" | "neq" => Op::Ne,
            "like" => Op::Like,
            "!like" => Op::NotLike,
            "ilike" => Op::ILike,
            "!ilike" => Op::NotILike,
            "$like" | "$ilike" => Op::StartsWith,
            "like$" | "ilike$" => Op::EndsWith,
            "in" => Op::In,
            "!in" => Op::NotIn,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            "null" => Op::Null,
            "!null" => Op::NotNull,
            other => {
                return Err(ApiError::field(
                    "filter",
                    format!(
                        "`{other}` is not a filter operator: eq, !eq, like, !like, ilike, !ilike, $like, like$, in, !in, gt, ge, lt, le, null, !null"
                    ),
                ));
            }
        };
        if matches!(op, Op::In | Op::NotIn) && !(value.starts_with('[') && value.ends_with(']')) {
            return Err(ApiError::field(
                "filter",
                format!("`{raw}`: in takes a list in brackets, e.g. code:in:[a,b]"),
            ));
        }
        Ok(Self {
            path: property.split('.').map(str::to_owned).collect(),
            op,
            value,
        })
    }

    /// Whether `item` passes. A path through a list (`children.id`) passes
    /// when any element does.
    pub fn matches(&self, item: &Value) -> bool {
        let found = lookup(item, &self.path);
        match self.op {
            Op::Null => found.iter().all(|v| v.is_null()),
            Op::NotNull => found.iter().any(|v| !v.is_null()),
            Op::Ne | Op::NotLike | Op::NotILike | Op::NotIn => {
                !found.iter().any(|v| self.holds_positive(v))
            }
            _ => found.iter().any(|v| self.holds_positive(v)),
        }
    }

    /// The operator without its negation, on one value.
    fn holds_positive(&self, v: &Value) -> bool {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Null => return false,
            other => other.to_string(),
        };
        let fold = |s: &str| crate::routes::dhis2::fold(s);
        match self.op {
            Op::Eq | Op::Ne => text == self.value,
            Op::Like | Op::NotLike => text.contains(&self.value),
            Op::ILike | Op::NotILike => fold(&text).contains(&fold(&self.value)),
            Op::StartsWith => fold(&text).starts_with(&fold(&self.value)),
            Op::EndsWith => fold(&text).ends_with(&fold(&self.value)),
            Op::In | Op::NotIn => self.value[1..self.value.len() - 1]
                .split(',')
                .any(|x| x.trim() == text),
            Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                let ord = match (text.parse::<f64>(), self.value.parse::<f64>()) {
                    (Ok(a), Ok(b)) => a.partial_cmp(&b),
                    _ => Some(text.as_str().cmp(self.value.as_str())),
                };
                ord.is_some_and(|o| match self.op {
                    Op::Gt => o.is_gt(),
                    Op::Ge => o.is_ge(),
                    Op::Lt => o.is_lt(),
                    _ => o.is_le(),
                })
            }
            Op::Null | Op::NotNull => unreachable!("handled in matches"),
        }
    }
}

/// The values at `path`, flattening lists on the way.
fn lookup<'v>(item: &'v Value, path: &[String]) -> Vec<&'v Value> {
    let Some((first, rest)) = path.split_first() else {
        return vec![item];
    };
    match item {
        Value::Object(map) => map.get(first).map(|v| lookup(v, rest)).unwrap_or_default(),
        Value::Array(items) => items.iter().flat_map(|i| lookup(i, path)).collect(),
        _ => Vec::new(),
    }
}

/// Numbers before text, numbers by value, text in Vietnamese order.
fn sort_key(v: &Value) -> (u8, i64, String) {
    match v {
        Value::Number(n) => (0, n.as_f64().map_or(0, |f| (f * 1e6) as i64), String::new()),
        Value::String(s) => (1, 0, chiso_domain::text::sort_key(s)),
        other => (2, 0, other.to_string()),
    }
}

/// The list parameters of a metadata request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub fields: Fields,
    pub filters: Vec<Filter>,
    /// `rootJunction=OR`: any filter passes.
    pub any: bool,
    pub page: usize,
    pub page_size: usize,
    pub paging: bool,
    /// `order=property:asc|desc`, applied in turn.
    pub order: Vec<(Vec<String>, bool)>,
}

/// Most items in one page.
const MAX_PAGE_SIZE: usize = 10_000;

impl ListQuery {
    /// From the raw query pairs (`filter` may repeat).
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut q = Self {
            fields: Fields::list_default(),
            filters: Vec::new(),
            any: false,
            page: 1,
            page_size: 50,
            paging: true,
            order: Vec::new(),
        };
        for (key, value) in pairs {
            match key.as_str() {
                "fields" => q.fields = Fields::parse(value)?,
                "filter" => q.filters.push(Filter::parse(value)?),
                "rootJunction" => q.any = value.eq_ignore_ascii_case("or"),
                "page" => {
                    q.page =
                        value.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                            ApiError::field("page", "must be a whole number from 1")
                        })?;
                }
                "pageSize" => {
                    q.page_size = value
                        .parse()
                        .ok()
                        .filter(|p| (1..=MAX_PAGE_SIZE).contains(p))
                        .ok_or_else(|| {
                            ApiError::field(
                                "pageSize",
                                format!("must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                            )
                        })?;
                }
                "paging" => q.paging = !value.eq_ignore_ascii_case("false"),
                "order" => {
                    for part in value.split(',') {
                        let (property, direction) = part.split_once(':').unwrap_or((part, "asc"));
                        let descending = match direction.to_ascii_lowercase().as_str() {
                            "asc" | "iasc" => false,
                            "desc" | "idesc" => true,
                            other => {
                                return Err(ApiError::field(
                                    "order",
                                    format!("`{other}` is not an order: asc or desc"),
                                ));
                            }
                        };
                        q.order
                            .push((property.split('.').map(str::to_owned).collect(), descending));
                    }
                }
                // Accepted and ignored, as DHIS2 clients send them routinely.
                "translate" | "locale" | "totalPages" => {}
                other => {
                    return Err(ApiError::field(
                        other,
                        "is not a parameter here: fields, filter, rootJunction, page, pageSize, paging, order",
                    ));
                }
            }
        }
        Ok(q)
    }

    /// `{ "pager": …, "<collection>": [...] }` from every item.
    pub fn answer(&self, collection: &str, items: Vec<Value>) -> Value {
        let mut kept: Vec<Value> = items
            .into_iter()
            .filter(|item| {
                self.filters.is_empty()
                    || if self.any {
                        self.filters.iter().any(|f| f.matches(item))
                    } else {
                        self.filters.iter().all(|f| f.matches(item))
                    }
            })
            .collect();
        for (path, descending) in self.order.iter().rev() {
            // Stable sorts from the last key to the first give the first key precedence.
            kept.sort_by(|a, b| {
                let key = |v: &Value| lookup(v, path).first().map(|x| sort_key(x));
                let ord = key(a).cmp(&key(b));
                if *descending { ord.reverse() } else { ord }
            });
        }
        let total = kept.len();
        let mut out = Map::new();
        let page: Vec<Value> = if self.paging {
            let page_count = total.div_ceil(self.page_size).max(1);
            let mut pager = json!({
                "page": self.page,
                "pageCount": page_count,
                "total": total,
                "pageSize": self.page_size,
            });
            if self.page < page_count {
                pager["nextPage"] = json!(format!("page={}", self.page + 1));
            }
            out.insert("pager".into(), pager);
            kept.into_iter()
                .skip((self.page - 1) * self.page_size)
                .take(self.page_size)
                .collect()
        } else {
            kept
        };
        out.insert(
            collection.into(),
            Value::Array(page.iter().map(|i| self.fields.project(i)).collect()),
        );
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn units() -> Vec<Value> {
        vec![
            json!({"id": "000.00.00.H51", "displayName": "UBND tỉnh Quảng Ngãi", "level": 1,
                   "parent": null, "children": [{"id": "000.00.24.H51"}]}),
            json!({"id": "000.00.24.H51", "displayName": "UBND huyện Bình Sơn", "level": 2,
                   "parent": {"id": "000.00.00.H51", "name": "UBND tỉnh Quảng Ngãi"}, "children": []}),
            json!({"id": "000.00.25.H51", "displayName": "UBND huyện Trà Bồng", "level": 2,
                   "parent": {"id": "000.00.00.H51", "name": "UBND tỉnh Quảng Ngãi"}, "children": []}),
        ]
    }

    #[test]
    fn fields_select_nested_objects_and_lists() {
        let f = Fields::parse("id,parent[id],children[id,nope]").unwrap();
        let got = f.project(&units()[1]);
        assert_eq!(
            got,
            json!({"id": "000.00.24.H51", "parent": {"id": "000.00.00.H51"}, "children": []})
        );
        let got = f.project(&units()[0]);
        assert_eq!(
            got,
            json!({"id": "000.00.00.H51", "parent": null, "children": [{"id": "000.00.24.H51"}]})
        );
        assert_eq!(Fields::parse("*").unwrap(), Fields::All);
        assert_eq!(Fields::parse(":all").unwrap(), Fields::All);
        assert!(Fields::parse("id,parent[id").is_err());
        assert!(Fields::parse("id]").is_err());
    }

    #[test]
    fn filters_page_and_project() {
        let q = ListQuery::parse(&pairs(&[
            ("filter", "level:eq:2"),
            ("filter", "displayName:ilike:binh"),
            ("fields", "id"),
        ]))
        .unwrap();
        let got = q.answer("organisationUnits", units());
        assert_eq!(
            got,
            json!({"pager": {"page": 1, "pageCount": 1, "total": 1, "pageSize": 50},
                   "organisationUnits": [{"id": "000.00.24.H51"}]})
        );
        let q = ListQuery::parse(&pairs(&[("pageSize", "2"), ("page", "1")])).unwrap();
        let got = q.answer("organisationUnits", units());
        assert_eq!(got["pager"]["pageCount"], 2);
        assert_eq!(got["pager"]["nextPage"], "page=2");
        assert_eq!(got["organisationUnits"].as_array().unwrap().len(), 2);
        assert_eq!(
            got["organisationUnits"][0],
            json!({"id": "000.00.00.H51", "displayName": "UBND tỉnh Quảng Ngãi"})
        );
        let q = ListQuery::parse(&pairs(&[
            ("paging", "false"),
            ("filter", "parent.id:in:[000.00.00.H51]"),
        ]))
        .unwrap();
        let got = q.answer("organisationUnits", units());
        assert!(got.get("pager").is_none());
        assert_eq!(got["organisationUnits"].as_array().unwrap().len(), 2);
        let q = ListQuery::parse(&pairs(&[
            ("rootJunction", "OR"),
            ("filter", "level:eq:1"),
            ("filter", "id:$like:000.00.25"),
        ]))
        .unwrap();
        assert_eq!(q.answer("x", units())["pager"]["total"], 2);
        let q = ListQuery::parse(&pairs(&[("filter", "parent:null")])).unwrap();
        assert_eq!(q.answer("x", units())["pager"]["total"], 1);
        let q = ListQuery::parse(&pairs(&[
            ("order", "level:desc,displayName:asc"),
            ("fields", "id"),
        ]))
        .unwrap();
        assert_eq!(
            q.answer("x", units())["x"],
            json!([{"id": "000.00.24.H51"}, {"id": "000.00.25.H51"}, {"id": "000.00.00.H51"}])
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let field = |raw: &[(&str, &str)]| {
            let e = ListQuery::parse(&pairs(raw)).unwrap_err();
            e.field_names()
        };
        assert_eq!(field(&[("filter", "name:sounds:like")]), ["filter"]);
        assert_eq!(field(&[("filter", "code:in:a,b")]), ["filter"]);
        assert_eq!(field(&[("pageSize", "0")]), ["pageSize"]);
        assert_eq!(field(&[("colour", "red")]), ["colour"]);
    }
}
