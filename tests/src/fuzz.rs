//! A stable-toolchain mutation fuzzer (`cargo fuzz` needs a nightly compiler for its
//! sanitizers): seeded corpora of valid inputs, mutated by bit flips, insertions of
//! interesting bytes, deletions, truncations, splices of two corpus entries and repeated runs.
//! Seeds are fixed, so a failure reproduces. Not coverage-guided: it finds shallow panics
//! (indexing, slicing at a char boundary, arithmetic overflow in debug builds), not deep paths.
//!
//! Used by es-transport's `fuzz_tests` (transport parsers) and es-api's `fuzz_responses`
//! (typed responses). `FUZZ_ITERS` sets the number of inputs per target.

/// Bytes that tend to matter to parsers of JSON, URLs and headers (and UTF-8 lead bytes).
pub const INTERESTING: &[u8] = &[
    0, 0xff, b'"', b'\\', b'{', b'}', b'[', b']', b':', b',', b'/', b'@', b'[', b'%', b'$', b'.',
    b'-', b' ', b'\n', 0xc3, 0xa9, 0xe2, 0x82, 0xac, b'9',
];

/// Inputs per target: `FUZZ_ITERS` when set (and a number), else `default`.
pub fn iterations(default: usize) -> usize {
    std::env::var("FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Yields `count` mutated inputs built from `corpus` (not empty), deterministically for `seed`.
pub fn mutations(corpus: &[&[u8]], seed: u64, count: usize) -> impl Iterator<Item = Vec<u8>> {
    assert!(!corpus.is_empty(), "an empty corpus");
    let mut rng = fastrand::Rng::with_seed(seed);
    let corpus: Vec<Vec<u8>> = corpus.iter().map(|c| c.to_vec()).collect();
    (0..count).map(move |_| {
        let mut v = corpus[rng.usize(..corpus.len())].clone();
        for _ in 0..rng.usize(1..5) {
            let len = v.len();
            match rng.u8(..7) {
                0 if len > 0 => {
                    let i = rng.usize(..len);
                    v[i] ^= 1 << rng.u8(..8);
                }
                1 => {
                    let i = rng.usize(..=len);
                    v.insert(i, INTERESTING[rng.usize(..INTERESTING.len())]);
                }
                2 if len > 0 => {
                    v.remove(rng.usize(..len));
                }
                3 => v.truncate(rng.usize(..=len)),
                4 => {
                    let other = &corpus[rng.usize(..corpus.len())];
                    let at = rng.usize(..=len);
                    let from = rng.usize(..=other.len());
                    v.truncate(at);
                    v.extend_from_slice(&other[from..]);
                }
                5 if len > 0 => {
                    let i = rng.usize(..len);
                    let b = v[i];
                    let n = rng.usize(1..64);
                    v.splice(i..i, std::iter::repeat_n(b, n));
                }
                _ => {
                    let i = rng.usize(..=len);
                    v.insert(i, rng.u8(..));
                }
            }
        }
        v
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_inputs() {
        let corpus: &[&[u8]] = &[b"{\"a\":1}", b"[1,2]"];
        let a: Vec<_> = mutations(corpus, 9, 200).collect();
        let b: Vec<_> = mutations(corpus, 9, 200).collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 200);
        assert!(
            a.iter()
                .any(|v| v.as_slice() != corpus[0] && v.as_slice() != corpus[1])
        );
    }
}
