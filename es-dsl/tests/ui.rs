//! The derives' compile errors (trybuild): every mistake reported, with its span, in one
//! compile; a misspelled field path does not compile.

#[test]
fn derive_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
