//! Names: Rust identifiers from spec names, keyword escaping, and doc-text cleanup.
//!
//! The escaping rule (one rule, documented in es-api too): spec names are kept verbatim in
//! snake_case (`_source`, `wait_for_active_shards`); a name that is a Rust keyword (strict,
//! reserved or weak-in-position such as `type`, `match`, `async`, `gen`) gets one trailing
//! underscore (`type_`, `match_`). Type names are PascalCase of the spec name with the
//! separators (`_`, `.`, `-`) removed; a leading digit gets a `V` prefix.

/// Rust keywords of edition 2024 (strict + reserved), plus the `Self`/`self` family.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// True if `name` cannot be used as a plain identifier.
pub(crate) fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// The snake_case identifier for a spec name (parameter, part, endpoint or namespace).
pub(crate) fn snake_ident(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if is_keyword(&out) {
        out.push('_');
    }
    out
}

/// The module name for a namespace: the snake ident without leading underscores
/// (`_internal` → `internal`).
pub(crate) fn module_ident(name: &str) -> String {
    snake_ident(name.trim_start_matches('_'))
}

/// PascalCase type name: `put_index_template` → `PutIndexTemplate`, `IN_PROGRESS` →
/// `InProgress`, `_all` → `All`, `wait_for` → `WaitFor`.
pub(crate) fn pascal(name: &str) -> String {
    let mut out = String::new();
    for word in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            // Words in ALL CAPS (`IN_PROGRESS`, `GET`) are lowered; camelCase words
            // (`insertOrder`) keep their inner capitals.
            let rest: String = chars.collect();
            if word.chars().all(|c| !c.is_ascii_lowercase()) {
                out.push_str(&rest.to_ascii_lowercase());
            } else {
                out.push_str(&rest);
            }
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// SCREAMING_SNAKE name for statics: `put_index_template` → `PUT_INDEX_TEMPLATE`.
pub(crate) fn screaming(name: &str) -> String {
    name.trim_start_matches('_')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Turns spec prose into safe rustdoc markdown lines.
///
/// Outside code spans: `[`, `]`, `<`, `>` are escaped (spec text like `<logs-{now/d}>` or
/// `[a|b]` would otherwise be HTML tags or intra-doc links), bare `http(s)://` URLs are wrapped
/// in `<…>`. Code spans (`` `…` ``) are kept as they are. Trailing spaces are trimmed and
/// empty lines collapsed.
pub(crate) fn doc_text(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for raw in text.trim().lines() {
        let line = escape_markdown(raw.trim_end());
        if line.is_empty() && lines.last().is_none_or(|l: &String| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

fn escape_markdown(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut in_code = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            in_code = !in_code;
            out.push(c);
            rest = &rest[1..];
            continue;
        }
        if !in_code && (rest.starts_with("http://") || rest.starts_with("https://")) {
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, ')' | '>' | '<' | '"' | '`'))
                .unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ';', ':']);
            out.push('<');
            out.push_str(url);
            out.push('>');
            rest = &rest[url.len()..];
            continue;
        }
        if !in_code && matches!(c, '[' | ']' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if in_code {
        // An unbalanced backtick would swallow the rest of the doc comment: escape it.
        out = out.replace('`', "\\`");
    }
    out
}

/// A Rust string literal for `s` (debug formatting escapes quotes, backslashes, control chars).
pub(crate) fn string_lit(s: &str) -> String {
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_get_a_trailing_underscore() {
        assert_eq!(snake_ident("type"), "type_");
        assert_eq!(snake_ident("match"), "match_");
        assert_eq!(snake_ident("async"), "async_");
        assert_eq!(snake_ident("gen"), "gen_");
        assert_eq!(snake_ident("self"), "self_");
        assert_eq!(snake_ident("types"), "types");
    }

    #[test]
    fn spec_names_are_kept_verbatim() {
        assert_eq!(snake_ident("_source_includes"), "_source_includes");
        assert_eq!(
            snake_ident("wait_for_active_shards"),
            "wait_for_active_shards"
        );
        assert_eq!(snake_ident("ingest.count"), "ingest_count");
        assert_eq!(module_ident("_internal"), "internal");
    }

    #[test]
    fn pascal_case_of_spec_names() {
        assert_eq!(pascal("put_index_template"), "PutIndexTemplate");
        assert_eq!(pascal("IN_PROGRESS"), "InProgress");
        assert_eq!(pascal("_all"), "All");
        assert_eq!(pascal("wait_for"), "WaitFor");
        assert_eq!(pascal("GET"), "Get");
        assert_eq!(pascal("v1"), "V1");
        assert_eq!(pascal("insertOrder"), "InsertOrder");
        assert_eq!(pascal("1m"), "V1m");
        assert_eq!(screaming("_internal.get"), "INTERNAL_GET");
    }

    #[test]
    fn doc_text_escapes_markdown_and_wraps_urls() {
        assert_eq!(
            doc_text("Use <logs-{now/d}> or [a|b], see https://example.com/x."),
            ["Use \\<logs-{now/d}\\> or \\[a|b\\], see <https://example.com/x>."]
        );
        assert_eq!(doc_text("keep `[x]` and `a_b`"), ["keep `[x]` and `a_b`"]);
        assert_eq!(doc_text("a\n\n\nb\n"), ["a", "", "b"]);
        assert_eq!(doc_text("odd ` tick"), ["odd \\` tick"]);
    }
}
