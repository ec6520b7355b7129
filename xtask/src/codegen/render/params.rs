//! `generated/params.rs`: one enum per spec `enum` (and `list` with `options`).

use std::fmt::Write as _;

use super::super::model::Api;
use super::super::naming::string_lit;
use super::{doc, file_start};

/// Renders the enums file.
pub(super) fn render(api: &Api) -> String {
    let mut out = file_start(
        "Enums for the spec's `enum` parameters and parts; `Display` writes the wire value.",
    );
    for e in &api.enums {
        let users = if e.used_by.len() > 4 {
            format!(
                "{} and {} more",
                quote_list(&e.used_by[..3]),
                e.used_by.len() - 3
            )
        } else {
            quote_list(&e.used_by)
        };
        doc(
            &mut out,
            &format!("Values of the `{}` parameter of {users}.", e.param),
        );
        out.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n#[non_exhaustive]\n");
        let _ = writeln!(out, "pub enum {} {{", e.name);
        for (ident, wire) in &e.variants {
            let _ = writeln!(out, "/// `{wire}`\n{ident},");
        }
        out.push_str("}\n\n");
        let _ = writeln!(out, "impl {} {{", e.name);
        out.push_str("/// The value as sent on the wire.\npub fn as_str(self) -> &'static str {\nmatch self {\n");
        for (ident, wire) in &e.variants {
            let _ = writeln!(out, "Self::{ident} => {},", string_lit(wire));
        }
        out.push_str("}\n}\n}\n\n");
        let _ = writeln!(
            out,
            "impl std::fmt::Display for {} {{\nfn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\nf.write_str(self.as_str())\n}}\n}}\n",
            e.name
        );
        if e.from_bool {
            let _ = writeln!(
                out,
                "impl From<bool> for {0} {{\nfn from(value: bool) -> Self {{\nif value {{ Self::True }} else {{ Self::False }}\n}}\n}}\n",
                e.name
            );
        }
    }
    out
}

fn quote_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
