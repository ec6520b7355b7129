//! `es-api/src/generated/types/`: serde types generated from the compiled specification
//! schema (`../shared/elasticsearch-specification/schema.json`).
//!
//! Input set: every type reachable from the query DSL (`QueryContainer`), aggregations
//! (`AggregationContainer`) and their results (`Aggregate`), mappings (`TypeMapping`,
//! `Property`), the analysis components, and the search request body and response,
//! following properties, parents, generics and behaviors.
//!
//! How the spec's shapes become Rust:
//! - namespaces become modules: the last segment that is not `_types` (`_types.query_dsl` →
//!   `query_dsl`, `_global.search._types` → `search`, `_types` → `common`);
//! - interfaces become structs, parents' properties copied in (generic arguments
//!   substituted); optional properties are `Option`s skipped when empty; a by-value cycle is
//!   broken with a `Box`;
//! - containers (`variants: container`) become enums with one variant per property (and an
//!   `Unknown` variant holding the raw JSON when `nonExhaustive`); container properties such as
//!   `aggregations` / `meta` sit beside the variant in a struct;
//! - a shortcut property (`{"match": {"title": "rust"}}`) and `AdditionalProperty` /
//!   `AdditionalProperties` behaviors get hand-rolled `Deserialize` / `Serialize`;
//! - `T | T[]` is `OneOrMany<T>`, a single-key dictionary `SingleKey<K, V>`, other unions
//!   untagged enums; internally tagged unions (`Property` by `type`, with its default tag)
//!   and externally tagged ones (`Aggregate` under `typed_keys`) get their own impls, with an
//!   unknown tag kept as raw JSON when the union is `nonExhaustive`;
//! - enums are Rust enums (aliases accepted; an open enum keeps other strings);
//! - descriptions become doc comments and deprecations `#[deprecated]`.
//!
//! Output is deterministic: types are emitted sorted by name within their module.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::naming::{doc_text, is_keyword, pascal, string_lit};

/// A type's name in the spec: (namespace, name).
type Name = (String, String);

fn name_of(v: &Value) -> Name {
    (
        v["namespace"].as_str().unwrap_or_default().to_string(),
        v["name"].as_str().unwrap_or_default().to_string(),
    )
}

/// The roots of the generated set.
const ROOTS: &[(&str, &str)] = &[
    ("_types.query_dsl", "QueryContainer"),
    ("_types.aggregations", "AggregationContainer"),
    ("_types.aggregations", "Aggregate"),
    ("_types.mapping", "TypeMapping"),
    ("_types.mapping", "Property"),
    ("_types.analysis", "Analyzer"),
    ("_types.analysis", "Tokenizer"),
    ("_types.analysis", "TokenFilter"),
    ("_types.analysis", "CharFilter"),
    ("_types.analysis", "Normalizer"),
    ("indices._types", "IndexSettingsAnalysis"),
    ("_global.search._types", "SearchRequestBody"),
    ("_global.search", "Response"),
];

/// Rust integer types.
const INTS: &[&str] = &["i8", "i16", "i32", "i64", "u32", "u64"];

/// The kinds of JSON value, as a union's variants are told apart by them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum JsonKind {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Array,
    Object,
}

impl JsonKind {
    fn describe(self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Bool => "a boolean",
            JsonKind::Int => "an integer",
            JsonKind::Float => "a number",
            JsonKind::Str => "a string",
            JsonKind::Array => "an array",
            JsonKind::Object => "an object",
        }
    }
}

/// Numeric aliases of `_types` and the Rust type each one is.
const NUMBERS: &[(&str, &str)] = &[
    ("byte", "i8"),
    ("short", "i16"),
    ("integer", "i32"),
    ("long", "i64"),
    ("uint", "u32"),
    ("ulong", "u64"),
    ("float", "f64"),
    ("double", "f64"),
];

/// The generated files (path relative to `es-api/src/generated/` → unformatted text).
pub(crate) fn render(schema_path: &Path) -> Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(schema_path)
        .with_context(|| format!("reading {}", schema_path.display()))?;
    let schema: Value = serde_json::from_str(&text).context("parsing schema.json")?;
    let mut types = HashMap::new();
    for t in schema["types"]
        .as_array()
        .context("schema.json has no types")?
    {
        types.insert(name_of(&t["name"]), t.clone());
    }
    let generator = Gen::new(types)?;
    generator.render()
}

/// A property with the generic environment it is read in and the type that declares it.
type Prop = (Value, HashMap<String, String>, String);

/// One field of a struct, resolved.
#[derive(Debug, Clone)]
struct Field {
    json: String,
    ident: String,
    aliases: Vec<String>,
    ty: String,
    required: bool,
    doc: Option<String>,
    deprecated: Option<String>,
    /// Named type this field holds by value (for cycle breaking).
    by_value: Vec<Name>,
    /// The Rust type with plain aliases resolved (see [`Gen::canon`]).
    canon: String,
}

/// The behavior of an interface: extra keys beside the named properties.
#[derive(Debug, Clone)]
enum Extra {
    /// `AdditionalProperty`: exactly one field-name key, kept as two fields.
    One {
        key_ident: String,
        key_ty: String,
        value_ident: String,
        value_ty: String,
    },
    /// `AdditionalProperties`: any number of extra keys, kept as a map.
    Many {
        ident: String,
        value_ty: String,
        /// The value is an externally tagged union: keys are `tag#name`.
        tagged: bool,
    },
}

struct Gen {
    types: HashMap<Name, Value>,
    /// Types to generate (interfaces, enums, aliases that are not inlined).
    set: BTreeSet<Name>,
    /// Rust type names (unique across the spec set) per spec name.
    rust_names: HashMap<Name, String>,
    /// Module per spec name.
    modules: HashMap<Name, String>,
}

/// Rendering context: the module being written and the generic parameters in scope
/// (spec name → Rust type).
struct Ctx<'a> {
    module: &'a str,
    generics: &'a HashMap<String, String>,
    /// Name prefix for inline unions.
    owner: &'a str,
}

impl Gen {
    fn new(types: HashMap<Name, Value>) -> Result<Self> {
        let mut g = Gen {
            types,
            set: BTreeSet::new(),
            rust_names: HashMap::new(),
            modules: HashMap::new(),
        };
        g.collect()?;
        Ok(g)
    }

    fn get(&self, n: &Name) -> Option<&Value> {
        self.types.get(n)
    }

    /// The module for a namespace.
    fn module_for(ns: &str) -> String {
        let segs: Vec<&str> = ns
            .split('.')
            .filter(|s| *s != "_types" && *s != "_global" && *s != "_spec_utils")
            .collect();
        match segs.last() {
            None => "common".to_string(),
            Some(s) => super::naming::snake_ident(s.trim_start_matches('_')),
        }
    }

    /// Walks the closure of the roots.
    fn collect(&mut self) -> Result<()> {
        let mut stack: Vec<Name> = ROOTS
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        for n in &stack {
            if !self.types.contains_key(n) {
                bail!("schema.json has no root type {}::{}", n.0, n.1);
            }
        }
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            let Some(t) = self.types.get(&n).cloned() else {
                continue; // builtins and generic parameters
            };
            let mut refs = Vec::new();
            match t["kind"].as_str() {
                Some("interface") => {
                    for p in t["properties"].as_array().into_iter().flatten() {
                        value_refs(&p["type"], &mut refs);
                    }
                    if let Some(i) = t.get("inherits") {
                        refs.push(name_of(&i["type"]));
                        for g in i["generics"].as_array().into_iter().flatten() {
                            value_refs(g, &mut refs);
                        }
                    }
                    for b in t["behaviors"].as_array().into_iter().flatten() {
                        for g in b["generics"].as_array().into_iter().flatten() {
                            value_refs(g, &mut refs);
                        }
                    }
                }
                Some("request") => {
                    for p in t["body"]["properties"].as_array().into_iter().flatten() {
                        value_refs(&p["type"], &mut refs);
                    }
                }
                Some("response") => {
                    if t["body"]["kind"] == "value" {
                        value_refs(&t["body"]["value"], &mut refs);
                    }
                    for p in t["body"]["properties"].as_array().into_iter().flatten() {
                        value_refs(&p["type"], &mut refs);
                    }
                }
                Some("type_alias") => value_refs(&t["type"], &mut refs),
                _ => {}
            }
            stack.extend(refs);
            self.set.insert(n);
        }
        // Rust names: the spec name, unless another type in the set has it.
        let mut by_rust: BTreeMap<String, Vec<Name>> = BTreeMap::new();
        for n in &self.set {
            let base = match (n.0.as_str(), n.1.as_str()) {
                ("_global.search", "Response") => "SearchResponse".to_string(),
                (_, name) => pascal_keep(name),
            };
            by_rust.entry(base).or_default().push(n.clone());
        }
        for (base, names) in by_rust {
            for n in &names {
                let module = Self::module_for(&n.0);
                let rust = if names.len() == 1 {
                    base.clone()
                } else {
                    format!("{}{}", pascal(&module), base)
                };
                self.modules.insert(n.clone(), module);
                self.rust_names.insert(n.clone(), rust);
            }
        }
        Ok(())
    }

    /// The Rust path of a named type from module `from`.
    fn path(&self, n: &Name, from: &str) -> String {
        let rust = &self.rust_names[n];
        let module = &self.modules[n];
        if module == from {
            rust.clone()
        } else {
            format!("super::{module}::{rust}")
        }
    }

    /// True when the alias is emitted as `pub type` / an enum rather than inlined.
    fn alias_is_named(&self, t: &Value) -> bool {
        let generic = t["generics"].as_array().is_some_and(|g| !g.is_empty());
        let union = t["type"]["kind"] == "union_of";
        !generic || union || t.get("variants").is_some()
    }

    /// Renders a value (a property's type) as a Rust type. Inline unions are pushed onto
    /// `extra` as definitions.
    fn ty(&self, v: &Value, cx: &Ctx<'_>, hint: &str, extra: &mut Vec<String>) -> Result<String> {
        Ok(match v["kind"].as_str() {
            Some("instance_of") => {
                let n = name_of(&v["type"]);
                let args: Vec<String> = v["generics"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, g)| self.ty(g, cx, &format!("{hint}{i}"), extra))
                    .collect::<Result<_>>()?;
                self.instance(&n, &args, cx, hint, extra)?
            }
            Some("array_of") => format!("Vec<{}>", self.ty(&v["value"], cx, hint, extra)?),
            Some("dictionary_of") => {
                let k = self.ty(&v["key"], cx, &format!("{hint}Key"), extra)?;
                let val = self.ty(&v["value"], cx, hint, extra)?;
                if v["singleKey"] == true {
                    format!("SingleKey<{k}, {val}>")
                } else if self.is_external_union(&v["value"]) {
                    format!("TypedKeys<{val}>")
                } else {
                    format!("indexmap::IndexMap<{k}, {val}>")
                }
            }
            Some("union_of") => {
                let items = v["items"].as_array().context("union without items")?;
                let is_null = |i: &Value| {
                    i["kind"] == "instance_of"
                        && i["type"]["namespace"] == "_builtins"
                        && i["type"]["name"] == "null"
                };
                if let Some(one) = self.one_or_many(items, cx, hint, extra)? {
                    one
                } else if items.len() == 2 && items.iter().any(is_null) {
                    // `T | null`: an `Option` that is written as `null`.
                    let other = items.iter().find(|i| !is_null(i)).context("null | null")?;
                    format!("Option<{}>", self.ty(other, cx, hint, extra)?)
                } else {
                    let name = format!("{}{}", cx.owner, pascal(hint));
                    let def = self.untagged_enum(&name, items, None, cx, extra, &[])?;
                    extra.push(format!("/// The forms `{}` of `{}` takes (untagged: read in the order listed).\n{def}", hint, cx.owner));
                    name
                }
            }
            Some("user_defined_value") => "serde_json::Value".to_string(),
            Some("literal_value") => match &v["value"] {
                Value::Bool(_) => "bool".to_string(),
                Value::Number(_) => "f64".to_string(),
                _ => "String".to_string(),
            },
            other => bail!("unknown value kind {other:?}"),
        })
    }

    /// `T | T[]` → `OneOrMany<T>`.
    fn one_or_many(
        &self,
        items: &[Value],
        cx: &Ctx<'_>,
        hint: &str,
        extra: &mut Vec<String>,
    ) -> Result<Option<String>> {
        if items.len() != 2 {
            return Ok(None);
        }
        let (a, b) = (&items[0], &items[1]);
        for (one, many) in [(a, b), (b, a)] {
            if many["kind"] == "array_of" && many["value"] == *one {
                let t = self.ty(one, cx, hint, extra)?;
                return Ok(Some(format!("OneOrMany<{t}>")));
            }
        }
        Ok(None)
    }

    fn instance(
        &self,
        n: &Name,
        args: &[String],
        cx: &Ctx<'_>,
        hint: &str,
        extra: &mut Vec<String>,
    ) -> Result<String> {
        if n.0 == "_builtins" {
            return Ok(match n.1.as_str() {
                "string" | "binary" => "String",
                "boolean" => "bool",
                "number" => "f64",
                "null" | "void" => "()",
                other => bail!("unknown builtin {other}"),
            }
            .to_string());
        }
        if n.0 == "_types"
            && let Some((_, r)) = NUMBERS.iter().find(|(s, _)| *s == n.1)
        {
            return Ok(r.to_string());
        }
        let Some(t) = self.get(n) else {
            // A generic parameter.
            return cx
                .generics
                .get(&n.1)
                .cloned()
                .with_context(|| format!("unknown type {n:?}"));
        };
        if t["kind"] == "type_alias" && !self.alias_is_named(t) {
            // A generic alias to a plain type: substitute.
            let params: Vec<String> = t["generics"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| g["name"].as_str().unwrap_or_default().to_string())
                .collect();
            let env: HashMap<String, String> =
                params.into_iter().zip(args.iter().cloned()).collect();
            let inner = Ctx {
                module: cx.module,
                generics: &env,
                owner: cx.owner,
            };
            return self.ty(&t["type"], &inner, hint, extra);
        }
        let base = self.path(n, cx.module);
        Ok(if args.is_empty() {
            base
        } else {
            format!("{base}<{}>", args.join(", "))
        })
    }

    fn is_external_union(&self, v: &Value) -> bool {
        v["kind"] == "instance_of"
            && self
                .get(&name_of(&v["type"]))
                .is_some_and(|t| t["variants"]["kind"] == "external_tag")
    }

    /// Named types a value holds by value (not through a `Vec` or map).
    fn by_value(&self, v: &Value, out: &mut Vec<Name>) {
        match v["kind"].as_str() {
            Some("instance_of") => {
                let n = name_of(&v["type"]);
                if let Some(t) = self.get(&n) {
                    if t["kind"] == "type_alias" && !self.alias_is_named(t) {
                        self.by_value(&t["type"], out);
                        for g in v["generics"].as_array().into_iter().flatten() {
                            self.by_value(g, out);
                        }
                    } else {
                        out.push(n);
                    }
                }
            }
            Some("union_of") => {
                for i in v["items"].as_array().into_iter().flatten() {
                    self.by_value(i, out);
                }
            }
            Some("dictionary_of") if v["singleKey"] == true => self.by_value(&v["value"], out),
            _ => {}
        }
    }

    /// All properties of an interface, its parents' first, with generic parameters
    /// substituted. Returns (properties, generic environment of each).
    fn all_props(
        &self,
        t: &Value,
        env: &HashMap<String, String>,
        cx_module: &str,
    ) -> Result<Vec<Prop>> {
        let mut out = Vec::new();
        if let Some(inh) = t.get("inherits") {
            let pn = name_of(&inh["type"]);
            let parent = self.get(&pn).with_context(|| format!("parent {pn:?}"))?;
            let params = generic_params(parent);
            let mut penv = HashMap::new();
            let mut extra = Vec::new();
            let cx = Ctx {
                module: cx_module,
                generics: env,
                owner: &self
                    .rust_names
                    .get(&name_of(&t["name"]))
                    .cloned()
                    .unwrap_or_default(),
            };
            for (p, g) in params
                .iter()
                .zip(inh["generics"].as_array().into_iter().flatten())
            {
                penv.insert(p.clone(), self.ty(g, &cx, p, &mut extra)?);
            }
            out.extend(self.all_props(parent, &penv, cx_module)?);
        }
        let owner = self
            .rust_names
            .get(&name_of(&t["name"]))
            .cloned()
            .unwrap_or_default();
        for p in t["properties"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap_or_default();
            out.retain(|(q, _, _): &(Value, _, _)| q["name"] != name);
            out.push((p.clone(), env.clone(), owner.clone()));
        }
        Ok(out)
    }

    /// The behavior (extra keys) of an interface or one of its parents.
    fn behavior(
        &self,
        t: &Value,
        env: &HashMap<String, String>,
        module: &str,
        owner: &str,
        extra: &mut Vec<String>,
    ) -> Result<Option<Extra>> {
        for b in t["behaviors"].as_array().into_iter().flatten() {
            let bn = b["type"]["name"].as_str().unwrap_or_default();
            let gens: Vec<&Value> = b["generics"].as_array().into_iter().flatten().collect();
            let cx = Ctx {
                module,
                generics: env,
                owner,
            };
            match bn {
                "AdditionalProperty" => {
                    let meta = &b["meta"];
                    return Ok(Some(Extra::One {
                        key_ident: field_ident(meta["key"].as_str().unwrap_or("field")),
                        key_ty: self.ty(gens[0], &cx, "Key", extra)?,
                        value_ident: field_ident(meta["value"].as_str().unwrap_or("value")),
                        value_ty: self.ty(gens[1], &cx, "Value", extra)?,
                    }));
                }
                "AdditionalProperties" => {
                    let tagged = self.is_external_union(gens[1]);
                    let value_ty = self.ty(gens[1], &cx, "Value", extra)?;
                    return Ok(Some(Extra::Many {
                        ident: field_ident(b["meta"]["fieldname"].as_str().unwrap_or("extra")),
                        value_ty,
                        tagged,
                    }));
                }
                _ => {}
            }
        }
        if let Some(inh) = t.get("inherits") {
            let pn = name_of(&inh["type"]);
            let parent = self.get(&pn).with_context(|| format!("parent {pn:?}"))?;
            let params = generic_params(parent);
            let mut penv = HashMap::new();
            let cx = Ctx {
                module,
                generics: env,
                owner,
            };
            for (p, g) in params
                .iter()
                .zip(inh["generics"].as_array().into_iter().flatten())
            {
                penv.insert(p.clone(), self.ty(g, &cx, p, extra)?);
            }
            return self.behavior(parent, &penv, module, owner, extra);
        }
        Ok(None)
    }

    /// True when a struct can derive `Default`: every required field has a default (an
    /// empty string, collection or map, zero, or a struct that has one). Cycles do not.
    fn can_default(&self, n: &Name, visiting: &mut BTreeSet<Name>) -> bool {
        let Some(t) = self.get(n) else { return false };
        if t["kind"] != "interface"
            || t["variants"]["kind"] == "container"
            || !visiting.insert(n.clone())
        {
            return false;
        }
        let module = self.modules.get(n).cloned().unwrap_or_default();
        let mut extra = Vec::new();
        let ok = match self.fields(t, &module, &[], &mut extra) {
            Ok(fields) => fields.iter().filter(|f| f.required).all(|f| {
                const DEFAULTS: &[&str] = &[
                    "String",
                    "bool",
                    "i8",
                    "i16",
                    "i32",
                    "i64",
                    "u32",
                    "u64",
                    "f32",
                    "f64",
                    "serde_json::Value",
                ];
                DEFAULTS.contains(&f.ty.as_str())
                    || [
                        "Vec<",
                        "indexmap::IndexMap<",
                        "TypedKeys<",
                        "OneOrMany<",
                        "Option<",
                    ]
                    .iter()
                    .any(|p| f.ty.starts_with(p))
                    || (f.by_value.len() == 1 && self.can_default(&f.by_value[0], visiting))
            }),
            Err(_) => false,
        };
        let behavior_ok = match self.behavior(t, &self_env(t), &module, "", &mut extra) {
            Ok(Some(Extra::One { .. })) => false,
            Ok(_) => true,
            Err(_) => false,
        };
        visiting.remove(n);
        ok && behavior_ok && generic_params(t).is_empty()
    }

    /// The shortcut property of an interface or one of its parents.
    fn shortcut(&self, t: &Value) -> Option<String> {
        if let Some(s) = t["shortcutProperty"].as_str() {
            return Some(s.to_string());
        }
        let inh = t.get("inherits")?;
        self.shortcut(self.get(&name_of(&inh["type"]))?)
    }

    /// The fields of an interface.
    fn fields(
        &self,
        t: &Value,
        module: &str,
        skip: &[&str],
        extra: &mut Vec<String>,
    ) -> Result<Vec<Field>> {
        let env = self_env(t);
        let mut fields = Vec::new();
        let mut idents = BTreeSet::new();
        for (p, penv, owner) in self.all_props(t, &env, module)? {
            let json = p["name"].as_str().unwrap_or_default().to_string();
            // Literal properties are the tags of tagged unions: the union writes them.
            if skip.contains(&json.as_str()) || p["type"]["kind"] == "literal_value" {
                continue;
            }
            let cx = Ctx {
                module,
                generics: &penv,
                owner: &owner,
            };
            let ty = self.ty(&p["type"], &cx, &json, extra)?;
            if ty == "()" {
                continue;
            }
            let mut ident = match p["codegenName"].as_str() {
                Some(c) => field_ident(c),
                None => field_ident(&json),
            };
            if !idents.insert(ident.clone()) {
                ident = format!("{}_", ident.trim_end_matches('_'));
                idents.insert(ident.clone());
            }
            let mut by_value = Vec::new();
            self.by_value(&p["type"], &mut by_value);
            let canon = self.canon(&p["type"], &ty);
            fields.push(Field {
                json,
                ident,
                aliases: p["aliases"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str().map(String::from))
                    .collect(),
                ty,
                required: p["required"] == true,
                doc: p["description"].as_str().map(String::from),
                deprecated: p.get("deprecation").map(deprecation_note),
                by_value,
                canon,
            });
        }
        Ok(fields)
    }

    fn render(&self) -> Result<BTreeMap<String, String>> {
        // By-value graph, for boxing.
        let mut graph: HashMap<Name, Vec<Name>> = HashMap::new();
        for n in &self.set {
            let t = &self.types[n];
            let mut out = Vec::new();
            match t["kind"].as_str() {
                Some("interface") | Some("request") => {
                    let env = self_env(t);
                    let props = if t["kind"] == "request" {
                        t["body"]["properties"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|p| (p, env.clone(), String::new()))
                            .collect()
                    } else {
                        self.all_props(t, &env, "x").unwrap_or_default()
                    };
                    for (p, _, _) in props {
                        self.by_value(&p["type"], &mut out);
                    }
                }
                Some("type_alias") => self.by_value(&t["type"], &mut out),
                Some("response") => self.by_value(&t["body"]["value"], &mut out),
                _ => {}
            }
            graph.insert(n.clone(), out);
        }
        let reach = |from: &Name, to: &Name| -> bool {
            let mut stack = vec![from.clone()];
            let mut seen = BTreeSet::new();
            while let Some(x) = stack.pop() {
                if &x == to {
                    return true;
                }
                if seen.insert(x.clone())
                    && let Some(next) = graph.get(&x)
                {
                    stack.extend(next.iter().cloned());
                }
            }
            false
        };
        let mut modules: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut inline: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for n in &self.set {
            let t = &self.types[n];
            let module = self.modules[n].clone();
            let rust = self.rust_names[n].clone();
            let mut extra = Vec::new();
            let boxed = |targets: &[Name]| targets.iter().any(|b| reach(b, n));
            let code = match t["kind"].as_str() {
                Some("interface") if t["variants"]["kind"] == "container" => {
                    self.container(t, &rust, &module, &boxed, &mut extra)?
                }
                Some("interface") => self.structure(t, &rust, &module, &boxed, &mut extra, &[])?,
                Some("request") => self.request(t, &rust, &module, &boxed, &mut extra)?,
                Some("response") => {
                    let cx = Ctx {
                        module: &module,
                        generics: &self_env(t),
                        owner: &rust,
                    };
                    let inner = self.ty(&t["body"]["value"], &cx, "Body", &mut extra)?;
                    let mut s = docs(
                        t["description"].as_str().unwrap_or("The search response."),
                        None,
                    );
                    let _ = writeln!(
                        s,
                        "pub type {rust}<TDocument = serde_json::Value> = {inner};"
                    );
                    s
                }
                Some("enum") => self.enumeration(t, &rust)?,
                Some("type_alias") => {
                    if !self.alias_is_named(t) {
                        continue;
                    }
                    self.alias(t, &rust, &module, &boxed, &mut extra)?
                }
                _ => continue,
            };
            modules
                .entry(module.clone())
                .or_default()
                .push((rust, code));
            for e in extra {
                inline
                    .entry(module.clone())
                    .or_default()
                    .insert(item_name(&e), e);
            }
        }
        let mut files = BTreeMap::new();
        let mut root = String::from(HEADER);
        root.push_str("//! Types of the Elasticsearch specification: the query DSL, aggregations and their\n//! results, mappings, analysis, and the search request body and response, one module\n//! per specification namespace.\n\n");
        root.push_str("pub use crate::types_support::*;\n\n");
        for (module, mut items) in modules {
            items.sort_by(|a, b| a.0.cmp(&b.0));
            let _ = writeln!(root, "pub mod {module};");
            let mut text = String::from(HEADER);
            let _ = writeln!(
                text,
                "//! Specification types of the `{module}` namespace.\n\n#![allow(deprecated, clippy::all)]\n\n#[allow(unused_imports)]\nuse super::{{DeserializeTagged, ExternallyTagged, OneOrMany, SingleKey, TypedKeys}};\n#[allow(unused_imports)]\nuse serde::{{Deserialize, Serialize}};\n"
            );
            for (_, code) in items {
                text.push_str(&code);
            }
            for code in inline.remove(&module).unwrap_or_default().into_values() {
                text.push_str(&code);
            }
            files.insert(format!("types/{module}.rs"), text);
        }
        files.insert("types/mod.rs".to_string(), root);
        Ok(files)
    }

    fn field_decl(&self, f: &Field, boxed: &dyn Fn(&[Name]) -> bool, s: &mut String) {
        let ty = if boxed(&f.by_value) {
            format!("Box<{}>", f.ty)
        } else {
            f.ty.clone()
        };
        s.push_str(&docs(
            f.doc
                .as_deref()
                .unwrap_or(&format!("The `{}` property.", f.json)),
            None,
        ));
        if let Some(d) = &f.deprecated {
            let _ = writeln!(s, "#[deprecated(note = {})]", string_lit(d));
        }
        let mut attrs = Vec::new();
        if f.ident != f.json {
            attrs.push(format!("rename = {}", string_lit(&f.json)));
        }
        for a in &f.aliases {
            attrs.push(format!("alias = {}", string_lit(a)));
        }
        if !f.required {
            attrs.push("skip_serializing_if = \"Option::is_none\"".to_string());
        }
        if !attrs.is_empty() {
            let _ = writeln!(s, "#[serde({})]", attrs.join(", "));
        }
        if f.required {
            let _ = writeln!(s, "pub {}: {ty},", f.ident);
        } else {
            let _ = writeln!(s, "pub {}: Option<{ty}>,", f.ident);
        }
    }

    fn structure(
        &self,
        t: &Value,
        rust: &str,
        module: &str,
        boxed: &dyn Fn(&[Name]) -> bool,
        extra: &mut Vec<String>,
        skip: &[&str],
    ) -> Result<String> {
        let fields = self.fields(t, module, skip, extra)?;
        let env = self_env(t);
        let behavior = self.behavior(t, &env, module, rust, extra)?;
        let shortcut = self.shortcut(t);
        let generics = generic_decl(t, true);
        let mut s = docs(&type_desc(t), t.get("deprecation"));
        let manual = behavior.is_some() || shortcut.is_some();
        let default = if self.can_default(&name_of(&t["name"]), &mut BTreeSet::new()) {
            ", Default"
        } else {
            ""
        };
        if manual {
            let _ = writeln!(s, "#[derive(Debug, Clone, PartialEq{default})]");
        } else {
            let _ = writeln!(
                s,
                "#[derive(Debug, Clone, PartialEq{default}, Serialize, Deserialize)]"
            );
        }
        let _ = writeln!(s, "pub struct {rust}{generics} {{");
        for f in &fields {
            let mut f2 = f.clone();
            if manual {
                // The hand-rolled impls below read the names.
                f2.aliases.clear();
                f2.json = f2.ident.clone();
            }
            let mut decl = String::new();
            self.field_decl(&f2, boxed, &mut decl);
            if manual {
                decl = decl
                    .lines()
                    .filter(|l| !l.starts_with("#[serde("))
                    .map(|l| format!("{l}\n"))
                    .collect();
            }
            s.push_str(&decl);
        }
        match &behavior {
            Some(Extra::One {
                key_ident,
                key_ty,
                value_ident,
                value_ty,
            }) => {
                let _ = writeln!(
                    s,
                    "/// The field name (the key beside the named properties).\npub {key_ident}: {key_ty},"
                );
                let _ = writeln!(
                    s,
                    "/// The value under the field name.\npub {value_ident}: {value_ty},"
                );
            }
            Some(Extra::Many {
                ident,
                value_ty,
                tagged,
            }) => {
                if *tagged {
                    let _ = writeln!(
                        s,
                        "/// Keys beside the named properties (sub-aggregations by name).\npub {ident}: TypedKeys<{value_ty}>,"
                    );
                } else {
                    let _ = writeln!(
                        s,
                        "/// Keys beside the named properties.\npub {ident}: indexmap::IndexMap<String, {value_ty}>,"
                    );
                }
            }
            None => {}
        }
        s.push_str("}\n\n");
        s.push_str(&self.constructor(t, rust, &fields, behavior.as_ref(), boxed));
        if manual {
            s.push_str(&self.manual_impls(
                t,
                rust,
                &fields,
                behavior.as_ref(),
                shortcut.as_deref(),
                boxed,
            )?);
        }
        Ok(s)
    }

    /// `new(required…)`: the struct with its required properties, the optional ones unset.
    fn constructor(
        &self,
        t: &Value,
        rust: &str,
        fields: &[Field],
        behavior: Option<&Extra>,
        boxed: &dyn Fn(&[Name]) -> bool,
    ) -> String {
        let required: Vec<&Field> = fields.iter().filter(|f| f.required).collect();
        if required.is_empty() && !matches!(behavior, Some(Extra::One { .. })) {
            return String::new();
        }
        let params = generic_params(t);
        let decl = if params.is_empty() {
            String::new()
        } else {
            format!("<{}>", params.join(", "))
        };
        let mut args = Vec::new();
        let mut init = Vec::new();
        for f in fields {
            if f.required {
                args.push(format!("{}: impl Into<{}>", f.ident, f.ty));
                if boxed(&f.by_value) {
                    init.push(format!("{}: Box::new({}.into())", f.ident, f.ident));
                } else {
                    init.push(format!("{}: {}.into()", f.ident, f.ident));
                }
            } else {
                init.push(format!("{}: None", f.ident));
            }
        }
        match behavior {
            Some(Extra::One {
                key_ident,
                key_ty,
                value_ident,
                value_ty,
            }) => {
                args.push(format!("{key_ident}: impl Into<{key_ty}>"));
                args.push(format!("{value_ident}: impl Into<{value_ty}>"));
                init.push(format!("{key_ident}: {key_ident}.into()"));
                init.push(format!("{value_ident}: {value_ident}.into()"));
            }
            Some(Extra::Many { ident, .. }) => init.push(format!("{ident}: Default::default()")),
            None => {}
        }
        format!(
            "impl{decl} {rust}{decl} {{\n/// A `{rust}` with its required properties; the optional ones are unset.\npub fn new({}) -> Self {{\n{rust} {{ {} }}\n}}\n}}\n\n",
            args.join(", "),
            init.join(", ")
        )
    }

    /// `Serialize` / `Deserialize` for structs with a shortcut property or extra keys.
    fn manual_impls(
        &self,
        t: &Value,
        rust: &str,
        fields: &[Field],
        behavior: Option<&Extra>,
        shortcut: Option<&str>,
        boxed: &dyn Fn(&[Name]) -> bool,
    ) -> Result<String> {
        let params = generic_params(t);
        let ser_bounds: String = params.iter().map(|p| format!(", {p}: Serialize")).collect();
        let de_bounds: String = params
            .iter()
            .map(|p| format!(", {p}: Deserialize<'de>"))
            .collect();
        let args = if params.is_empty() {
            String::new()
        } else {
            format!("<{}>", params.join(", "))
        };
        let ser_generics = if params.is_empty() {
            String::new()
        } else {
            format!("<{}>", ser_bounds.trim_start_matches(", "))
        };
        let mut s = String::new();
        // Serialize.
        let _ = writeln!(
            s,
            "impl{ser_generics} Serialize for {rust}{args} {{\nfn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\nuse serde::ser::SerializeMap;\nlet mut map = serializer.serialize_map(None)?;"
        );
        for f in fields {
            if f.required {
                let _ = writeln!(
                    s,
                    "map.serialize_entry({}, &self.{})?;",
                    string_lit(&f.json),
                    f.ident
                );
            } else {
                let _ = writeln!(
                    s,
                    "if let Some(v) = &self.{} {{ map.serialize_entry({}, v)?; }}",
                    f.ident,
                    string_lit(&f.json)
                );
            }
        }
        match behavior {
            Some(Extra::One {
                key_ident,
                value_ident,
                ..
            }) => {
                let _ = writeln!(
                    s,
                    "map.serialize_entry(&self.{key_ident}, &self.{value_ident})?;"
                );
            }
            Some(Extra::Many {
                ident,
                tagged: true,
                ..
            }) => {
                let _ = writeln!(
                    s,
                    "for (k, v) in self.{ident}.iter() {{ map.serialize_entry(&crate::types_support::typed_key(k, v.tag()), v)?; }}"
                );
            }
            Some(Extra::Many { ident, .. }) => {
                let _ = writeln!(
                    s,
                    "for (k, v) in &self.{ident} {{ map.serialize_entry(k, v)?; }}"
                );
            }
            None => {}
        }
        s.push_str("map.end()\n}\n}\n\n");
        // Deserialize.
        let phantom = if params.is_empty() {
            "".to_string()
        } else {
            format!("(std::marker::PhantomData<({},)>)", params.join(", "))
        };
        let phantom_new = if params.is_empty() {
            "V".to_string()
        } else {
            "V(std::marker::PhantomData)".to_string()
        };
        let _ = writeln!(
            s,
            "impl<'de{de_bounds}> Deserialize<'de> for {rust}{args} {{\nfn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\nstruct V{args}{phantom};\nimpl<'de{de_bounds}> serde::de::Visitor<'de> for V{args} {{\ntype Value = {rust}{args};\nfn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.write_str({}) }}",
            string_lit(&format!(
                "a {} object",
                t["name"]["name"].as_str().unwrap_or_default()
            ))
        );
        // visit_map
        s.push_str("fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {\n");
        for f in fields {
            let ty = if boxed(&f.by_value) {
                format!("Box<{}>", f.ty)
            } else {
                f.ty.clone()
            };
            let _ = writeln!(s, "let mut {}: Option<{ty}> = None;", local(&f.ident));
        }
        match behavior {
            Some(Extra::One {
                key_ty, value_ty, ..
            }) => {
                let _ = writeln!(s, "let mut extra: Option<({key_ty}, {value_ty})> = None;");
            }
            Some(Extra::Many {
                value_ty,
                tagged: true,
                ..
            }) => {
                let _ = writeln!(
                    s,
                    "let mut extra: TypedKeys<{value_ty}> = TypedKeys::default();"
                );
            }
            Some(Extra::Many { value_ty, .. }) => {
                let _ = writeln!(
                    s,
                    "let mut extra: indexmap::IndexMap<String, {value_ty}> = indexmap::IndexMap::new();"
                );
            }
            None => {}
        }
        s.push_str("while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {\nmatch key.as_ref() {\n");
        for f in fields {
            let mut pats = vec![string_lit(&f.json)];
            pats.extend(f.aliases.iter().map(|a| string_lit(a)));
            let _ = writeln!(
                s,
                "{} => {} = Some(map.next_value()?),",
                pats.join(" | "),
                local(&f.ident)
            );
        }
        match behavior {
            Some(Extra::One { key_ty, .. }) => {
                let _ = writeln!(
                    s,
                    "_ => {{ if extra.is_some() {{ return Err(serde::de::Error::custom(\"more than one field name\")); }} let k: {key_ty} = Deserialize::deserialize(serde::de::value::StrDeserializer::<A::Error>::new(key.as_ref()))?; extra = Some((k, map.next_value()?)); }}"
                );
            }
            Some(Extra::Many { tagged: true, .. }) => {
                s.push_str("_ => { extra.insert_next(key.as_ref(), &mut map)?; }\n");
            }
            Some(Extra::Many { .. }) => {
                s.push_str("_ => { extra.insert(key.into_owned(), map.next_value()?); }\n");
            }
            None => s.push_str("_ => { map.next_value::<serde::de::IgnoredAny>()?; }\n"),
        }
        s.push_str("}\n}\n");
        let mut build = String::new();
        for f in fields {
            if f.required {
                let _ = write!(
                    build,
                    "{}: {}.ok_or_else(|| serde::de::Error::missing_field({}))?,",
                    f.ident,
                    local(&f.ident),
                    string_lit(&f.json)
                );
            } else {
                let _ = write!(build, "{}: {},", f.ident, local(&f.ident));
            }
        }
        match behavior {
            Some(Extra::One {
                key_ident,
                value_ident,
                ..
            }) => {
                let _ = writeln!(
                    s,
                    "let (k, v) = extra.ok_or_else(|| serde::de::Error::custom(\"missing the field name key\"))?;"
                );
                let _ = write!(build, "{key_ident}: k, {value_ident}: v,");
            }
            Some(Extra::Many { ident, .. }) => {
                let _ = write!(build, "{ident}: extra,");
            }
            None => {}
        }
        let _ = writeln!(s, "Ok({rust} {{ {build} }})\n}}");
        if let Some(sc) = shortcut {
            let f = fields
                .iter()
                .find(|f| f.json == sc)
                .with_context(|| format!("shortcut {sc} of {rust}"))?;
            let mut others = String::new();
            for g in fields {
                if g.json != sc {
                    if g.required {
                        bail!("{rust}: shortcut with another required field {}", g.json);
                    }
                    let _ = write!(others, "{}: None,", g.ident);
                }
            }
            if behavior.is_some() {
                bail!("{rust}: shortcut and behavior");
            }
            let wrap = |e: &str| {
                if f.required {
                    e.to_string()
                } else {
                    format!("Some({e})")
                }
            };
            let mk = wrap("v");
            let body = format!("Ok({rust} {{ {}: {mk}, {others} }})", f.ident);
            for (m, ty, de) in [
                (
                    "visit_str",
                    "&str",
                    "serde::de::value::StrDeserializer::<E>::new(v)",
                ),
                (
                    "visit_bool",
                    "bool",
                    "serde::de::value::BoolDeserializer::<E>::new(v)",
                ),
                (
                    "visit_i64",
                    "i64",
                    "serde::de::value::I64Deserializer::<E>::new(v)",
                ),
                (
                    "visit_u64",
                    "u64",
                    "serde::de::value::U64Deserializer::<E>::new(v)",
                ),
                (
                    "visit_f64",
                    "f64",
                    "serde::de::value::F64Deserializer::<E>::new(v)",
                ),
            ] {
                let _ = writeln!(
                    s,
                    "fn {m}<E: serde::de::Error>(self, v: {ty}) -> Result<Self::Value, E> {{ let v = Deserialize::deserialize({de})?; {body} }}"
                );
            }
            let _ = writeln!(
                s,
                "fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {{ let v = Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?; {body} }}"
            );
            let _ = writeln!(
                s,
                "}}\ndeserializer.deserialize_any({phantom_new})\n}}\n}}\n"
            );
        } else {
            let _ = writeln!(
                s,
                "}}\ndeserializer.deserialize_map({phantom_new})\n}}\n}}\n"
            );
        }
        Ok(s)
    }

    fn request(
        &self,
        t: &Value,
        rust: &str,
        module: &str,
        boxed: &dyn Fn(&[Name]) -> bool,
        extra: &mut Vec<String>,
    ) -> Result<String> {
        let fake = serde_json::json!({
            "kind": "interface",
            "name": {"namespace": t["name"]["namespace"], "name": t["name"]["name"]},
            "description": "The body of a search request (`POST /<index>/_search`).",
            "properties": t["body"]["properties"],
        });
        let mut s = self.structure(&fake, rust, module, boxed, extra, &[])?;
        s = s.replacen(
            "#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]",
            "#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]",
            1,
        );
        Ok(s)
    }

    fn container(
        &self,
        t: &Value,
        rust: &str,
        module: &str,
        boxed: &dyn Fn(&[Name]) -> bool,
        extra: &mut Vec<String>,
    ) -> Result<String> {
        let non_exhaustive = t["variants"]["nonExhaustive"] == true;
        let fields = self.fields(t, module, &[], extra)?;
        let props: Vec<&Value> = t["properties"].as_array().into_iter().flatten().collect();
        // Inherited properties (`boost`, `_name` of `QueryBase`) sit beside the kind too.
        let is_container_prop = |f: &Field| {
            props
                .iter()
                .any(|p| p["name"] == f.json.as_str() && p["containerProperty"] == true)
                || !props.iter().any(|p| p["name"] == f.json.as_str())
        };
        // A function of `function_score` may be a bare `weight` (with a `filter`): no kind.
        let optional_kind = t["name"]["name"] == "FunctionScoreContainer";
        let (shared, variants): (Vec<&Field>, Vec<&Field>) =
            fields.iter().partition(|f| is_container_prop(f));
        let enum_name = if shared.is_empty() {
            rust.to_string()
        } else {
            format!("{}Kind", rust.trim_end_matches("Container"))
        };
        let mut s = String::new();
        // The enum of variants.
        let desc = &type_desc(t);
        s.push_str(&docs(desc, None));
        s.push_str("#[derive(Debug, Clone, PartialEq)]\n");
        let _ = writeln!(s, "pub enum {enum_name} {{");
        let mut names = Vec::new();
        for f in &variants {
            let v = pascal(&f.json);
            let ty = if boxed(&f.by_value) {
                format!("Box<{}>", f.ty)
            } else {
                f.ty.clone()
            };
            s.push_str(&docs(
                f.doc
                    .as_deref()
                    .unwrap_or(&format!("The `{}` property.", f.json)),
                None,
            ));
            if let Some(d) = &f.deprecated {
                let _ = writeln!(s, "#[deprecated(note = {})]", string_lit(d));
            }
            let _ = writeln!(s, "{v}({ty}),");
            names.push((v, f));
        }
        let field_variant = match self.behavior(t, &self_env(t), module, rust, extra)? {
            Some(Extra::One {
                key_ty, value_ty, ..
            }) => {
                let _ = writeln!(
                    s,
                    "/// Any other key: a field name and its value.\nField({key_ty}, {value_ty}),"
                );
                true
            }
            _ => false,
        };
        if non_exhaustive && !field_variant {
            s.push_str("/// A kind this version of the client does not know (a plugin's, or a newer server's):\n/// its name and its body as raw JSON.\nUnknown(String, serde_json::Value),\n");
        }
        let non_exhaustive = non_exhaustive && !field_variant;
        s.push_str("}\n\n");
        // The key of each variant.
        let _ = writeln!(
            s,
            "impl {enum_name} {{\n/// The JSON key of this kind (`\"match\"`, `\"terms\"`, …).\npub fn kind_name(&self) -> &str {{\nmatch self {{"
        );
        for (v, f) in &names {
            let _ = writeln!(s, "Self::{v}(_) => {},", string_lit(&f.json));
        }
        if non_exhaustive {
            s.push_str("Self::Unknown(k, _) => k,\n");
        }
        if field_variant {
            s.push_str("Self::Field(k, _) => k,\n");
        }
        s.push_str("}\n}\n\n");
        // Serializing the value alone (used by the containers' impls).
        s.push_str("fn serialize_entry<M: serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {\nmatch self {\n");
        for (v, f) in &names {
            let _ = writeln!(
                s,
                "Self::{v}(x) => map.serialize_entry({}, x),",
                string_lit(&f.json)
            );
        }
        if non_exhaustive {
            s.push_str("Self::Unknown(k, x) => map.serialize_entry(k, x),\n");
        }
        if field_variant {
            s.push_str("Self::Field(k, x) => map.serialize_entry(k, x),\n");
        }
        s.push_str("}\n}\n\n");
        let _ = writeln!(
            s,
            "fn deserialize_entry<'de, A: serde::de::MapAccess<'de>>(key: &str, map: &mut A) -> Result<Option<Self>, A::Error> {{\nOk(Some(match key {{"
        );
        for (v, f) in &names {
            let mut pats = vec![string_lit(&f.json)];
            pats.extend(f.aliases.iter().map(|a| string_lit(a)));
            let _ = writeln!(s, "{} => Self::{v}(map.next_value()?),", pats.join(" | "));
        }
        if non_exhaustive {
            s.push_str("_ => Self::Unknown(key.to_string(), map.next_value()?),\n");
        } else if field_variant {
            s.push_str("_ => Self::Field(Deserialize::deserialize(serde::de::value::StrDeserializer::<A::Error>::new(key))?, map.next_value()?),\n");
        } else {
            s.push_str("_ => return Ok(None),\n");
        }
        s.push_str("}))\n}\n}\n\n");
        // `From` each kind's type (where that type is one kind's only).
        let mut froms = String::new();
        for (v, f) in &names {
            if names.iter().filter(|(_, g)| g.canon == f.canon).count() != 1 {
                continue;
            }
            let wrap = if boxed(&f.by_value) {
                "Box::new(v)"
            } else {
                "v"
            };
            let _ = writeln!(
                froms,
                "impl From<{}> for {enum_name} {{\nfn from(v: {}) -> Self {{ Self::{v}({wrap}) }}\n}}\n",
                f.ty, f.ty
            );
            if !shared.is_empty() && shared.iter().all(|f| !f.required) {
                let _ = writeln!(
                    froms,
                    "impl From<{}> for {rust} {{\nfn from(v: {}) -> Self {{ {enum_name}::from(v).into() }}\n}}\n",
                    f.ty, f.ty
                );
            }
        }
        s.push_str(&froms);
        let expecting = string_lit(&format!(
            "a {} object (exactly one kind)",
            t["name"]["name"].as_str().unwrap_or_default()
        ));
        if shared.is_empty() {
            let _ = writeln!(
                s,
                "impl Serialize for {rust} {{\nfn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\nuse serde::ser::SerializeMap;\nlet mut map = serializer.serialize_map(Some(1))?;\nself.serialize_entry(&mut map)?;\nmap.end()\n}}\n}}\n"
            );
            let _ = writeln!(
                s,
                "impl<'de> Deserialize<'de> for {rust} {{\nfn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\nstruct V;\nimpl<'de> serde::de::Visitor<'de> for V {{\ntype Value = {rust};\nfn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.write_str({expecting}) }}\nfn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {{\nlet mut found: Option<{rust}> = None;\nwhile let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {{\nmatch {rust}::deserialize_entry(key.as_ref(), &mut map)? {{\nSome(v) => {{ if let Some(prev) = &found {{ return Err(serde::de::Error::custom(format_args!(\"a container holds one kind, found {{:?}} and {{:?}}\", prev.kind_name(), key))); }} found = Some(v); }}\nNone => return Err(serde::de::Error::unknown_field(key.as_ref(), &[])),\n}}\n}}\nfound.ok_or_else(|| serde::de::Error::custom(\"an empty container: exactly one kind is expected\"))\n}}\n}}\ndeserializer.deserialize_map(V)\n}}\n}}\n"
            );
        } else {
            // A struct: the kind plus the container properties.
            s.push_str(&docs(desc, None));
            s.push_str("#[derive(Debug, Clone, PartialEq)]\n");
            if optional_kind {
                let _ = writeln!(
                    s,
                    "pub struct {rust} {{\n/// The kind (at most one).\npub kind: Option<{enum_name}>,"
                );
            } else {
                let _ = writeln!(
                    s,
                    "pub struct {rust} {{\n/// The kind (exactly one).\npub kind: {enum_name},"
                );
            }
            for f in &shared {
                let mut f2 = (*f).clone();
                f2.json = f2.ident.clone();
                f2.aliases.clear();
                let mut decl = String::new();
                self.field_decl(&f2, boxed, &mut decl);
                let decl: String = decl
                    .lines()
                    .filter(|l| !l.starts_with("#[serde("))
                    .map(|l| format!("{l}\n"))
                    .collect();
                s.push_str(&decl);
            }
            s.push_str("}\n\n");
            let _ = writeln!(
                s,
                "impl Serialize for {rust} {{\nfn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\nuse serde::ser::SerializeMap;\nlet mut map = serializer.serialize_map(None)?;"
            );
            if optional_kind {
                s.push_str("if let Some(k) = &self.kind { k.serialize_entry(&mut map)?; }\n");
            } else {
                s.push_str("self.kind.serialize_entry(&mut map)?;\n");
            }
            for f in &shared {
                // Sub-aggregations are written as `aggs`, as the reference and elasticsearch-dsl
                // write them (`aggregations` is read too).
                let wire = if f.json == "aggregations" && f.aliases.iter().any(|a| a == "aggs") {
                    "aggs"
                } else {
                    f.json.as_str()
                };
                if f.required {
                    let _ = writeln!(
                        s,
                        "map.serialize_entry({}, &self.{})?;",
                        string_lit(wire),
                        f.ident
                    );
                } else {
                    let _ = writeln!(
                        s,
                        "if let Some(v) = &self.{} {{ map.serialize_entry({}, v)?; }}",
                        f.ident,
                        string_lit(wire)
                    );
                }
            }
            s.push_str("map.end()\n}\n}\n\n");
            let _ = writeln!(
                s,
                "impl<'de> Deserialize<'de> for {rust} {{\nfn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\nstruct V;\nimpl<'de> serde::de::Visitor<'de> for V {{\ntype Value = {rust};\nfn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.write_str({expecting}) }}\nfn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {{\nlet mut kind: Option<{enum_name}> = None;"
            );
            for f in &shared {
                let ty = if boxed(&f.by_value) {
                    format!("Box<{}>", f.ty)
                } else {
                    f.ty.clone()
                };
                let _ = writeln!(s, "let mut {}: Option<{ty}> = None;", local(&f.ident));
            }
            s.push_str("while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {\nmatch key.as_ref() {\n");
            for f in &shared {
                let mut pats = vec![string_lit(&f.json)];
                pats.extend(f.aliases.iter().map(|a| string_lit(a)));
                let _ = writeln!(
                    s,
                    "{} => {} = Some(map.next_value()?),",
                    pats.join(" | "),
                    local(&f.ident)
                );
            }
            let _ = writeln!(
                s,
                "k => match {enum_name}::deserialize_entry(k, &mut map)? {{\nSome(v) => {{ if let Some(prev) = &kind {{ return Err(serde::de::Error::custom(format_args!(\"a container holds one kind, found {{:?}} and {{:?}}\", prev.kind_name(), k))); }} kind = Some(v); }}\nNone => return Err(serde::de::Error::unknown_field(k, &[])),\n}},\n}}\n}}"
            );
            let mut build = if optional_kind {
                String::from("kind,")
            } else {
                String::from(
                    "kind: kind.ok_or_else(|| serde::de::Error::custom(\"no kind: exactly one is expected\"))?,",
                )
            };
            for f in &shared {
                if f.required {
                    let _ = write!(
                        build,
                        "{}: {}.ok_or_else(|| serde::de::Error::missing_field({}))?,",
                        f.ident,
                        local(&f.ident),
                        string_lit(&f.json)
                    );
                } else {
                    let _ = write!(build, "{}: {},", f.ident, local(&f.ident));
                }
            }
            let _ = writeln!(
                s,
                "Ok({rust} {{ {build} }})\n}}\n}}\ndeserializer.deserialize_map(V)\n}}\n}}\n"
            );
            if shared.iter().all(|f| !f.required) {
                let _ = writeln!(
                    s,
                    "impl From<{enum_name}> for {rust} {{\nfn from(kind: {enum_name}) -> Self {{ {rust} {{ kind: {}, {} }} }}\n}}\n",
                    if optional_kind { "Some(kind)" } else { "kind" },
                    shared
                        .iter()
                        .map(|f| format!("{}: None", f.ident))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        Ok(s)
    }

    fn enumeration(&self, t: &Value, rust: &str) -> Result<String> {
        let open = t["isOpen"] == true;
        let mut s = docs(&type_desc(t), t.get("deprecation"));
        if open {
            s.push_str("#[derive(Debug, Clone, PartialEq, Eq, Hash)]\n");
        } else {
            s.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n");
        }
        let _ = writeln!(s, "pub enum {rust} {{");
        let mut members = Vec::new();
        let mut used = BTreeSet::new();
        for m in t["members"].as_array().into_iter().flatten() {
            let name = m["name"].as_str().unwrap_or_default().to_string();
            let mut v = match m["codegenName"].as_str() {
                Some(c) => pascal(c),
                None => pascal(&name),
            };
            while !used.insert(v.clone()) {
                v.push('_');
            }
            let aliases: Vec<String> = m["aliases"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(String::from))
                .collect();
            s.push_str(&docs(
                m["description"].as_str().unwrap_or(&format!("`{name}`")),
                m.get("deprecation"),
            ));
            let _ = writeln!(s, "{v},");
            members.push((v, name, aliases));
        }
        if open {
            s.push_str("/// A value this version of the client does not know.\nOther(String),\n");
        }
        s.push_str("}\n\n");
        let _ = writeln!(
            s,
            "impl {rust} {{\n/// The JSON string.\npub fn as_str(&self) -> &str {{\nmatch self {{"
        );
        for (v, name, _) in &members {
            let _ = writeln!(s, "Self::{v} => {},", string_lit(name));
        }
        if open {
            s.push_str("Self::Other(s) => s,\n");
        }
        s.push_str("}\n}\n}\n\n");
        let _ = writeln!(
            s,
            "impl std::fmt::Display for {rust} {{\nfn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.write_str(self.as_str()) }}\n}}\n"
        );
        let _ = writeln!(
            s,
            "impl Serialize for {rust} {{\nfn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{ serializer.serialize_str(self.as_str()) }}\n}}\n"
        );
        let _ = writeln!(
            s,
            "impl<'de> Deserialize<'de> for {rust} {{\nfn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\nlet s = crate::types_support::StrOrScalar::deserialize(deserializer)?.0;\nOk(match s.as_ref() {{"
        );
        let mut all_names = Vec::new();
        for (v, name, aliases) in &members {
            let mut pats = vec![string_lit(name)];
            pats.extend(aliases.iter().map(|a| string_lit(a)));
            all_names.push(name.clone());
            let _ = writeln!(s, "{} => Self::{v},", pats.join(" | "));
        }
        if open {
            s.push_str("_ => Self::Other(s.into_owned()),\n");
        } else {
            let list = all_names
                .iter()
                .map(|n| string_lit(n))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                s,
                "other => return Err(serde::de::Error::unknown_variant(other, &[{list}])),"
            );
        }
        s.push_str("})\n}\n}\n\n");
        Ok(s)
    }

    fn alias(
        &self,
        t: &Value,
        rust: &str,
        module: &str,
        boxed: &dyn Fn(&[Name]) -> bool,
        extra: &mut Vec<String>,
    ) -> Result<String> {
        let env = self_env(t);
        let cx = Ctx {
            module,
            generics: &env,
            owner: rust,
        };
        let generics = generic_decl(t, false);
        let desc = &type_desc(t);
        let variants = &t["variants"];
        let items: Vec<Value> = if t["type"]["kind"] == "union_of" {
            t["type"]["items"].as_array().cloned().unwrap_or_default()
        } else {
            Vec::new()
        };
        match variants["kind"].as_str() {
            Some("internal_tag") => {
                return self.internal_tagged(t, rust, module, &items, boxed, extra);
            }
            Some("external_tag") => {
                return self.external_tagged(t, rust, module, &items, boxed, extra);
            }
            _ => {}
        }
        if t["type"]["kind"] == "union_of" {
            if let Some(one) = self.one_or_many(&items, &cx, rust, extra)? {
                let mut s = docs(desc, t.get("deprecation"));
                let _ = writeln!(s, "pub type {rust}{generics} = {one};");
                return Ok(s);
            }
            let untyped = variants.get("untypedVariant").map(name_of);
            let mut s = docs(desc, t.get("deprecation"));
            s.push_str(&self.untagged_enum(
                &format!("{rust}{generics}"),
                &items,
                untyped.as_ref(),
                &cx,
                extra,
                &[t],
            )?);
            let _ = boxed;
            return Ok(s);
        }
        let inner = self.ty(&t["type"], &cx, "Value", extra)?;
        let mut s = docs(desc, t.get("deprecation"));
        let _ = writeln!(s, "pub type {rust}{generics} = {inner};");
        Ok(s)
    }

    /// An untagged enum (serde tries the variants in order: scalars first, the untyped
    /// variant of a union first of all).
    fn untagged_enum(
        &self,
        name: &str,
        items: &[Value],
        untyped: Option<&Name>,
        cx: &Ctx<'_>,
        extra: &mut Vec<String>,
        _t: &[&Value],
    ) -> Result<String> {
        let base = name.split('<').next().unwrap_or(name).to_string();
        let mut variants = Vec::new();
        let mut canon = Vec::new();
        let mut used = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let ty = self.ty(
                item,
                cx,
                &format!("{}{i}", base.trim_start_matches(cx.owner)),
                extra,
            )?;
            let mut vname = variant_name(item, &ty);
            while !used.insert(vname.clone()) {
                vname.push('_');
            }
            let mut by_value = Vec::new();
            self.by_value(item, &mut by_value);
            let rank = if item["kind"] == "instance_of" && untyped == Some(&name_of(&item["type"]))
            {
                -1
            } else {
                self.rank(item, &ty)
            };
            variants.push((rank, i, vname, ty));
            canon.push(self.canon(
                item,
                &variants.last().map(|v| v.3.clone()).unwrap_or_default(),
            ));
        }
        let canon_of: Vec<(usize, String)> = variants
            .iter()
            .map(|v| v.1)
            .zip(canon.iter().cloned())
            .collect();
        variants.sort_by_key(|(r, i, _, _)| (*r, *i));
        // Variants told apart by the kind of JSON value alone get a visitor that reads the
        // value once and hands it to that variant (serde's untagged buffers the value and
        // tries each variant in turn, building an error for every miss).
        let by_kind = if untyped.is_none() {
            self.kind_dispatch(name, items, &variants)
        } else {
            None
        };
        let mut s = String::new();
        s.push_str(if by_kind.is_some() {
            "#[derive(Debug, Clone, PartialEq, Serialize)]\n#[serde(untagged)]\n"
        } else {
            "#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\n#[serde(untagged)]\n"
        });
        let _ = writeln!(s, "pub enum {name} {{");
        for (_, _, v, ty) in &variants {
            let _ = writeln!(s, "/// `{}`", ty.replace('`', ""));
            if ty == "()" {
                let _ = writeln!(s, "{v},");
            } else {
                let _ = writeln!(
                    s,
                    "{v}({}),",
                    if ty.contains(&base) && !ty.starts_with("Vec<") && !ty.starts_with("indexmap")
                    {
                        format!("Box<{ty}>")
                    } else {
                        ty.clone()
                    }
                );
            }
        }
        s.push_str("}\n\n");
        if let Some(imp) = by_kind {
            s.push_str(&imp);
        }
        // `From` each variant's type, where that type names one variant only.
        if !name.contains('<') {
            let count = |c: &str| canon_of.iter().filter(|(_, k)| k == c).count();
            let ints = canon_of
                .iter()
                .filter(|(_, k)| INTS.contains(&k.as_str()))
                .count();
            for (_, i, v, ty) in &variants {
                let c = &canon_of
                    .iter()
                    .find(|(j, _)| j == i)
                    .map(|x| x.1.clone())
                    .unwrap_or_default();
                if ty == "()" || count(c) != 1 {
                    continue;
                }
                let boxed =
                    ty.contains(&base) && !ty.starts_with("Vec<") && !ty.starts_with("indexmap");
                let wrap = if boxed { "Box::new(v)" } else { "v" };
                let _ = writeln!(
                    s,
                    "impl From<{ty}> for {base} {{\nfn from(v: {ty}) -> Self {{ Self::{v}({wrap}) }}\n}}\n"
                );
                if c == "String" {
                    let _ = writeln!(
                        s,
                        "impl From<&str> for {base} {{\nfn from(v: &str) -> Self {{ Self::{v}(v.to_string()) }}\n}}\n"
                    );
                }
                if c == "i64" && ints == 1 {
                    for small in ["i32", "u32", "i16", "u16", "i8", "u8"] {
                        let _ = writeln!(
                            s,
                            "impl From<{small}> for {base} {{\nfn from(v: {small}) -> Self {{ Self::{v}(v.into()) }}\n}}\n"
                        );
                    }
                }
            }
        }
        Ok(s)
    }

    /// The kind of JSON value a union item is read from, when it is exactly one kind
    /// (numbers: [`JsonKind::Int`] accepts integers only, [`JsonKind::Float`] any number).
    /// `None` when the item may take several kinds or its kind is not known here (enums,
    /// which also read scalars, nested unions, generic parameters, shortcut structs).
    fn json_kind(&self, item: &Value, ty: &str) -> Option<JsonKind> {
        match ty {
            "()" => return Some(JsonKind::Null),
            "bool" => return Some(JsonKind::Bool),
            "f32" | "f64" => return Some(JsonKind::Float),
            "String" => return Some(JsonKind::Str),
            _ if INTS.contains(&ty) => return Some(JsonKind::Int),
            _ => {}
        }
        match item["kind"].as_str()? {
            "array_of" => Some(JsonKind::Array),
            "dictionary_of" => Some(JsonKind::Object),
            "instance_of" => {
                let n = name_of(&item["type"]);
                if n.0 == "_builtins" {
                    return match n.1.as_str() {
                        "string" | "binary" => Some(JsonKind::Str),
                        "boolean" => Some(JsonKind::Bool),
                        "number" => Some(JsonKind::Float),
                        _ => None,
                    };
                }
                if n.0 == "_types"
                    && let Some((_, r)) = NUMBERS.iter().find(|(s, _)| *s == n.1)
                {
                    return Some(if INTS.contains(r) {
                        JsonKind::Int
                    } else {
                        JsonKind::Float
                    });
                }
                let t = self.get(&n)?;
                match t["kind"].as_str()? {
                    "interface" if t.get("shortcutProperty").is_none() => Some(JsonKind::Object),
                    "type_alias" if t.get("variants").is_none() => {
                        let target = &t["type"];
                        let kind = target["kind"].as_str()?;
                        if kind == "array_of" {
                            Some(JsonKind::Array)
                        } else if kind == "dictionary_of" {
                            Some(JsonKind::Object)
                        } else if kind == "instance_of" {
                            self.json_kind(target, "")
                        } else {
                            None
                        }
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A `Deserialize` impl for an untagged union whose variants each take one distinct
    /// kind of JSON value (an integer variant and a number variant may both be there:
    /// integers go to the first, as serde's untagged order would have it), reading the value
    /// through `deserialize_any` once. `None` when the variants cannot be told apart so.
    ///
    /// One difference from serde's untagged, on purpose: a struct variant is read from a JSON
    /// object only (serde's derived structs also take the array form, `[10000, "eq"]`, which
    /// Elasticsearch never writes).
    fn kind_dispatch(
        &self,
        name: &str,
        items: &[Value],
        variants: &[(i32, usize, String, String)],
    ) -> Option<String> {
        let mut by: BTreeMap<JsonKind, &str> = BTreeMap::new();
        for (_, i, v, ty) in variants {
            let kind = self.json_kind(&items[*i], ty)?;
            if by.insert(kind, v.as_str()).is_some() {
                return None;
            }
        }
        let (base, params) = match name.split_once('<') {
            Some((b, rest)) => (
                b.to_string(),
                rest.trim_end_matches('>')
                    .split(',')
                    .map(|p| p.split('=').next().unwrap_or(p).trim().to_string())
                    .collect::<Vec<_>>(),
            ),
            None => (name.to_string(), Vec::new()),
        };
        let plain = if params.is_empty() {
            base.clone()
        } else {
            format!("{base}<{}>", params.join(", "))
        };
        let bounds: String = params
            .iter()
            .map(|p| format!(", {p}: Deserialize<'de>"))
            .collect();
        let expecting: Vec<&str> = by.keys().map(|k| k.describe()).collect();
        // The arms of `types_support::by_kind!`, which writes the visitor.
        let mut arms = Vec::new();
        for (kind, v) in &by {
            let arm = match kind {
                JsonKind::Null => format!("null => {v}"),
                JsonKind::Bool => format!("bool => {v}"),
                JsonKind::Int => match by.get(&JsonKind::Float) {
                    // In the order serde's untagged would try them (the variants' sorted order).
                    Some(f) => {
                        let pos = |n: &str| variants.iter().position(|(_, _, x, _)| x == n);
                        if pos(v) <= pos(f) {
                            format!("int_float => {v} / {f}")
                        } else {
                            format!("float_int => {f} / {v}")
                        }
                    }
                    None => format!("int => {v}"),
                },
                JsonKind::Float if by.contains_key(&JsonKind::Int) => continue,
                JsonKind::Float => format!("float => {v}"),
                JsonKind::Str => format!("str => {v}"),
                JsonKind::Array => format!("seq => {v}"),
                JsonKind::Object => format!("map => {v}"),
            };
            arms.push(arm);
        }
        let mut s = String::new();
        let _ = writeln!(
            s,
            "impl<'de{bounds}> Deserialize<'de> for {plain} {{\n\
             fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n\
             crate::types_support::by_kind!(deserializer, {plain}, [{}], \"{}\", {{ {} }})\n}}\n}}\n",
            params.join(", "),
            expecting.join(", or "),
            arms.join(", ")
        );
        Some(s)
    }

    /// The type an untagged variant holds, with plain aliases resolved (`Field` is `String`),
    /// so that two variants of one Rust type are told apart from two of different types.
    fn canon(&self, item: &Value, rendered: &str) -> String {
        if item["kind"] == "instance_of" {
            let n = name_of(&item["type"]);
            if n.0 == "_types"
                && let Some((_, r)) = NUMBERS.iter().find(|(s, _)| *s == n.1)
            {
                return r.to_string();
            }
            if let Some(t) = self.get(&n)
                && t["kind"] == "type_alias"
                && t.get("variants").is_none()
                && t["type"]["kind"] == "instance_of"
            {
                return self.canon(&t["type"], "");
            }
            if n.0 == "_builtins" {
                return match n.1.as_str() {
                    "string" | "binary" => "String",
                    "boolean" => "bool",
                    "number" => "f64",
                    _ => "()",
                }
                .to_string();
            }
            if n.0 == "_types"
                && let Some((_, r)) = NUMBERS.iter().find(|(s, _)| *s == n.1)
            {
                return r.to_string();
            }
            return format!("{n:?}");
        }
        if rendered.is_empty() {
            item.to_string()
        } else {
            rendered.to_string()
        }
    }

    /// Deserialization order of an untagged variant: null, bool, integers, floats, strings
    /// and enums, arrays, objects.
    fn rank(&self, item: &Value, ty: &str) -> i32 {
        match ty {
            "()" => 0,
            "bool" => 1,
            "i8" | "i16" | "i32" | "i64" | "u32" | "u64" => 2,
            "f32" | "f64" => 3,
            "String" => 4,
            _ if ty.starts_with("Vec<") => 6,
            _ => {
                if item["kind"] == "instance_of"
                    && let Some(t) = self.get(&name_of(&item["type"]))
                {
                    match t["kind"].as_str() {
                        Some("enum") => return 5,
                        Some("type_alias") => return 7,
                        Some("interface") => {
                            // Interfaces with required properties are more specific.
                            let required = t["properties"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter(|p| p["required"] == true)
                                .count();
                            return if required > 0 { 8 } else { 9 };
                        }
                        _ => {}
                    }
                }
                7
            }
        }
    }

    /// An internally tagged union (`Property` by `type`).
    fn internal_tagged(
        &self,
        t: &Value,
        rust: &str,
        module: &str,
        items: &[Value],
        _boxed: &dyn Fn(&[Name]) -> bool,
        extra: &mut Vec<String>,
    ) -> Result<String> {
        let tag = t["variants"]["tag"]
            .as_str()
            .context("internal tag without tag")?;
        let default = t["variants"]["defaultTag"].as_str();
        let non_exhaustive = t["variants"]["nonExhaustive"] == true;
        let mut s = docs(&type_desc(t), t.get("deprecation"));
        s.push_str("#[derive(Debug, Clone, PartialEq)]\n");
        let _ = writeln!(s, "pub enum {rust} {{");
        let mut arms = Vec::new();
        for item in items {
            let n = name_of(&item["type"]);
            let it = self.get(&n).with_context(|| format!("variant {n:?}"))?;
            let value = tag_value(self, it, tag)
                .with_context(|| format!("{n:?} has no literal `{tag}`"))?;
            let v = pascal(&value);
            let path = self.path(&n, module);
            let _ = writeln!(s, "/// `\"{tag}\": \"{value}\"`\n{v}({path}),");
            arms.push((v, value, path));
        }
        if non_exhaustive {
            let _ = writeln!(
                s,
                "/// A `{tag}` this version of the client does not know, as raw JSON.\nUnknown(serde_json::Value),"
            );
        }
        s.push_str("}\n\n");
        let _ = extra;
        let _ = writeln!(
            s,
            "impl {rust} {{\n/// The `{tag}` of this variant.\npub fn tag(&self) -> Option<&str> {{\nmatch self {{"
        );
        for (v, value, _) in &arms {
            let _ = writeln!(s, "Self::{v}(_) => Some({}),", string_lit(value));
        }
        if non_exhaustive {
            let _ = writeln!(
                s,
                "Self::Unknown(v) => v.get({}).and_then(|t| t.as_str()),",
                string_lit(tag)
            );
        }
        s.push_str("}\n}\n}\n\n");
        let _ = writeln!(
            s,
            "impl Serialize for {rust} {{\nfn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\nlet (tag, inner) = match self {{"
        );
        for (v, value, _) in &arms {
            let _ = writeln!(
                s,
                "Self::{v}(x) => ({}, serde_json::to_value(x).map_err(serde::ser::Error::custom)?),",
                string_lit(value)
            );
        }
        if non_exhaustive {
            s.push_str("Self::Unknown(v) => return v.serialize(serializer),\n");
        }
        let _ = writeln!(
            s,
            "}};\ncrate::types_support::with_tag({}, tag, inner).serialize(serializer)\n}}\n}}\n",
            string_lit(tag)
        );
        let default_expr = match default {
            Some(d) => string_lit(d),
            None => "\"\"".to_string(),
        };
        let _ = writeln!(
            s,
            "impl<'de> Deserialize<'de> for {rust} {{\nfn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\nlet v = serde_json::Value::deserialize(deserializer)?;\nlet tag = v.get({}).and_then(|t| t.as_str()).unwrap_or({default_expr}).to_string();\nlet de = |v: serde_json::Value| crate::types_support::without_tag({}, v);\nOk(match tag.as_str() {{",
            string_lit(tag),
            string_lit(tag)
        );
        for (v, value, _) in &arms {
            let _ = writeln!(
                s,
                "{} => Self::{v}(serde_json::from_value(de(v)).map_err(serde::de::Error::custom)?),",
                string_lit(value)
            );
        }
        if non_exhaustive {
            s.push_str("_ => Self::Unknown(v),\n");
        } else {
            let _ = writeln!(
                s,
                "other => return Err(serde::de::Error::custom(format_args!(\"unknown {} {{other:?}}\"))),",
                tag
            );
        }
        s.push_str("})\n}\n}\n\n");
        Ok(s)
    }

    /// An externally tagged union (`Aggregate` under `typed_keys`).
    fn external_tagged(
        &self,
        t: &Value,
        rust: &str,
        module: &str,
        items: &[Value],
        _boxed: &dyn Fn(&[Name]) -> bool,
        _extra: &mut Vec<String>,
    ) -> Result<String> {
        let non_exhaustive = t["variants"]["nonExhaustive"] == true;
        let generics = generic_params(t);
        let args = if generics.is_empty() {
            String::new()
        } else {
            format!("<{}>", generics.join(", "))
        };
        let decl = generic_decl(t, false);
        let mut s = docs(&type_desc(t), t.get("deprecation"));
        s.push_str("///\n/// Read from keys of the form `tag#name` (`typed_keys`); see [`TypedKeys`].\n#[derive(Debug, Clone, PartialEq)]\n");
        let _ = writeln!(s, "pub enum {rust}{decl} {{");
        let mut arms = Vec::new();
        let mut used = BTreeSet::new();
        for item in items {
            let n = name_of(&item["type"]);
            let it = self.get(&n).with_context(|| format!("variant {n:?}"))?;
            let tag = it["variantName"]
                .as_str()
                .with_context(|| format!("{n:?} has no variantName"))?
                .to_string();
            let cx = Ctx {
                module,
                generics: &self_env(t),
                owner: rust,
            };
            let mut x = Vec::new();
            let ty = self.ty(item, &cx, "V", &mut x)?;
            let mut v = pascal(
                &self.rust_names[&n]
                    .trim_end_matches("Aggregate")
                    .replace(rust, ""),
            );
            if v.is_empty() {
                v = pascal(&tag);
            }
            while !used.insert(v.clone()) {
                v.push('_');
            }
            let _ = writeln!(s, "/// `{tag}#…`\n{v}({ty}),");
            arms.push((v, tag, ty));
        }
        s.push_str("/// A result read without `typed_keys` (no tag), or of a kind this version of the client\n/// does not know: the tag, if any, and the raw JSON.\nUnknown(Option<String>, serde_json::Value),\n");
        let _ = non_exhaustive;
        s.push_str("}\n\n");
        let ser_bounds = generics
            .iter()
            .map(|g| format!("{g}: Serialize"))
            .collect::<Vec<_>>()
            .join(", ");
        let de_bounds: String = generics
            .iter()
            .map(|g| format!(", {g}: Deserialize<'de>"))
            .collect();
        let _ = writeln!(
            s,
            "impl{} ExternallyTagged for {rust}{args} {{\nfn tag(&self) -> Option<&str> {{\nmatch self {{",
            if generics.is_empty() {
                String::new()
            } else {
                format!("<{ser_bounds}>")
            }
        );
        for (v, tag, _) in &arms {
            let _ = writeln!(s, "Self::{v}(_) => Some({}),", string_lit(tag));
        }
        s.push_str("Self::Unknown(t, _) => t.as_deref(),\n}\n}\n}\n\n");
        let _ = writeln!(
            s,
            "impl{} Serialize for {rust}{args} {{\nfn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\nmatch self {{",
            if generics.is_empty() {
                String::new()
            } else {
                format!("<{ser_bounds}>")
            }
        );
        for (v, _, _) in &arms {
            let _ = writeln!(s, "Self::{v}(x) => x.serialize(serializer),");
        }
        s.push_str("Self::Unknown(_, x) => x.serialize(serializer),\n}\n}\n}\n\n");
        let _ = writeln!(
            s,
            "impl<'de{de_bounds}> DeserializeTagged<'de> for {rust}{args} {{\nfn deserialize_tagged<D: serde::Deserializer<'de>>(tag: Option<&str>, deserializer: D) -> Result<Self, D::Error> {{\nOk(match tag {{"
        );
        for (v, tag, _) in &arms {
            let _ = writeln!(
                s,
                "Some({}) => Self::{v}(Deserialize::deserialize(deserializer)?),",
                string_lit(tag)
            );
        }
        s.push_str("other => Self::Unknown(other.map(String::from), Deserialize::deserialize(deserializer)?),\n})\n}\n}\n\n");
        let _ = writeln!(
            s,
            "impl<'de{de_bounds}> Deserialize<'de> for {rust}{args} {{\n/// Without a tag, the value is kept raw ([`{rust}::Unknown`]).\nfn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{ Self::deserialize_tagged(None, deserializer) }}\n}}\n"
        );
        Ok(s)
    }
}

/// The value of the literal `tag` property of a variant type (or its parents).
fn tag_value(g: &Gen, t: &Value, tag: &str) -> Option<String> {
    for p in t["properties"].as_array().into_iter().flatten() {
        if p["name"] == tag && p["type"]["kind"] == "literal_value" {
            return p["type"]["value"]
                .as_str()
                .map(String::from)
                .or_else(|| Some(p["type"]["value"].to_string()));
        }
    }
    let inh = t.get("inherits")?;
    tag_value(g, g.get(&name_of(&inh["type"]))?, tag)
}

/// Named types mentioned by a value.
fn value_refs(v: &Value, out: &mut Vec<Name>) {
    match v["kind"].as_str() {
        Some("instance_of") => {
            out.push(name_of(&v["type"]));
            for g in v["generics"].as_array().into_iter().flatten() {
                value_refs(g, out);
            }
        }
        Some("array_of") => value_refs(&v["value"], out),
        Some("dictionary_of") => {
            value_refs(&v["key"], out);
            value_refs(&v["value"], out);
        }
        Some("union_of") => {
            for i in v["items"].as_array().into_iter().flatten() {
                value_refs(i, out);
            }
        }
        _ => {}
    }
}

fn generic_params(t: &Value) -> Vec<String> {
    t["generics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| g["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The generic parameters of a type mapped to themselves.
fn self_env(t: &Value) -> HashMap<String, String> {
    generic_params(t)
        .into_iter()
        .map(|p| (p.clone(), p))
        .collect()
}

/// `<TDocument = serde_json::Value>` (defaults on structs and enums that take a document).
fn generic_decl(t: &Value, defaults: bool) -> String {
    let params = generic_params(t);
    if params.is_empty() {
        return String::new();
    }
    let _ = defaults;
    let list: Vec<String> = params
        .iter()
        .map(|p| {
            if p == "TDocument" {
                format!("{p} = serde_json::Value")
            } else {
                p.clone()
            }
        })
        .collect();
    format!("<{}>", list.join(", "))
}

/// A type name kept as the spec spells it, made a valid identifier.
fn pascal_keep(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric())
        && name.starts_with(|c: char| c.is_ascii_uppercase())
    {
        name.to_string()
    } else {
        pascal(name)
    }
}

/// A struct field identifier: snake_case, leading underscores dropped, keywords escaped.
fn field_ident(name: &str) -> String {
    let trimmed = name.trim_start_matches(['_', '@']);
    let mut out = String::new();
    let mut prev_lower = false;
    for c in trimmed.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'f');
    }
    if is_keyword(&out) {
        out.push('_');
    }
    out
}

fn local(ident: &str) -> String {
    format!("f_{}", ident.trim_end_matches('_'))
}

/// A variant name for an untagged union item.
fn variant_name(item: &Value, ty: &str) -> String {
    match item["kind"].as_str() {
        Some("instance_of") => {
            let n = item["type"]["name"].as_str().unwrap_or("Value");
            match ty {
                "()" => "Null".to_string(),
                "bool" => "Bool".to_string(),
                "String" if n == "string" => "String".to_string(),
                "f64" | "f32" | "i64" | "i32" | "i16" | "i8" | "u32" | "u64"
                    if item["type"]["namespace"] == "_builtins" =>
                {
                    "Number".to_string()
                }
                _ => pascal(n),
            }
        }
        Some("array_of") if ty.starts_with("Vec<T") && !ty.contains("::") => "Array".to_string(),
        Some("array_of") => format!(
            "{}List",
            variant_name(
                &item["value"],
                ty.trim_start_matches("Vec<").trim_end_matches('>')
            )
        ),
        Some("dictionary_of") => "Map".to_string(),
        Some("user_defined_value") => "Value".to_string(),
        Some("literal_value") => pascal(&item["value"].to_string().replace('"', "")),
        _ => "Other".to_string(),
    }
}

fn deprecation_note(d: &Value) -> String {
    let version = d["version"].as_str().unwrap_or("");
    let desc = d["description"].as_str().unwrap_or("").trim();
    match (version.is_empty(), desc.is_empty()) {
        (false, false) => format!("deprecated in Elasticsearch {version}: {desc}"),
        (false, true) => format!("deprecated in Elasticsearch {version}"),
        (true, false) => desc.to_string(),
        (true, true) => "deprecated".to_string(),
    }
}

/// Doc comment lines for a description (and a `#[deprecated]` when given).
fn type_desc(t: &Value) -> String {
    match t["description"].as_str() {
        Some(d) if !d.trim().is_empty() => d.to_string(),
        _ => format!(
            "The `{}` type of the specification (`{}`).",
            t["name"]["name"].as_str().unwrap_or_default(),
            t["name"]["namespace"].as_str().unwrap_or_default()
        ),
    }
}

fn docs(desc: &str, deprecation: Option<&Value>) -> String {
    let mut s = String::new();
    // Code fences and indentation would become doctests: plain prose only.
    let cleaned: String = desc
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n");
    for line in doc_text(&cleaned) {
        if line.is_empty() {
            s.push_str("///\n");
        } else {
            let _ = writeln!(s, "/// {line}");
        }
    }
    if let Some(d) = deprecation {
        let _ = writeln!(
            s,
            "#[deprecated(note = {})]",
            string_lit(&deprecation_note(d))
        );
    }
    s
}

const HEADER: &str = "// @generated by cargo xtask codegen — do not edit\n// From ../shared/elasticsearch-specification/schema.json; the generator is\n// xtask/src/codegen/types.rs.\n\n";

/// The identity of an item for de-duplication: its declaration line.
fn item_name(item: &str) -> String {
    item.lines()
        .find(|l| l.starts_with("pub ") || l.starts_with("impl"))
        .unwrap_or(item)
        .to_string()
}
