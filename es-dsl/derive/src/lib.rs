//! `#[derive(Document)]` and `#[derive(InnerDoc)]` for es-dsl: the mapping from the field
//! types (serde's names), typed field paths, and the index settings from `#[es(...)]`.
//! Use them through es-dsl (`es_dsl::Document`, feature `derive`, on by default).

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Lit, LitStr, Meta, parse_macro_input};

/// Derives `es_dsl::Document` (and `es_dsl::mapping::Mapped`): the index, its settings,
/// the mapping of the fields, and `T::fields()` with a typed path per field.
///
/// Struct attributes: `#[es(index = "name", shards = 1, replicas = 0, alias = "a",
/// dynamic = "strict", validate = "Self::check", analysis = "Self::analysis")]`
/// (`check: fn(&Self) -> Result<(), String>`, run before every save; `analysis: fn() ->
/// es_dsl::es_api::types::indices::IndexSettingsAnalysis`, the custom analyzers, tokenizers,
/// filters and normalizers the index is created with). Field attributes: `keyword`, `text`, `type = "…"`, `nested`,
/// `analyzer`, `search_analyzer`, `index = false`, `doc_values = false`, `copy_to = "…"`,
/// `null_value = …`, `ignore_above = N`, `fields(raw = "keyword")`,
/// `join(question = "answer")` (a `join` field's relations), `skip`.
#[proc_macro_derive(Document, attributes(es))]
pub fn derive_document(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, true)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// Derives `es_dsl::mapping::Mapped` for a struct stored inside documents: an `object` (or
/// `nested` with `#[es(nested)]` on the field that holds it), with typed paths under the
/// field's name.
#[proc_macro_derive(InnerDoc, attributes(es))]
pub fn derive_inner_doc(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, false)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// Accumulates errors so that every mistake is reported in one compile.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

#[derive(Default)]
struct DocAttrs {
    index: Option<LitStr>,
    shards: Option<syn::LitInt>,
    replicas: Option<syn::LitInt>,
    aliases: Vec<LitStr>,
    dynamic: Option<LitStr>,
    validate: Option<syn::ExprPath>,
    analysis: Option<syn::ExprPath>,
}

/// An option value of a field attribute.
enum Opt {
    Str(String),
    Bool(bool),
    Int(i64),
    Float(f64),
    SubFields(Vec<(String, String)>),
    Relations(Vec<(String, Vec<String>)>),
}

#[derive(Default)]
struct FieldAttrs {
    kind: Option<String>,
    nested: bool,
    skip: bool,
    opts: Vec<(String, Opt)>,
}

const FIELD_OPTIONS: &[&str] = &[
    "keyword",
    "text",
    "type",
    "nested",
    "analyzer",
    "search_analyzer",
    "index",
    "doc_values",
    "copy_to",
    "null_value",
    "ignore_above",
    "fields",
    "join",
    "skip",
];

fn lit_value(lit: &Lit) -> Option<Opt> {
    match lit {
        Lit::Str(s) => Some(Opt::Str(s.value())),
        Lit::Bool(b) => Some(Opt::Bool(b.value)),
        Lit::Int(i) => i.base10_parse().ok().map(Opt::Int),
        Lit::Float(f) => f.base10_parse().ok().map(Opt::Float),
        _ => None,
    }
}

fn expr_lit(expr: &syn::Expr) -> Option<&Lit> {
    match expr {
        syn::Expr::Lit(l) => Some(&l.lit),
        _ => None,
    }
}

fn parse_doc_attrs(attrs: &[syn::Attribute], errors: &mut Errors, is_doc: bool) -> DocAttrs {
    let mut out = DocAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("es")) {
        let res = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            if !is_doc {
                return Err(meta.error("an InnerDoc takes no `#[es(...)]` options (the index is the document's)"));
            }
            match key.as_str() {
                "index" => out.index = Some(meta.value()?.parse()?),
                "shards" => out.shards = Some(meta.value()?.parse()?),
                "replicas" => out.replicas = Some(meta.value()?.parse()?),
                "alias" => out.aliases.push(meta.value()?.parse()?),
                "validate" => {
                    let v: LitStr = meta.value()?.parse()?;
                    match v.parse::<syn::ExprPath>() {
                        Ok(p) => out.validate = Some(p),
                        Err(_) => errors.push(syn::Error::new(
                            v.span(),
                            "`validate` names a function `fn(&Self) -> Result<(), String>`, as a path (\"Self::check\")",
                        )),
                    }
                }
                "analysis" => {
                    let v: LitStr = meta.value()?.parse()?;
                    match v.parse::<syn::ExprPath>() {
                        Ok(p) => out.analysis = Some(p),
                        Err(_) => errors.push(syn::Error::new(
                            v.span(),
                            "`analysis` names a function `fn() -> IndexSettingsAnalysis`, as a path (\"Self::analysis\")",
                        )),
                    }
                }
                "dynamic" => {
                    let v: LitStr = meta.value()?.parse()?;
                    if !["true", "false", "strict", "runtime"].contains(&v.value().as_str()) {
                        errors.push(syn::Error::new(
                            v.span(),
                            "`dynamic` is one of \"true\", \"false\", \"strict\", \"runtime\"",
                        ));
                    }
                    out.dynamic = Some(v);
                }
                _ => {
                    // Keep going: report the value's tokens are consumed.
                    if meta.input.peek(syn::Token![=]) {
                        let _: syn::Expr = meta.value()?.parse()?;
                    }
                    errors.push(meta.error(format!(
                        "unknown document option `{key}` (expected index, shards, replicas, alias, dynamic, validate, analysis)"
                    )));
                }
            }
            Ok(())
        });
        if let Err(e) = res {
            errors.push(e);
        }
    }
    out
}

fn parse_field_attrs(field: &syn::Field, errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("es")) {
        let res = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            match key.as_str() {
                "keyword" | "text" => {
                    if let Some(prev) = &out.kind {
                        errors.push(meta.error(format!("the field type is already `{prev}`")));
                    }
                    out.kind = Some(key.clone());
                }
                "type" => {
                    let v: LitStr = meta.value()?.parse()?;
                    if let Some(prev) = &out.kind {
                        errors.push(syn::Error::new(
                            v.span(),
                            format!("the field type is already `{prev}`"),
                        ));
                    }
                    if v.value().is_empty() {
                        errors.push(syn::Error::new(
                            v.span(),
                            "`type` needs a field type name (\"ip\", \"geo_point\", …)",
                        ));
                    }
                    out.kind = Some(v.value());
                }
                "join" => {
                    if let Some(prev) = &out.kind {
                        errors.push(meta.error(format!("the field type is already `{prev}`")));
                    }
                    out.kind = Some("join".into());
                    let mut rels: Vec<(String, Vec<String>)> = Vec::new();
                    let fork = meta.input.fork();
                    let inside;
                    syn::parenthesized!(inside in fork);
                    if inside.is_empty() {
                        let _empty;
                        let parens = syn::parenthesized!(_empty in meta.input);
                        errors.push(syn::Error::new(
                            parens.span.join(),
                            "`join(...)` needs at least one relation: `join(question = \"answer\")`",
                        ));
                        return Ok(());
                    }
                    meta.parse_nested_meta(|rel| {
                        let parent = rel
                            .path
                            .get_ident()
                            .map(|i| i.to_string())
                            .unwrap_or_default();
                        let expr: syn::Expr = rel.value()?.parse()?;
                        let children: Option<Vec<String>> = match &expr {
                            syn::Expr::Array(a) => a
                                .elems
                                .iter()
                                .map(|e| match expr_lit(e) {
                                    Some(Lit::Str(s)) => Some(s.value()),
                                    _ => None,
                                })
                                .collect(),
                            e => match expr_lit(e) {
                                Some(Lit::Str(s)) => Some(vec![s.value()]),
                                _ => None,
                            },
                        };
                        match children {
                            Some(c) if !c.is_empty() && c.iter().all(|n| !n.is_empty()) => {
                                rels.push((parent, c))
                            }
                            _ => errors.push(syn::Error::new(
                                expr.span(),
                                "a join relation names its children: `question = \"answer\"` or `question = [\"answer\", \"comment\"]`",
                            )),
                        }
                        Ok(())
                    })?;
                    out.opts.push(("relations".into(), Opt::Relations(rels)));
                }
                "nested" => out.nested = true,
                "skip" => out.skip = true,
                "fields" => {
                    let mut subs = Vec::new();
                    meta.parse_nested_meta(|sub| {
                        let name = sub
                            .path
                            .get_ident()
                            .map(|i| i.to_string())
                            .unwrap_or_default();
                        let ty: LitStr = sub.value()?.parse()?;
                        subs.push((name, ty.value()));
                        Ok(())
                    })?;
                    out.opts.push(("fields".into(), Opt::SubFields(subs)));
                }
                _ if FIELD_OPTIONS.contains(&key.as_str()) => {
                    let expr: syn::Expr = meta.value()?.parse()?;
                    let value = match (expr_lit(&expr), &expr) {
                        (Some(l), _) => lit_value(l),
                        (None, syn::Expr::Unary(u)) if matches!(u.op, syn::UnOp::Neg(_)) => {
                            match expr_lit(&u.expr).and_then(lit_value) {
                                Some(Opt::Int(i)) => Some(Opt::Int(-i)),
                                Some(Opt::Float(f)) => Some(Opt::Float(-f)),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    match value {
                        Some(v) => {
                            let ok = match (key.as_str(), &v) {
                                ("index" | "doc_values", Opt::Bool(_)) => true,
                                ("index" | "doc_values", _) => false,
                                ("analyzer" | "search_analyzer" | "copy_to", Opt::Str(_)) => true,
                                ("analyzer" | "search_analyzer" | "copy_to", _) => false,
                                ("ignore_above", Opt::Int(n)) => *n > 0,
                                ("ignore_above", _) => false,
                                _ => true,
                            };
                            if ok {
                                out.opts.push((key.clone(), v));
                            } else {
                                errors.push(syn::Error::new(
                                    expr.span(),
                                    format!(
                                        "`{key}` takes {}",
                                        match key.as_str() {
                                            "index" | "doc_values" => "`true` or `false`",
                                            "ignore_above" => "a positive integer",
                                            _ => "a string",
                                        }
                                    ),
                                ));
                            }
                        }
                        None => errors.push(syn::Error::new(
                            expr.span(),
                            format!("`{key}` takes a literal"),
                        )),
                    }
                }
                _ => {
                    if meta.input.peek(syn::Token![=]) {
                        let _: syn::Expr = meta.value()?.parse()?;
                    }
                    errors.push(meta.error(format!(
                        "unknown field option `{key}` (expected one of: {})",
                        FIELD_OPTIONS.join(", ")
                    )));
                }
            }
            Ok(())
        });
        if let Err(e) = res {
            errors.push(e);
        }
    }
    out
}

/// serde's `rename_all` rules.
fn rename_all(rule: &str, name: &str) -> Option<String> {
    let words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    let cap = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    Some(match rule {
        "lowercase" => name.to_lowercase(),
        "UPPERCASE" => name.to_uppercase(),
        "snake_case" => name.to_string(),
        "SCREAMING_SNAKE_CASE" => name.to_uppercase(),
        "kebab-case" => name.replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => name.replace('_', "-").to_uppercase(),
        "PascalCase" => words.iter().map(|w| cap(w)).collect(),
        "camelCase" => {
            let mut s: String = words.iter().map(|w| cap(w)).collect();
            if let Some(f) = s.get(0..1) {
                s.replace_range(0..1, &f.to_lowercase());
            }
            s
        }
        _ => return None,
    })
}

/// The serde names: (`rename_all` of the struct), and per field (`rename`, `skip`, `flatten`).
struct SerdeField {
    rename: Option<String>,
    skip: bool,
    flatten: Option<Span>,
}

fn serde_container(attrs: &[syn::Attribute], errors: &mut Errors) -> Option<(String, Span)> {
    let mut out = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let Meta::List(list) = &attr.meta else {
            continue;
        };
        let _ = list.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                if meta.input.peek(syn::Token![=]) {
                    let v: LitStr = meta.value()?.parse()?;
                    if rename_all(&v.value(), "a_b").is_none() {
                        errors.push(syn::Error::new(
                            v.span(),
                            "unknown `rename_all` rule (serde's are lowercase, UPPERCASE, PascalCase, camelCase, snake_case, SCREAMING_SNAKE_CASE, kebab-case, SCREAMING-KEBAB-CASE)",
                        ));
                    }
                    out = Some((v.value(), v.span()));
                } else {
                    errors.push(meta.error(
                        "es-dsl reads `rename_all = \"...\"` (one rule for both directions)",
                    ));
                    let _ = meta.parse_nested_meta(|_| Ok(()));
                }
            } else {
                skip_serde_meta(&meta)?;
            }
            Ok(())
        });
    }
    out
}

/// Consumes a serde option es-dsl does not read (`default = "..."`, `with(...)`, `skip_serializing_if`).
fn skip_serde_meta(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.parse_nested_meta(|m| {
            if m.input.peek(syn::Token![=]) {
                let _: syn::Expr = m.value()?.parse()?;
            }
            Ok(())
        });
    }
    Ok(())
}

fn serde_field(field: &syn::Field) -> SerdeField {
    let mut out = SerdeField {
        rename: None,
        skip: false,
        flatten: None,
    };
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") && meta.input.peek(syn::Token![=]) {
                let v: LitStr = meta.value()?.parse()?;
                out.rename = Some(v.value());
            } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                out.skip = true;
            } else if meta.path.is_ident("flatten") {
                out.flatten = Some(meta.path.span());
            } else {
                skip_serde_meta(&meta)?;
            }
            Ok(())
        });
    }
    out
}

fn opt_tokens(opt: &Opt) -> Tokens {
    match opt {
        Opt::Str(s) => quote!(::es_dsl::mapping::Opt::Str(#s)),
        Opt::Bool(b) => quote!(::es_dsl::mapping::Opt::Bool(#b)),
        Opt::Int(i) => quote!(::es_dsl::mapping::Opt::Int(#i)),
        Opt::Float(f) => quote!(::es_dsl::mapping::Opt::Float(#f)),
        Opt::SubFields(subs) => {
            let items = subs.iter().map(|(n, t)| quote!((#n, #t)));
            quote!(::es_dsl::mapping::Opt::SubFields(&[#(#items),*]))
        }
        Opt::Relations(rels) => {
            let items = rels.iter().map(|(p, c)| quote!((#p, &[#(#c),*])));
            quote!(::es_dsl::mapping::Opt::Relations(&[#(#items),*]))
        }
    }
}

fn expand(input: &DeriveInput, is_doc: bool) -> syn::Result<Tokens> {
    let mut errors = Errors::default();
    let name = &input.ident;
    let doc = parse_doc_attrs(&input.attrs, &mut errors, is_doc);
    let rename_rule = serde_container(&input.attrs, &mut errors);
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new(
            input.generics.span(),
            "a document type takes no generic parameters",
        ));
    }
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(f) => f.named.iter().collect::<Vec<_>>(),
            other => {
                errors.push(syn::Error::new(
                    other.span(),
                    "a document is a struct with named fields",
                ));
                Vec::new()
            }
        },
        Data::Enum(e) => {
            errors.push(syn::Error::new(
                e.enum_token.span,
                "a document is a struct with named fields",
            ));
            Vec::new()
        }
        Data::Union(u) => {
            errors.push(syn::Error::new(
                u.union_token.span,
                "a document is a struct with named fields",
            ));
            Vec::new()
        }
    };
    if is_doc && doc.index.is_none() {
        errors.push(syn::Error::new(
            Span::call_site(),
            format!("#[derive(Document)] needs `#[es(index = \"...\")]` on `{name}`"),
        ));
    }
    if let Some(i) = &doc.index {
        let v = i.value();
        if v.is_empty()
            || v != v.to_lowercase()
            || v.starts_with(['_', '-', '+'])
            || v.contains([' ', '"', '*', '\\', '<', '|', ',', '>', '/', '?', '#'])
        {
            errors.push(syn::Error::new(i.span(), "not a valid index name (lowercase, no spaces or `\\/*?\"<>|,#`, not starting with `_`, `-`, `+`)"));
        }
    }
    let mut props = Vec::new();
    let mut path_fields = Vec::new();
    let mut path_inits = Vec::new();
    for field in &fields {
        let fa = parse_field_attrs(field, &mut errors);
        let sf = serde_field(field);
        if let Some(span) = sf.flatten {
            errors.push(syn::Error::new(span, "`#[serde(flatten)]` fields cannot be mapped: give the inner fields their own names"));
            continue;
        }
        if fa.skip || sf.skip {
            continue;
        }
        let ident = field.ident.as_ref().expect("named field");
        let rust_name = ident.to_string().trim_start_matches("r#").to_string();
        let json = sf.rename.clone().unwrap_or_else(|| match &rename_rule {
            Some((rule, _)) => rename_all(rule, &rust_name).unwrap_or(rust_name.clone()),
            None => rust_name.clone(),
        });
        let ty = &field.ty;
        let kind = fa
            .kind
            .as_deref()
            .map_or(quote!(None), |k| quote!(Some(#k)));
        let nested = fa.nested;
        let opts = fa.opts.iter().map(|(k, v)| {
            let v = opt_tokens(v);
            quote!((#k, #v))
        });
        props.push(quote! {
            (#json, ::es_dsl::mapping::customize(
                #json,
                <#ty as ::es_dsl::mapping::Mapped>::property(),
                #kind,
                #nested,
                &[#(#opts),*],
            ))
        });
        let doc_line = format!("`{json}`");
        path_fields.push(quote! {
            #[doc = #doc_line]
            pub #ident: <#ty as ::es_dsl::mapping::Mapped>::Fields
        });
        path_inits.push(quote! {
            #ident: <#ty as ::es_dsl::mapping::Mapped>::fields_at(::es_dsl::mapping::join(prefix, #json))
        });
    }
    errors.finish()?;
    let fields_name = format_ident!("{}Fields", name);
    let fields_doc = format!("The typed field paths of [`{name}`] (`{name}::fields()`).");
    let vis = &input.vis;
    let common = quote! {
        #[doc = #fields_doc]
        #[derive(Debug, Clone)]
        #[allow(missing_docs)]
        #vis struct #fields_name {
            #(#path_fields,)*
        }

        impl ::es_dsl::mapping::Mapped for #name {
            type Fields = #fields_name;
            fn property() -> ::es_dsl::mapping::PropertyResult {
                ::es_dsl::mapping::object(&[#(#props),*])
            }
            fn fields_at(prefix: ::std::string::String) -> #fields_name {
                let prefix = prefix.as_str();
                #fields_name { #(#path_inits,)* }
            }
        }

        impl #name {
            /// The typed field paths: `Self::fields().title` is the path `title`, usable
            /// wherever es-dsl takes a field.
            #[allow(dead_code)]
            pub fn fields() -> #fields_name {
                <#name as ::es_dsl::mapping::Mapped>::fields_at(::std::string::String::new())
            }
        }
    };
    if !is_doc {
        return Ok(common);
    }
    let index = doc.index.as_ref().map(LitStr::value).unwrap_or_default();
    let shards = doc
        .shards
        .as_ref()
        .map_or(quote!(None), |s| quote!(Some(#s)));
    let replicas = doc
        .replicas
        .as_ref()
        .map_or(quote!(None), |s| quote!(Some(#s)));
    let aliases: Vec<String> = doc.aliases.iter().map(LitStr::value).collect();
    let dynamic = doc.dynamic.as_ref().map_or(quote!(None), |d| {
        let v = d.value();
        quote!(Some(#v))
    });
    let validate = doc.validate.as_ref().map(|p| {
        quote! {
            fn validate(&self) -> ::std::result::Result<(), ::std::string::String> {
                #p(self)
            }
        }
    });
    let analysis = doc.analysis.as_ref().map(|p| {
        quote! {
            fn analysis() -> ::std::option::Option<::es_dsl::es_api::types::indices::IndexSettingsAnalysis> {
                ::std::option::Option::Some(#p())
            }
        }
    });
    Ok(quote! {
        #common

        impl ::es_dsl::Document for #name {
            const INDEX: &'static str = #index;
            #validate
            #analysis
            fn index_options() -> ::es_dsl::mapping::IndexOptions {
                ::es_dsl::mapping::IndexOptions {
                    shards: #shards,
                    replicas: #replicas,
                    aliases: &[#(#aliases),*],
                    dynamic: #dynamic,
                }
            }
        }
    })
}
