//! `generated/mod.rs` (namespace accessors on `Client`, the endpoint table) and
//! `generated/<namespace>/mod.rs` (the namespace handle, endpoint methods, endpoint specs).

use std::fmt::Write as _;

use super::super::model::{Api, Body, Endpoint, Gate, Namespace, Part, ValueType};
use super::super::naming::string_lit;
use super::{cfg, deprecated_attr, doc, doc_paragraph, file_start, required_arg};

/// `generated/mod.rs`.
pub(super) fn render_root_mod(api: &Api) -> String {
    let count: usize = api.namespaces.iter().map(|n| n.endpoints.len()).sum();
    let mut out = file_start(&format!(
        "The API generated from the REST spec: {count} endpoints in {} namespaces.",
        api.namespaces.len() - 1
    ));
    // Generated code refers to its own deprecated items; users still get the warnings.
    // `inference::inference` (module named like its namespace) is the spec's naming.
    out.push_str("#![allow(deprecated, clippy::module_inception)]\n\n");
    out.push_str("pub(crate) mod params;\n");
    for ns in &api.namespaces {
        let _ = writeln!(out, "pub mod {};", ns.module);
    }
    out.push_str("\nimpl crate::Client {\n");
    for ns in api.namespaces.iter().filter(|n| n.spec_name.is_some()) {
        let name = ns.spec_name.as_deref().unwrap_or_default();
        let _ = writeln!(
            out,
            "/// The `{name}` namespace: endpoints named `{name}.*`."
        );
        cfg(&mut out, ns.gate);
        if ns.endpoints.iter().all(|e| e.hidden) {
            out.push_str("#[doc(hidden)]\n");
        }
        let _ = writeln!(
            out,
            "pub fn {m}(&self) -> {m}::{t}<'_> {{\n{m}::{t}::new(self)\n}}\n",
            m = ns.module,
            t = ns.type_name
        );
    }
    out.push_str("}\n\n");
    let mut all: Vec<(&str, String)> = api
        .namespaces
        .iter()
        .flat_map(|ns| {
            ns.endpoints.iter().map(move |ep| {
                (
                    ep.name.as_str(),
                    format!("&{}::{}", ns.module, ep.static_name),
                )
            })
        })
        .collect();
    all.sort();
    let _ = writeln!(
        out,
        "/// Every endpoint, sorted by name (for the dynamic `Client::call`).\npub(crate) static ENDPOINTS: [&crate::endpoint::EndpointSpec; {}] = [",
        all.len()
    );
    for (_, path) in all {
        let _ = writeln!(out, "{path},");
    }
    out.push_str("];\n");
    out
}

/// `generated/<namespace>/mod.rs`.
pub(super) fn render(ns: &Namespace) -> String {
    let mut out = match &ns.spec_name {
        None => {
            file_start("Endpoints at the root of the API, called on the client: `client.search()`.")
        }
        Some(name) => file_start(&format!(
            "The `{name}` namespace: `client.{}()`.",
            ns.module
        )),
    };
    for ep in &ns.endpoints {
        cfg(&mut out, ep.gate);
        let _ = writeln!(out, "mod {};", ep.module);
        cfg(&mut out, ep.gate);
        let _ = writeln!(out, "pub use {}::{};", ep.module, ep.type_name);
    }
    out.push('\n');
    let (client_expr, impl_head) = match &ns.spec_name {
        None => ("self", "impl crate::Client {".to_owned()),
        Some(name) => {
            let _ = writeln!(
                out,
                "/// The `{name}` namespace, from [`Client::{m}`](crate::Client::{m}).\n#[derive(Debug, Clone, Copy)]",
                m = ns.module
            );
            cfg(&mut out, ns.gate);
            let _ = writeln!(
                out,
                "pub struct {t}<'a> {{\nclient: &'a crate::Client,\n}}\n",
                t = ns.type_name
            );
            cfg(&mut out, ns.gate);
            let _ = writeln!(
                out,
                "impl<'a> {t}<'a> {{\npub(crate) fn new(client: &'a crate::Client) -> Self {{\nSelf {{ client }}\n}}\n}}\n",
                t = ns.type_name
            );
            ("self.client", format!("impl {}<'_> {{", ns.type_name))
        }
    };
    if ns.gate != Gate::None {
        cfg(&mut out, ns.gate);
    }
    out.push_str(&impl_head);
    out.push('\n');
    for ep in &ns.endpoints {
        accessor(&mut out, ep, client_expr);
    }
    out.push_str("}\n\n");
    for ep in &ns.endpoints {
        spec_static(&mut out, ep);
    }
    out
}

/// The Rust argument type of a required part on the accessor, and the conversion.
fn part_arg(part: &Part) -> (String, &'static str) {
    match &part.ty {
        ValueType::Str => ("impl Into<String>".to_owned(), ".into()"),
        ValueType::List => ("impl Into<crate::params::List>".to_owned(), ".into()"),
        ValueType::Integer => ("i64".to_owned(), ""),
        ValueType::Enum(name) => (format!("crate::generated::params::{name}"), ""),
        other => unreachable!("parts are never {other:?}"),
    }
}

fn accessor(out: &mut String, ep: &Endpoint, client_expr: &str) {
    let summary = ep.description.as_deref().unwrap_or(&ep.name);
    doc(out, summary.lines().next().unwrap_or_default());
    if let Some(url) = &ep.doc_url {
        doc_paragraph(out, url);
    }
    let first_line = |d: &Option<String>| {
        d.as_deref()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
            .to_owned()
    };
    if !ep.required.is_empty() || !ep.required_params.is_empty() {
        out.push_str("///\n/// # Arguments\n///\n");
        for p in &ep.required {
            doc(
                out,
                &format!("- `{}`: {}", p.ident, first_line(&p.description)),
            );
        }
        for p in &ep.required_params {
            let desc = first_line(&p.description);
            let sep = if desc.is_empty() || desc.ends_with('.') {
                ""
            } else {
                "."
            };
            doc(
                out,
                &format!(
                    "- `{}`: {desc}{sep} Required query parameter `{}`.",
                    p.ident, p.name
                ),
            );
        }
    }
    let _ = writeln!(
        out,
        "///\n/// Sets up [`{t}`]; send it with `.send().await` (or `.await` it).",
        t = ep.type_name
    );
    if matches!(
        ep.body,
        Body::Json { required: true, .. } | Body::NdJson { required: true, .. }
    ) {
        out.push_str(
            "/// The body is required: set it with `.body(..)`; `send` fails without it.\n",
        );
    }
    cfg(out, ep.gate);
    deprecated_attr(out, &ep.deprecated);
    if ep.hidden {
        out.push_str("#[doc(hidden)]\n");
    }
    let args: Vec<String> = ep
        .required
        .iter()
        .map(|p| format!("{}: {}", p.ident, part_arg(p).0))
        .chain(
            ep.required_params
                .iter()
                .map(|p| format!("{}: {}", p.ident, required_arg(&p.ty, &p.ident).arg)),
        )
        .collect();
    let values: Vec<String> = ep
        .required
        .iter()
        .map(|p| format!("{}{}", p.ident, part_arg(p).1))
        .chain(
            ep.required_params
                .iter()
                .map(|p| required_arg(&p.ty, &p.ident).convert),
        )
        .collect();
    let mut call_args = vec![client_expr.to_owned()];
    call_args.extend(values);
    let _ = writeln!(
        out,
        "pub fn {m}(&self{sep}{args}) -> {t} {{\n{t}::new({call})\n}}\n",
        m = ep.method,
        sep = if args.is_empty() { "" } else { ", " },
        args = args.join(", "),
        t = ep.type_name,
        call = call_args.join(", ")
    );
}

fn spec_static(out: &mut String, ep: &Endpoint) {
    let _ = writeln!(
        out,
        "pub(crate) static {}: crate::endpoint::EndpointSpec = crate::endpoint::EndpointSpec {{\nname: {},\npaths: &[",
        ep.static_name,
        string_lit(&ep.name)
    );
    for p in &ep.paths {
        let parts: Vec<String> = p.parts.iter().map(|s| string_lit(s)).collect();
        let methods: Vec<String> = p
            .methods
            .iter()
            .map(|m| format!("http::Method::{m}"))
            .collect();
        let _ = writeln!(
            out,
            "crate::endpoint::PathSpec::new({}, &[{}], &[{}]),",
            string_lit(&p.template),
            parts.join(", "),
            methods.join(", ")
        );
    }
    let (body, body_required) = match ep.body {
        Body::None => ("None", false),
        Body::Json { required, .. } => ("Json", required),
        Body::NdJson { required, .. } => ("NdJson", required),
    };
    let required_params: Vec<String> = ep
        .required_params
        .iter()
        .map(|p| string_lit(&p.name))
        .collect();
    let _ = writeln!(
        out,
        "],\nbody: crate::endpoint::BodyKind::{body},\nbody_required: {body_required},\nrequired_params: &[{}],\nresend: crate::endpoint::Resend::{},\n}};\n",
        required_params.join(", "),
        super::resend_class(ep)
    );
}
