"""elasticsearch-py side of `cargo xtask bench dsl` (elasticsearch.dsl): one round per process.

usage: pybench.py RESPONSE_JSON BUDGET_MS [CASE ...]   (CASE: build | build_incremental |
parse | loads; default all; the driver runs each case in a process of its own)

RESPONSE_JSON is the 1,000-hit search response written by dsl-bench, without `typed_keys`
prefixes (elasticsearch.dsl does not ask for them; its `Response` finds aggregations by the
names of the search's own aggregations). Prints one JSON line: nanoseconds per operation of
each case asked (`ns`), the bodies built (so the driver checks they equal es-dsl's), the checksum of the
values read from the response (so the driver checks every client read the same values), and
the versions.

Cases (the same search and the same reads as the Rust side, see bench/dsl/src/main.rs):
- build: `Search(...).query(Q("bool", ...))` + 5 aggregations, `to_dict()`, `json.dumps`.
- build_incremental: the same query added clause by clause (`s.query(...)`, `s.filter(...)`).
- parse: `json.loads` + `Response(search, data)` + reading every hit and every bucket.
- loads: `json.loads` alone (the floor under any Python parse).
"""
import json
import sys
import time

import elasticsearch
from elasticsearch.dsl import A, Q, Search

# The same inputs as QUERY in main.rs.
MUST = [
    ("title", "search engine"),
    ("body", "inverted index"),
    ("summary", "fast queries"),
    ("description", "rust client"),
    ("notes", "typed builders"),
]
TERM_FILTERS = [
    ("status", "published"),
    ("category", "books"),
    ("lang", "en"),
    ("region", "eu"),
    ("format", "hardcover"),
    ("publisher", "acme"),
    ("license", "cc-by"),
    ("audience", "adult"),
    ("series", "none"),
    ("stock_state", "available"),
]
RANGES = [
    ("price", 10, 100),
    ("pages", 50, 900),
    ("rating", 3, 6),
    ("year", 1990, 2026),
    ("quantity", 1, 1000),
]
TERMS = [
    ("tags", ["rust", "async", "search"]),
    ("author", ["ann", "bob", "cyd"]),
    ("color", ["red", "green", "blue"]),
    ("size", ["s", "m", "l"]),
    ("material", ["paper", "cloth", "leather"]),
]
SHOULD = [
    ("title", "quick start"),
    ("body", "step by step"),
    ("summary", "best practices"),
]
MUST_NOT = [("status", "draft"), ("tags", "deprecated")]


def add_aggs(s):
    s.aggs.bucket("by_tag", "terms", field="tags", size=10).metric(
        "avg_price", "avg", field="price"
    )
    s.aggs.bucket(
        "per_month", "date_histogram", field="published", calendar_interval="month"
    ).bucket("by_category", "terms", field="category", size=5).metric(
        "max_price", "max", field="price"
    )
    s.aggs.metric("price_stats", "stats", field="price")
    s.aggs.bucket("price_histogram", "histogram", field="price", interval=5.0).metric(
        "sum_qty", "sum", field="quantity"
    )
    s.aggs.metric("unique_authors", "cardinality", field="author")
    return s


def finish(s):
    return s.sort("-published").source(includes=["title", "price", "tags"]).extra(
        track_total_hits=True, size=20
    )


def build():
    q = Q(
        "bool",
        must=[Q("match", **{f: {"query": t}}) for f, t in MUST],
        filter=[Q("term", **{f: {"value": v}}) for f, v in TERM_FILTERS]
        + [Q("range", **{f: {"gte": lo, "lt": hi}}) for f, lo, hi in RANGES]
        + [Q("terms", **{f: list(vs)}) for f, vs in TERMS],
        should=[Q("match_phrase", **{f: {"query": t}}) for f, t in SHOULD],
        must_not=[Q("term", **{f: {"value": v}}) for f, v in MUST_NOT],
        minimum_should_match=1,
    )
    s = finish(Search(index="products").query(q))
    return add_aggs(s)


def build_incremental():
    s = Search(index="products")
    for f, t in MUST:
        s = s.query("match", **{f: {"query": t}})
    for f, v in TERM_FILTERS:
        s = s.filter("term", **{f: {"value": v}})
    for f, lo, hi in RANGES:
        s = s.filter("range", **{f: {"gte": lo, "lt": hi}})
    for f, vs in TERMS:
        s = s.filter("terms", **{f: list(vs)})
    for f, v in MUST_NOT:
        s = s.query(~Q("term", **{f: {"value": v}}))
    s = s.query(
        Q(
            "bool",
            should=[Q("match_phrase", **{f: {"query": t}}) for f, t in SHOULD],
            minimum_should_match=1,
        )
    )
    return add_aggs(finish(s))


def read(r):
    """Reads what the Rust side reads (walk_typed in main.rs); answers a checksum."""
    total = 0.0
    hits = r.hits
    for h in hits:
        total += h.price + h.quantity + len(h.title) + len(h.meta.id)
    total += len(hits)
    aggs = r.aggregations
    for b in aggs.by_tag.buckets:
        total += b.doc_count + b.avg_price.value
    for b in aggs.per_month.buckets:
        total += b.doc_count
        for c in b.by_category.buckets:
            total += c.doc_count + c.max_price.value
    st = aggs.price_stats
    total += st.avg + st.count
    for b in aggs.price_histogram.buckets:
        total += b.doc_count + b.sum_qty.value
    total += aggs.unique_authors.value
    return total


def measure(budget, f):
    """Nanoseconds per call: a warm-up of a quarter of the budget (which also sizes the
    batch), then one timed batch of about `budget` seconds."""
    n = 0
    t0 = time.perf_counter()
    while n < 3 or time.perf_counter() - t0 < budget / 4:
        f()
        n += 1
    per = (time.perf_counter() - t0) / n
    iters = max(3, int(budget / per))
    t0 = time.perf_counter()
    for _ in range(iters):
        f()
    return (time.perf_counter() - t0) * 1e9 / iters


def main():
    path, budget = sys.argv[1], int(sys.argv[2]) / 1000.0
    cases = sys.argv[3:] or ["build", "build_incremental", "parse", "loads"]
    with open(path, "rb") as fh:
        raw = fh.read()
    search = build()  # what `execute()` would hand to `Response`
    from elasticsearch.dsl.response import Response

    def parse():
        return read(Response(search, json.loads(raw)))

    runs = {
        "build": lambda: json.dumps(build().to_dict()),
        "build_incremental": lambda: json.dumps(build_incremental().to_dict()),
        "parse": parse,
        "loads": lambda: json.loads(raw),
    }
    out = {
        "ns": {case: measure(budget, runs[case]) for case in cases},
        "body": build().to_dict(),
        "body_incremental": build_incremental().to_dict(),
        "checksum": parse(),
        "python": sys.version.split()[0],
        "elasticsearch": elasticsearch.__versionstr__,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
