//! Normalized IR: namespaces, endpoints, path variants (most specific first), typed
//! parameters and the shared enums, built from the raw spec.
//!
//! All decisions about the shape of the generated API are made here, so that the renderers
//! only print. The rules:
//!
//! - **Paths.** Variants are ordered non-deprecated first, then by number of parts
//!   (descending), then spec order. A builder sends to the variant that uses the most of the
//!   parts set among those whose parts are all set (the first such in that order); when it
//!   does not use every part set, `send` fails instead of dropping one (`es_api`'s
//!   `EndpointSpec::select_path`). Parts that only occur in deprecated variants get no setter
//!   when a non-deprecated variant exists (`scroll_id` of `scroll`), the dynamic `call` still
//!   reaches them.
//! - **Required parts** are the parts present in every non-deprecated variant; they become
//!   arguments of the endpoint method, in the order of the shortest variant's template. The
//!   other parts are optional setters.
//! - **Parameters** are typed by the spec type (`boolean` → `bool`, `int`/`long` → `i64`,
//!   `number`/`double` → `f64`, `time` → `Time`, `date` → `Date`, `list` → `List`, `enum` →
//!   a generated enum, `list` with `options` → an iterator of a generated enum, union types →
//!   `Scalar`). A parameter named like a path part is dropped: the part setter carries it.
//!   The common parameters (`filter_path`, `human`, `pretty`, `error_trace`) are provided on
//!   every builder by hand-written code and skipped here.
//! - **Enums** are shared across endpoints by (parameter name, set of options). When one name
//!   has several option sets, the most used set gets the plain name and the others are
//!   prefixed with the PascalCase name of their first endpoint.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};

use super::naming::{module_ident, pascal, screaming, snake_ident};
use super::spec::{self, Stability};

/// Parameters every builder gets from hand-written code; never generated per endpoint.
pub(crate) const COMMON_PARAMS: &[&str] = &["error_trace", "filter_path", "human", "pretty"];

/// Builder method names taken by hand-written code (the `impl_*` macros of es-api).
const RESERVED_SETTERS: &[&str] = &[
    "body",
    "error_trace",
    "filter_path",
    "header",
    "human",
    "ignore_status",
    "into_future",
    "max_retries",
    "new",
    "opaque_id",
    "options",
    "pretty",
    "raw_body",
    "request_timeout",
    "send",
];

/// Methods of the hand-written `Client` that generated accessors must not shadow.
const RESERVED_CLIENT_METHODS: &[&str] = &[
    "builder",
    "call",
    "call_with_options",
    "clone",
    "from_url",
    "new",
    "options",
    "transport",
];

/// Type names of hand-written parameter types; generated enums must not take them.
const RESERVED_TYPE_NAMES: &[(&str, &str)] = &[
    ("Bytes", "ByteUnit"),
    ("Date", "DateValue"),
    ("List", "ListValue"),
    ("Method", "HttpMethod"),
    ("Scalar", "ScalarValue"),
    ("Time", "TimeUnit"),
];

/// Std prelude names a builder type must not take (a glob import would shadow them):
/// such builders get a `Request` suffix (`indices.clone` → `CloneRequest`).
const PRELUDE_NAMES: &[&str] = &[
    "Box",
    "Clone",
    "Copy",
    "Default",
    "Drop",
    "Eq",
    "Err",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "Into",
    "Iterator",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Result",
    "Send",
    "Sized",
    "Some",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "Unpin",
    "Vec",
];

/// List parameters whose `options` are only suggestions (cat column names and sort keys such
/// as `index:desc`): they stay free-form lists.
const FREE_FORM_LISTS: &[&str] = &["h", "s"];

/// The whole API.
#[derive(Debug)]
pub(crate) struct Api {
    /// Root namespace first, then by name.
    pub(crate) namespaces: Vec<Namespace>,
    /// Sorted by type name.
    pub(crate) enums: Vec<EnumDef>,
}

/// A namespace (`indices`) or the root endpoints.
#[derive(Debug)]
pub(crate) struct Namespace {
    /// `None` for the root endpoints.
    pub(crate) spec_name: Option<String>,
    /// Module (and accessor) identifier: `indices`, `root`.
    pub(crate) module: String,
    /// Handle type name: `Indices` (`InferenceNamespace` when an endpoint builder of the
    /// namespace has the plain name).
    pub(crate) type_name: String,
    /// The strongest gate all of its endpoints share (a namespace with a stable endpoint is
    /// ungated).
    pub(crate) gate: Gate,
    /// Sorted by endpoint name.
    pub(crate) endpoints: Vec<Endpoint>,
}

/// Which cargo feature an item needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Gate {
    None,
    Beta,
    Experimental,
}

impl Gate {
    /// The cargo feature, if any.
    pub(crate) fn feature(self) -> Option<&'static str> {
        match self {
            Gate::None => None,
            Gate::Beta => Some("beta-apis"),
            Gate::Experimental => Some("experimental-apis"),
        }
    }
}

/// One endpoint.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// Spec name: `indices.create`.
    pub(crate) name: String,
    /// Method identifier on the namespace handle: `create`, `type_`.
    pub(crate) method: String,
    /// Module (file) identifier.
    pub(crate) module: String,
    /// Builder type name: `Create`.
    pub(crate) type_name: String,
    /// Name of its `EndpointSpec` static: `CREATE`.
    pub(crate) static_name: String,
    pub(crate) description: Option<String>,
    pub(crate) doc_url: Option<String>,
    pub(crate) stability: Stability,
    pub(crate) gate: Gate,
    /// `visibility: private`: hidden from the docs.
    pub(crate) hidden: bool,
    pub(crate) feature_flag: Option<String>,
    pub(crate) deprecated: Option<Deprecated>,
    /// All variants, in selection order (see the module docs).
    pub(crate) paths: Vec<PathVariant>,
    pub(crate) required: Vec<Part>,
    pub(crate) optional: Vec<Part>,
    /// Query parameters the spec marks `required`, in the spec's order: arguments of the
    /// endpoint method after the required parts.
    pub(crate) required_params: Vec<Param>,
    /// The other query parameters (setters), sorted by name.
    pub(crate) params: Vec<Param>,
    pub(crate) body: Body,
    /// Every variant is `HEAD`: the builder answers `bool`.
    pub(crate) head: bool,
}

/// One URL variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathVariant {
    pub(crate) template: String,
    /// In template order.
    pub(crate) parts: Vec<String>,
    pub(crate) methods: Vec<String>,
    pub(crate) deprecated: bool,
}

/// A path part.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) ident: String,
    pub(crate) ty: ValueType,
    pub(crate) description: Option<String>,
}

/// A query parameter.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) ident: String,
    pub(crate) ty: ValueType,
    pub(crate) description: Option<String>,
    pub(crate) default: Option<String>,
    pub(crate) deprecated: Option<Deprecated>,
    pub(crate) hidden: bool,
}

/// Deprecation notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Deprecated {
    pub(crate) since: Option<String>,
    pub(crate) note: Option<String>,
}

/// The Rust-side type of a part or parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ValueType {
    Bool,
    Integer,
    Number,
    Time,
    Date,
    Str,
    List,
    /// `boolean|long`, `number|string`.
    Scalar,
    /// `wait_for_active_shards`: a number of shard copies or `all` (a string in the spec).
    ActiveShards,
    /// A generated enum, by type name.
    Enum(String),
    /// A list of a generated enum.
    EnumList(String),
}

/// The body an endpoint takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    None,
    Json {
        required: bool,
        description: Option<String>,
    },
    NdJson {
        required: bool,
        description: Option<String>,
    },
}

/// A generated enum for a spec `enum` (or `list` with `options`).
#[derive(Debug, Clone)]
pub(crate) struct EnumDef {
    pub(crate) name: String,
    /// The spec parameter name it comes from.
    pub(crate) param: String,
    /// `(variant ident, wire value)`, in the spec's order.
    pub(crate) variants: Vec<(String, String)>,
    /// Has `true` and `false` options: gets `From<bool>`.
    pub(crate) from_bool: bool,
    /// Endpoint names using it (sorted).
    pub(crate) used_by: Vec<String>,
}

/// Builds the IR from the parsed spec.
pub(crate) fn build(spec: &BTreeMap<String, spec::Endpoint>) -> Result<Api> {
    let enums = collect_enums(spec)?;
    let mut by_ns: BTreeMap<Option<String>, Vec<Endpoint>> = BTreeMap::new();
    for (name, ep) in spec {
        let (ns, _) = split_name(name)?;
        by_ns
            .entry(ns.map(str::to_owned))
            .or_default()
            .push(endpoint(name, ep, &enums)?);
    }
    let mut namespaces = Vec::new();
    for (spec_name, endpoints) in by_ns {
        let (module, type_name) = match &spec_name {
            None => ("root".to_owned(), "Root".to_owned()),
            Some(ns) => (module_ident(ns), pascal(ns)),
        };
        // `inference.inference`: the builder keeps its name, the handle gets a suffix.
        let type_name = if endpoints.iter().any(|e| e.type_name == type_name) {
            format!("{type_name}Namespace")
        } else {
            type_name
        };
        let gate = endpoints.iter().map(|e| e.gate).min().unwrap_or(Gate::None);
        namespaces.push(Namespace {
            spec_name,
            module,
            type_name,
            gate,
            endpoints,
        });
    }
    validate(&namespaces)?;
    let mut enums: Vec<EnumDef> = enums.into_values().collect();
    enums.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Api { namespaces, enums })
}

/// Splits `indices.create` into (`Some("indices")`, `"create"`), `search` into (`None`, `"search"`).
pub(crate) fn split_name(name: &str) -> Result<(Option<&str>, &str)> {
    match name.split_once('.') {
        None => Ok((None, name)),
        Some((ns, ep)) if !ns.is_empty() && !ep.is_empty() && !ep.contains('.') => {
            Ok((Some(ns), ep))
        }
        Some(_) => bail!("unsupported endpoint name {name:?} (expected `name` or `ns.name`)"),
    }
}

/// Key of an enum: the parameter name and its sorted options.
type EnumKey = (String, Vec<String>);

fn enum_key(name: &str, options: &[String]) -> EnumKey {
    let mut sorted = options.to_vec();
    sorted.sort();
    sorted.dedup();
    (name.to_owned(), sorted)
}

fn param_is_enum(name: &str, p: &spec::Param) -> bool {
    !p.options.is_empty()
        && (p.ty == "enum" || (p.ty == "list" && !FREE_FORM_LISTS.contains(&name)))
}

fn part_is_enum(p: &spec::Part) -> bool {
    p.ty == "enum" && !p.options.is_empty()
}

/// Finds every enum, shares equal ones and names them.
fn collect_enums(spec: &BTreeMap<String, spec::Endpoint>) -> Result<BTreeMap<EnumKey, EnumDef>> {
    // key -> (options in first-seen order, endpoints)
    let mut found: BTreeMap<EnumKey, (Vec<String>, BTreeSet<String>)> = BTreeMap::new();
    for (ep_name, ep) in spec {
        let mut add = |name: &str, options: &[String]| {
            let entry = found
                .entry(enum_key(name, options))
                .or_insert_with(|| (options.to_vec(), BTreeSet::new()));
            entry.1.insert(ep_name.clone());
        };
        for (name, p) in ep.params.iter() {
            if param_is_enum(name, p) {
                add(name, &p.options);
            }
        }
        for path in &ep.url.paths {
            for (name, p) in &path.parts {
                if part_is_enum(p) {
                    add(name, &p.options);
                }
            }
        }
    }
    // Group by parameter name; most used option set first, then by first user.
    type Found = (EnumKey, Vec<String>, BTreeSet<String>);
    let mut by_name: BTreeMap<String, Vec<Found>> = BTreeMap::new();
    for (key, (options, users)) in found {
        by_name
            .entry(key.0.clone())
            .or_default()
            .push((key, options, users));
    }
    let mut taken = BTreeSet::new();
    let mut out = BTreeMap::new();
    for (param, mut sets) in by_name {
        sets.sort_by(|a, b| {
            b.2.len()
                .cmp(&a.2.len())
                .then_with(|| a.2.first().cmp(&b.2.first()))
        });
        for (i, (key, options, users)) in sets.into_iter().enumerate() {
            let base = pascal(&param);
            let base = RESERVED_TYPE_NAMES
                .iter()
                .find(|(r, _)| *r == base)
                .map_or(base.clone(), |(_, renamed)| (*renamed).to_owned());
            let first = users.first().expect("an enum has a user");
            let mut name = if i == 0 {
                base.clone()
            } else {
                let (_, last) = split_name(first)?;
                format!("{}{}", pascal(last), base)
            };
            if taken.contains(&name) {
                name = format!("{}{}", pascal(first), base);
            }
            if !taken.insert(name.clone()) {
                bail!("cannot find a unique name for the enum of `{param}` used by {first}");
            }
            let mut variants = Vec::new();
            let mut idents = BTreeSet::new();
            for option in &options {
                let ident = pascal(option);
                if !idents.insert(ident.clone()) {
                    bail!("enum {name}: options of `{param}` collide as variant {ident}");
                }
                variants.push((ident, option.clone()));
            }
            let from_bool =
                options.iter().any(|o| o == "true") && options.iter().any(|o| o == "false");
            out.insert(
                key,
                EnumDef {
                    name,
                    param: param.clone(),
                    variants,
                    from_bool,
                    used_by: users.into_iter().collect(),
                },
            );
        }
    }
    Ok(out)
}

fn deprecated(d: &Option<spec::Deprecation>) -> Option<Deprecated> {
    d.as_ref().map(|d| Deprecated {
        since: d.version.clone(),
        note: d.description.clone(),
    })
}

fn template_parts(template: &str) -> Result<Vec<String>> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            bail!("unclosed `{{` in path {template}");
        };
        parts.push(rest[start + 1..start + len].to_owned());
        rest = &rest[start + len + 1..];
    }
    Ok(parts)
}

/// Orders variants: non-deprecated first, then most parts first, then spec order.
pub(crate) fn order_paths(mut paths: Vec<PathVariant>) -> Vec<PathVariant> {
    // A stable sort keeps the spec order among equals.
    paths.sort_by(|a, b| {
        a.deprecated
            .cmp(&b.deprecated)
            .then(b.parts.len().cmp(&a.parts.len()))
    });
    paths
}

/// Picks the variant a builder uses: among those whose parts are all set, the one using the
/// most of them (the first such in [`order_paths`] order), and only if it uses every part
/// set. Mirrors `es_api::endpoint::EndpointSpec::select_path`; kept here to unit-test the
/// ordering rule.
#[cfg(test)]
pub(crate) fn select_path<'a>(paths: &'a [PathVariant], set: &[&str]) -> Option<&'a PathVariant> {
    let mut best: Option<&PathVariant> = None;
    for p in paths {
        let fits = p.parts.iter().all(|part| set.contains(&part.as_str()));
        if fits && best.is_none_or(|b| p.parts.len() > b.parts.len()) {
            best = Some(p);
        }
    }
    best.filter(|b| set.iter().all(|s| b.parts.iter().any(|p| p == s)))
}

/// For each optional part, the other optional parts every variant taking it also takes
/// (`cluster.state`: `index` needs `metric`): without them `send` fails.
pub(crate) fn part_needs(paths: &[PathVariant], required: &[Part], part: &str) -> Vec<String> {
    let live: Vec<&PathVariant> = {
        let live: Vec<_> = paths.iter().filter(|p| !p.deprecated).collect();
        if live.is_empty() {
            paths.iter().collect()
        } else {
            live
        }
    };
    let mut taking = live.iter().filter(|p| p.parts.iter().any(|x| x == part));
    let Some(first) = taking.next() else {
        return Vec::new();
    };
    let mut needs: Vec<String> = first
        .parts
        .iter()
        .filter(|x| *x != part && !required.iter().any(|r| &r.name == *x))
        .cloned()
        .collect();
    for p in taking {
        needs.retain(|n| p.parts.contains(n));
    }
    needs
}

fn endpoint(
    name: &str,
    ep: &spec::Endpoint,
    enums: &BTreeMap<EnumKey, EnumDef>,
) -> Result<Endpoint> {
    let (_, last) = split_name(name)?;
    let mut paths = Vec::new();
    let mut part_specs: BTreeMap<String, &spec::Part> = BTreeMap::new();
    for p in &ep.url.paths {
        let parts = template_parts(&p.path)?;
        for part in &parts {
            match p.parts.get(part) {
                Some(spec) => {
                    part_specs.entry(part.clone()).or_insert(spec);
                }
                None => bail!("{name}: path {} uses undeclared part {part}", p.path),
            }
        }
        if p.methods.is_empty() {
            bail!("{name}: path {} has no methods", p.path);
        }
        paths.push(PathVariant {
            template: p.path.clone(),
            parts,
            methods: p.methods.clone(),
            deprecated: p.deprecated.is_some(),
        });
    }
    let paths = order_paths(paths);
    let live: Vec<&PathVariant> = {
        let live: Vec<_> = paths.iter().filter(|p| !p.deprecated).collect();
        if live.is_empty() {
            paths.iter().collect()
        } else {
            live
        }
    };
    let required_names: Vec<String> = {
        let shortest = live
            .iter()
            .min_by_key(|p| p.parts.len())
            .expect("an endpoint has a path");
        shortest
            .parts
            .iter()
            .filter(|part| live.iter().all(|p| p.parts.contains(part)))
            .cloned()
            .collect()
    };
    if !live.iter().any(|p| p.parts.len() == required_names.len()) {
        bail!("{name}: no path uses only the required parts {required_names:?}");
    }
    let mut optional_names: Vec<String> = Vec::new();
    for p in live.iter().rev() {
        for part in &p.parts {
            if !required_names.contains(part) && !optional_names.contains(part) {
                optional_names.push(part.clone());
            }
        }
    }
    let make_part = |part: &str| -> Result<Part> {
        let spec = part_specs[part];
        let ty = match spec.ty.as_str() {
            "string" => ValueType::Str,
            "list" => ValueType::List,
            "int" | "long" => ValueType::Integer,
            "enum" if part_is_enum(spec) => {
                ValueType::Enum(enums[&enum_key(part, &spec.options)].name.clone())
            }
            other => bail!("{name}: part {part} has unsupported type {other}"),
        };
        Ok(Part {
            name: part.to_owned(),
            ident: snake_ident(part),
            ty,
            description: spec.description.clone(),
        })
    };
    let required = required_names
        .iter()
        .map(|p| make_part(p))
        .collect::<Result<Vec<_>>>()?;
    let optional = optional_names
        .iter()
        .map(|p| make_part(p))
        .collect::<Result<Vec<_>>>()?;

    let mut params = Vec::new();
    let mut required_params = Vec::new();
    for (pname, p) in ep.params.iter() {
        if COMMON_PARAMS.contains(&pname.as_str())
            || required_names.contains(pname)
            || optional_names.contains(pname)
        {
            continue;
        }
        let ty = if param_is_enum(pname, p) {
            let enum_name = enums[&enum_key(pname, &p.options)].name.clone();
            if p.ty == "list" {
                ValueType::EnumList(enum_name)
            } else {
                ValueType::Enum(enum_name)
            }
        } else if pname == "wait_for_active_shards" && p.ty == "string" {
            ValueType::ActiveShards
        } else {
            match p.ty.as_str() {
                "boolean" => ValueType::Bool,
                "int" | "long" => ValueType::Integer,
                "number" | "double" => ValueType::Number,
                "time" => ValueType::Time,
                "date" => ValueType::Date,
                "string" => ValueType::Str,
                "list" => ValueType::List,
                "boolean|long" | "number|string" => ValueType::Scalar,
                other => bail!("{name}: param {pname} has unsupported type {other}"),
            }
        };
        let ident = snake_ident(pname);
        if RESERVED_SETTERS.contains(&ident.as_str()) {
            bail!("{name}: param {pname} collides with a hand-written builder method");
        }
        let target = if p.required {
            &mut required_params
        } else {
            &mut params
        };
        target.push(Param {
            name: pname.clone(),
            ident,
            ty,
            description: p.description.clone(),
            default: p.default.as_ref().map(|d| match d {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            deprecated: deprecated(&p.deprecated),
            hidden: p.visibility.as_deref().is_some_and(|v| v != "public"),
        });
    }
    params.sort_by(|a, b| a.name.cmp(&b.name));
    // The constructor's own names (`new(client, ..) { let mut inner = .. }`).
    for ident in required
        .iter()
        .map(|p| &p.ident)
        .chain(required_params.iter().map(|p| &p.ident))
    {
        if ident == "client" || ident == "inner" {
            bail!("{name}: argument `{ident}` collides with a name of the generated constructor");
        }
    }
    for param in &required_params {
        if required.iter().any(|part| part.ident == param.ident) {
            bail!(
                "{name}: required param {} collides with a path part argument",
                param.name
            );
        }
    }
    for part in required.iter().chain(&optional) {
        if RESERVED_SETTERS.contains(&part.ident.as_str()) {
            bail!(
                "{name}: part {} collides with a hand-written builder method",
                part.name
            );
        }
    }

    let ndjson = ep
        .headers
        .content_type
        .first()
        .is_some_and(|c| c.contains("x-ndjson"))
        || ep
            .body
            .as_ref()
            .is_some_and(|b| b.serialize.as_deref() == Some("bulk"));
    let body = match &ep.body {
        None => Body::None,
        Some(b) if ndjson => Body::NdJson {
            required: b.required,
            description: b.description.clone(),
        },
        Some(b) => Body::Json {
            required: b.required,
            description: b.description.clone(),
        },
    };
    let head = paths.iter().all(|p| p.methods.iter().all(|m| m == "HEAD"));
    let feature_flagged = ep.visibility == "feature_flag";
    let gate = match ep.stability {
        _ if feature_flagged => Gate::Experimental,
        Stability::Stable => Gate::None,
        Stability::Beta => Gate::Beta,
        Stability::Experimental => Gate::Experimental,
    };
    Ok(Endpoint {
        name: name.to_owned(),
        method: snake_ident(last),
        module: snake_ident(last),
        type_name: {
            let name = pascal(last);
            if PRELUDE_NAMES.contains(&name.as_str()) {
                format!("{name}Request")
            } else {
                name
            }
        },
        static_name: screaming(last),
        description: ep.documentation.description.clone(),
        doc_url: ep.documentation.url.clone(),
        stability: ep.stability,
        gate,
        hidden: ep.visibility == "private",
        feature_flag: ep.feature_flag.clone(),
        deprecated: deprecated(&ep.deprecated),
        paths,
        required,
        optional,
        required_params,
        params,
        body,
        head,
    })
}

fn validate(namespaces: &[Namespace]) -> Result<()> {
    let mut client_methods: BTreeSet<&str> = RESERVED_CLIENT_METHODS.iter().copied().collect();
    for ns in namespaces {
        if ns.spec_name.is_some() && !client_methods.insert(&ns.module) {
            bail!(
                "namespace accessor `{}` collides with another Client method",
                ns.module
            );
        }
        let mut types = BTreeSet::from([ns.type_name.as_str()]);
        for ep in &ns.endpoints {
            if !types.insert(&ep.type_name) {
                bail!(
                    "{}: builder type {} collides in module {}",
                    ep.name,
                    ep.type_name,
                    ns.module
                );
            }
        }
    }
    if let Some(root) = namespaces.iter().find(|n| n.spec_name.is_none()) {
        for ep in &root.endpoints {
            if !client_methods.insert(&ep.method) {
                bail!(
                    "root endpoint `{}` collides with a namespace accessor",
                    ep.name
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_of(json: &str) -> BTreeMap<String, spec::Endpoint> {
        spec::parse_file(json).unwrap()
    }

    fn variant(template: &str, deprecated: bool) -> PathVariant {
        PathVariant {
            template: template.to_owned(),
            parts: template_parts(template).unwrap(),
            methods: vec!["GET".to_owned()],
            deprecated,
        }
    }

    const INDEX_DOC: &str = r#"{"index": {
        "documentation": {"url": "https://x", "description": "Index a document"},
        "stability": "stable", "visibility": "public",
        "headers": {"content_type": ["application/json"]},
        "url": {"paths": [
            {"path": "/{index}/_doc/{id}", "methods": ["PUT", "POST"],
             "parts": {"index": {"type": "string", "description": "i"}, "id": {"type": "string", "description": "d"}}},
            {"path": "/{index}/_doc", "methods": ["POST"],
             "parts": {"index": {"type": "string", "description": "i"}}}]},
        "params": {
            "refresh": {"type": "enum", "options": ["true", "false", "wait_for"], "description": "r"},
            "type": {"type": "string", "description": "a keyword"},
            "timeout": {"type": "time", "default": "1m", "description": "t"},
            "version": {"type": "long", "description": "v"},
            "human": {"type": "boolean", "description": "common"},
            "expand_wildcards": {"type": "list", "options": ["open", "closed"], "description": "e"},
            "h": {"type": "list", "options": ["a", "b"], "description": "columns"},
            "slices": {"type": "number|string", "description": "s"},
            "index": {"type": "string", "description": "same as the part"}},
        "body": {"description": "The document", "required": true}}}"#;

    #[test]
    fn required_and_optional_parts() {
        let api = build(&spec_of(INDEX_DOC)).unwrap();
        let ep = &api.namespaces[0].endpoints[0];
        assert_eq!(api.namespaces[0].module, "root");
        assert_eq!(
            ep.required.iter().map(|p| &p.name).collect::<Vec<_>>(),
            ["index"]
        );
        assert_eq!(
            ep.optional.iter().map(|p| &p.name).collect::<Vec<_>>(),
            ["id"]
        );
        assert_eq!(ep.paths[0].template, "/{index}/_doc/{id}");
        assert_eq!(ep.paths[1].template, "/{index}/_doc");
        assert_eq!(
            ep.body,
            Body::Json {
                required: true,
                description: Some("The document".into())
            }
        );
        assert!(!ep.head);
    }

    #[test]
    fn param_typing() {
        let api = build(&spec_of(INDEX_DOC)).unwrap();
        let ep = &api.namespaces[0].endpoints[0];
        let ty = |n: &str| ep.params.iter().find(|p| p.name == n).map(|p| p.ty.clone());
        assert_eq!(ty("refresh"), Some(ValueType::Enum("Refresh".into())));
        assert_eq!(ty("timeout"), Some(ValueType::Time));
        assert_eq!(ty("version"), Some(ValueType::Integer));
        assert_eq!(
            ty("expand_wildcards"),
            Some(ValueType::EnumList("ExpandWildcards".into()))
        );
        assert_eq!(ty("h"), Some(ValueType::List));
        assert_eq!(ty("slices"), Some(ValueType::Scalar));
        // Common params come from hand-written code; a param named like a part is dropped.
        assert_eq!(ty("human"), None);
        assert_eq!(ty("index"), None);
        let keyword = ep.params.iter().find(|p| p.name == "type").unwrap();
        assert_eq!(keyword.ident, "type_");
        let refresh = api.enums.iter().find(|e| e.name == "Refresh").unwrap();
        assert!(refresh.from_bool);
        assert_eq!(
            refresh.variants[2],
            ("WaitFor".to_owned(), "wait_for".to_owned())
        );
        assert_eq!(
            ep.params
                .iter()
                .find(|p| p.name == "timeout")
                .unwrap()
                .default
                .as_deref(),
            Some("1m")
        );
    }

    #[test]
    fn path_selection_takes_the_variant_using_every_part_set() {
        let paths = order_paths(vec![
            variant("/_search", false),
            variant("/_search/scroll/{scroll_id}", true),
            variant("/{index}/_search", false),
            variant("/{index}/_doc/{id}", false),
        ]);
        let templates: Vec<_> = paths.iter().map(|p| p.template.as_str()).collect();
        assert_eq!(
            templates,
            [
                "/{index}/_doc/{id}",
                "/{index}/_search",
                "/_search",
                "/_search/scroll/{scroll_id}"
            ]
        );
        assert_eq!(select_path(&paths, &[]).unwrap().template, "/_search");
        assert_eq!(
            select_path(&paths, &["index"]).unwrap().template,
            "/{index}/_search"
        );
        assert_eq!(
            select_path(&paths, &["id", "index"]).unwrap().template,
            "/{index}/_doc/{id}"
        );
        assert_eq!(
            select_path(&paths, &["scroll_id"]).unwrap().template,
            "/_search/scroll/{scroll_id}",
            "a deprecated variant wins when only it uses every part set"
        );
        assert!(
            select_path(&paths, &["id"]).is_none(),
            "no variant uses `id` alone: an error, not `/_search`"
        );
    }

    #[test]
    fn required_params_are_kept_apart_in_spec_order() {
        let api = build(&spec_of(
            r#"{"text_structure.find_field_structure": {"documentation": {}, "stability": "stable",
            "visibility": "public",
            "url": {"paths": [{"path": "/_text_structure/find_field_structure", "methods": ["GET"]}]},
            "params": {"index": {"type": "string", "description": "i", "required": true},
                       "documents_to_sample": {"type": "int", "description": "n"},
                       "field": {"type": "string", "description": "f", "required": true}}}}"#,
        ))
        .unwrap();
        let ep = &api.namespaces[0].endpoints[0];
        let names = |ps: &[Param]| ps.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&ep.required_params), ["index", "field"]);
        assert_eq!(names(&ep.params), ["documents_to_sample"]);
    }

    #[test]
    fn parts_that_need_another_part() {
        let api = build(&spec_of(
            r#"{"cluster.state": {"documentation": {}, "stability": "stable", "visibility": "public",
            "url": {"paths": [
              {"path": "/_cluster/state", "methods": ["GET"]},
              {"path": "/_cluster/state/{metric}", "methods": ["GET"],
               "parts": {"metric": {"type": "list", "description": "m"}}},
              {"path": "/_cluster/state/{metric}/{index}", "methods": ["GET"],
               "parts": {"metric": {"type": "list", "description": "m"},
                         "index": {"type": "list", "description": "i"}}}]}}}"#,
        ))
        .unwrap();
        let ep = &api.namespaces[0].endpoints[0];
        assert_eq!(part_needs(&ep.paths, &ep.required, "index"), ["metric"]);
        assert!(part_needs(&ep.paths, &ep.required, "metric").is_empty());
        assert_eq!(select_path(&ep.paths, &["index"]), None);
        let api = build(&spec_of(INDEX_DOC)).unwrap();
        let ep = &api.namespaces[0].endpoints[0];
        assert!(part_needs(&ep.paths, &ep.required, "id").is_empty());
    }

    #[test]
    fn parts_only_in_deprecated_paths_get_no_setter() {
        let api = build(&spec_of(
            r#"{"scroll": {"documentation": {}, "stability": "stable", "visibility": "public",
            "url": {"paths": [
              {"path": "/_search/scroll", "methods": ["GET", "POST"]},
              {"path": "/_search/scroll/{scroll_id}", "methods": ["GET", "POST"],
               "parts": {"scroll_id": {"type": "string", "description": "id"}},
               "deprecated": {"version": "7.0.0", "description": "use the body"}}]},
            "params": {"scroll_id": {"type": "string", "description": "the id"}}}}"#,
        ))
        .unwrap();
        let ep = &api.namespaces[0].endpoints[0];
        assert!(ep.optional.is_empty());
        assert_eq!(ep.params[0].name, "scroll_id");
        assert_eq!(
            ep.paths.len(),
            2,
            "the deprecated variant stays for the dynamic call"
        );
    }

    #[test]
    fn enums_with_different_options_get_distinct_names() {
        let mk = |name: &str, options: &str| {
            format!(
                r#""{name}": {{"documentation": {{}}, "stability": "stable", "visibility": "public",
                "url": {{"paths": [{{"path": "/_x", "methods": ["GET"]}}]}},
                "params": {{"level": {{"type": "enum", "options": {options}, "description": "l"}},
                           "time": {{"type": "enum", "options": ["s", "ms"], "description": "unit"}}}}}}"#
            )
        };
        let json = format!(
            "{{{}, {}, {}}}",
            mk("cluster.health", r#"["cluster", "indices"]"#),
            mk("indices.stats", r#"["indices", "cluster"]"#),
            mk("nodes.stats", r#"["node", "indices"]"#)
        );
        let api = build(&spec_of(&json)).unwrap();
        let names: Vec<_> = api.enums.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Level", "StatsLevel", "TimeUnit"]);
        assert_eq!(api.namespaces.len(), 3);
        assert_eq!(api.namespaces[0].type_name, "Cluster");
    }

    #[test]
    fn head_endpoints_and_gates() {
        let api = build(&spec_of(
            r#"{"indices.exists": {"documentation": {}, "stability": "beta", "visibility": "public",
            "url": {"paths": [{"path": "/{index}", "methods": ["HEAD"],
              "parts": {"index": {"type": "list", "description": "i"}}}]}}}"#,
        ))
        .unwrap();
        let ns = &api.namespaces[0];
        assert!(ns.endpoints[0].head);
        assert_eq!(ns.endpoints[0].gate, Gate::Beta);
        assert_eq!(ns.gate, Gate::Beta);
        assert_eq!(ns.endpoints[0].required[0].ty, ValueType::List);
    }
}
