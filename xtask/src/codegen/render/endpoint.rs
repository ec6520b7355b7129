//! `generated/<namespace>/<endpoint>.rs`: the request builder of one endpoint.

use std::fmt::Write as _;

use super::super::model::{Body, Endpoint, Namespace, Param, Part, ValueType, part_needs};
use super::super::naming::string_lit;
use super::super::spec::Stability;
use super::{deprecated_attr, doc, doc_paragraph, doc_raw, file_start, required_arg};

/// Renders one builder file.
pub(super) fn render(ns: &Namespace, ep: &Endpoint) -> String {
    let summary = ep
        .description
        .as_deref()
        .and_then(|d| d.lines().next())
        .unwrap_or("");
    let mut out = file_start(&format!(
        "The `{}` endpoint{}{}",
        ep.name,
        if summary.is_empty() { "." } else { ": " },
        summary.replace('`', "'")
    ));
    // Type docs: description, link, how to get one, stability, deprecation.
    match &ep.description {
        Some(d) => doc(&mut out, d),
        None => doc(&mut out, &format!("The `{}` endpoint.", ep.name)),
    }
    if let Some(url) = &ep.doc_url {
        doc_paragraph(&mut out, url);
    }
    let origin = match &ns.spec_name {
        None => format!("[`Client::{m}`](crate::Client::{m})", m = ep.method),
        Some(_) => format!(
            "[`{t}::{m}`](super::{t}::{m})",
            t = ns.type_name,
            m = ep.method
        ),
    };
    let answer = if ep.head {
        "`Ok(true)` for a 2xx status, `Ok(false)` for 404"
    } else {
        "a [`Response`](crate::Response)"
    };
    doc_raw(
        &mut out,
        &format!("Made by {origin}; `.send().await` (or `.await`) answers {answer}."),
    );
    body_doc(&mut out, &ep.body);
    match ep.stability {
        Stability::Stable => {}
        Stability::Beta => doc_raw(
            &mut out,
            "**Beta** API (cargo feature `beta-apis`): it may change in future releases.",
        ),
        Stability::Experimental => doc_raw(
            &mut out,
            "**Experimental** API (cargo feature `experimental-apis`): it may change or be removed.",
        ),
    }
    if let Some(flag) = &ep.feature_flag {
        doc_paragraph(
            &mut out,
            &format!("Only available when the server enables the feature flag `{flag}`."),
        );
    }
    deprecated_attr(&mut out, &ep.deprecated);
    if ep.hidden {
        out.push_str("#[doc(hidden)]\n");
    }
    let t = &ep.type_name;
    let _ = writeln!(
        out,
        "#[derive(Debug, Clone)]\n#[must_use = \"a request does nothing until it is sent\"]\npub struct {t} {{\ninner: crate::endpoint::Builder,\n}}\n"
    );
    let _ = writeln!(out, "impl {t} {{");
    // Constructor: required parts and query parameters, already converted by the accessor.
    let mut args = vec!["client: &crate::Client".to_owned()];
    for p in &ep.required {
        args.push(format!("{}: {}", p.ident, concrete_part_type(p)));
    }
    for p in &ep.required_params {
        args.push(format!(
            "{}: {}",
            p.ident,
            required_arg(&p.ty, &p.ident).concrete
        ));
    }
    let _ = writeln!(
        out,
        "pub(crate) fn new({}) -> Self {{\n{}crate::endpoint::Builder::new(client, &super::{});",
        args.join(", "),
        if ep.required.is_empty() && ep.required_params.is_empty() {
            "let inner = "
        } else {
            "let mut inner = "
        },
        ep.static_name
    );
    for p in &ep.required {
        let _ = writeln!(
            out,
            "inner.part({}, {});",
            string_lit(&p.name),
            part_value(p, &p.ident)
        );
    }
    for p in &ep.required_params {
        let _ = writeln!(
            out,
            "inner.query({}, {});",
            string_lit(&p.name),
            required_arg(&p.ty, &p.ident).value
        );
    }
    out.push_str("Self { inner }\n}\n\n");
    for p in &ep.optional {
        // The setters of the parts it needs.
        let needs: Vec<String> = part_needs(&ep.paths, &ep.required, &p.name)
            .iter()
            .map(|n| {
                ep.optional
                    .iter()
                    .find(|o| &o.name == n)
                    .map_or_else(|| n.clone(), |o| o.ident.clone())
            })
            .collect();
        optional_part(&mut out, p, &needs);
    }
    for p in &ep.params {
        param(&mut out, p);
    }
    out.push_str("}\n\n");
    let _ = writeln!(out, "crate::endpoint::impl_common!({t});");
    if ep.head {
        let _ = writeln!(out, "crate::endpoint::impl_send_exists!({t});");
    } else {
        let _ = writeln!(out, "crate::endpoint::impl_send!({t});");
    }
    match ep.body {
        Body::None => {}
        Body::Json { .. } => {
            let _ = writeln!(out, "crate::endpoint::impl_json_body!({t});");
        }
        Body::NdJson { .. } => {
            let _ = writeln!(out, "crate::endpoint::impl_ndjson_body!({t});");
        }
    }
    out
}

/// The type docs on the body: whether it is required, what it is.
fn body_doc(out: &mut String, body: &Body) {
    let (required, description) = match body {
        Body::None => return,
        Body::Json {
            required,
            description,
        }
        | Body::NdJson {
            required,
            description,
        } => (*required, description),
    };
    let description = description.as_deref().filter(|d| !d.trim().is_empty());
    if required {
        doc_raw(
            out,
            "The body is **required**: set it with `.body(..)` or `.raw_body(..)`; `send` fails \
             without it, before sending.",
        );
        if let Some(d) = description {
            doc_paragraph(out, &format!("Body: {d}"));
        }
    } else if let Some(d) = description {
        doc_paragraph(out, &format!("Body (optional): {d}"));
    }
}

fn concrete_part_type(p: &Part) -> String {
    match &p.ty {
        ValueType::Str => "String".to_owned(),
        ValueType::List => "crate::params::List".to_owned(),
        ValueType::Integer => "i64".to_owned(),
        ValueType::Enum(name) => format!("crate::generated::params::{name}"),
        other => unreachable!("parts are never {other:?}"),
    }
}

/// The expression handing a part or parameter value to the builder.
fn part_value(p: &Part, var: &str) -> String {
    match &p.ty {
        ValueType::Enum(_) => format!("{var}.as_str()"),
        _ => var.to_owned(),
    }
}

fn optional_part(out: &mut String, p: &Part, needs: &[String]) {
    doc(out, p.description.as_deref().unwrap_or(&p.name));
    doc_paragraph(
        out,
        "Path part: the request goes to the path that takes the most of the parts set.",
    );
    if !needs.is_empty() {
        let needs: Vec<String> = needs.iter().map(|n| format!("`{n}`")).collect();
        doc_paragraph(
            out,
            &format!(
                "Only a path with {} takes it: set {} too, or `send` fails.",
                needs.join(" and "),
                if needs.len() == 1 { "that" } else { "those" }
            ),
        );
    }
    let (arg, value) = match &p.ty {
        ValueType::Str => ("impl Into<String>".to_owned(), "value.into()".to_owned()),
        ValueType::List => (
            "impl Into<crate::params::List>".to_owned(),
            "value.into()".to_owned(),
        ),
        ValueType::Integer => ("i64".to_owned(), "value".to_owned()),
        ValueType::Enum(name) => (
            format!("crate::generated::params::{name}"),
            "value.as_str()".to_owned(),
        ),
        other => unreachable!("parts are never {other:?}"),
    };
    let _ = writeln!(
        out,
        "pub fn {}(mut self, value: {arg}) -> Self {{\nself.inner.part({}, {value});\nself\n}}\n",
        p.ident,
        string_lit(&p.name)
    );
}

fn param(out: &mut String, p: &Param) {
    doc(out, p.description.as_deref().unwrap_or(&p.name));
    if let Some(default) = &p.default {
        doc_paragraph(
            out,
            &format!("Server default: `{}`.", default.replace('`', "'")),
        );
    }
    deprecated_attr(out, &p.deprecated);
    if p.hidden {
        out.push_str("#[doc(hidden)]\n");
    }
    let (arg, value) = match &p.ty {
        ValueType::Bool => ("bool".to_owned(), "value".to_owned()),
        ValueType::Integer => ("impl Into<i64>".to_owned(), "value.into()".to_owned()),
        ValueType::Number => ("impl Into<f64>".to_owned(), "value.into()".to_owned()),
        ValueType::Time => (
            "impl Into<crate::params::Time>".to_owned(),
            "value.into()".to_owned(),
        ),
        ValueType::Date => (
            "impl Into<crate::params::Date>".to_owned(),
            "value.into()".to_owned(),
        ),
        ValueType::Str => ("impl Into<String>".to_owned(), "value.into()".to_owned()),
        ValueType::List => (
            "impl Into<crate::params::List>".to_owned(),
            "value.into()".to_owned(),
        ),
        ValueType::Scalar => (
            "impl Into<crate::params::Scalar>".to_owned(),
            "value.into()".to_owned(),
        ),
        ValueType::ActiveShards => (
            "impl Into<crate::params::ActiveShards>".to_owned(),
            "value.into()".to_owned(),
        ),
        ValueType::Enum(name) => (
            format!("impl Into<crate::generated::params::{name}>"),
            "value.into().as_str()".to_owned(),
        ),
        ValueType::EnumList(name) => (
            format!("impl IntoIterator<Item = crate::generated::params::{name}>"),
            format!(
                "crate::params::List::from_iter(value.into_iter().map(crate::generated::params::{name}::as_str))"
            ),
        ),
    };
    let _ = writeln!(
        out,
        "pub fn {}(mut self, value: {arg}) -> Self {{\nself.inner.query({}, {value});\nself\n}}\n",
        p.ident,
        string_lit(&p.name)
    );
}
