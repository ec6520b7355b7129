"""elasticsearch-py side of `cargo xtask bench helpers`: one case per process.

usage: pybench.py CASE URL DOCS THREADS   (CASE: bulk | parallel_bulk | scan)
Prints one JSON line: case, docs, secs, cpu (user+sys of this process), rss_kb (peak).
"""
import json
import resource
import sys
import time

from elasticsearch import Elasticsearch, helpers

BODY = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore"


def actions(n):
    for i in range(n):
        yield {
            "_index": "bench",
            "_id": str(i),
            "_source": {
                "n": i,
                "title": f"Document number {i}",
                "body": BODY,
                "tags": ["alpha", "beta", "gamma"],
                "price": i * 0.25,
                "in_stock": i % 2 == 0,
            },
        }


def main():
    case, url, docs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    # osmem-server refuses the vendor media type (406); serverless mode sends plain JSON.
    es = Elasticsearch(url, server_mode="serverless", request_timeout=300)
    start = time.perf_counter()
    ok = 0
    if case == "bulk":
        ok, errors = helpers.bulk(es, actions(docs), chunk_size=1000, stats_only=True)
    elif case == "parallel_bulk":
        for success, _ in helpers.parallel_bulk(
            es, actions(docs), thread_count=threads, chunk_size=1000, queue_size=threads
        ):
            ok += success
    elif case == "scan":
        for _hit in helpers.scan(es, index="bench", size=1000):
            ok += 1
    else:
        raise SystemExit(f"unknown case {case}")
    secs = time.perf_counter() - start
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"case": case, "docs": ok, "secs": secs, "cpu": ru.ru_utime + ru.ru_stime, "rss_kb": ru.ru_maxrss}))


if __name__ == "__main__":
    main()
