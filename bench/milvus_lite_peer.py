#!/usr/bin/env python3
"""Milvus Lite, the embedded Milvus that `MilvusClient("file.db")` runs, on a make_vectors.py set: the
same steps `loupe bench store` times (insert in batches, plain search, search with a filter).

    python bench/milvus_lite_peer.py DIR [--queries 200] [--batch 5000]

Rows carry a `bucket` field (id mod 10), and the filtered search asks for `bucket == 3`, a tenth of the
rows. Recall is measured against the set's exact top-10 (for the filtered search, against the exact
top-10 among matching rows). Run beside `loupe bench store --data DIR` in the same session.
"""
import argparse
import os
import tempfile
import time

import numpy as np

from vectors import VectorSet


def timed_searches(client, vectors, count, **options):
    found, start = [], time.perf_counter()
    for query in vectors.queries[:count]:
        hits = client.search("bench", data=[query.tolist()], limit=10, **options)[0]
        found.append([hit["id"] for hit in hits])
    return found, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()

    from pymilvus import MilvusClient

    vectors = VectorSet(args.data)
    count = min(args.queries, vectors.query_count)
    with tempfile.TemporaryDirectory() as folder:
        client = MilvusClient(os.path.join(folder, "bench.db"))
        client.create_collection("bench", dimension=vectors.dim, metric_type="COSINE", auto_id=False,
                                 enable_dynamic_field=True)
        start = time.perf_counter()
        for first in range(0, vectors.count, args.batch):
            rows = [{"id": i, "vector": vectors.base[i].tolist(), "bucket": i % 10}
                    for i in range(first, min(vectors.count, first + args.batch))]
            client.insert("bench", rows)
        seconds = time.perf_counter() - start
        print(f"milvus-lite\tinsert rows_per_s={vectors.count / seconds:.0f} seconds={seconds:.1f}", flush=True)

        found, seconds = timed_searches(client, vectors, count)
        recall = vectors.recall_at_10(found)
        print(f"milvus-lite\tsearch qps={count / seconds:.1f} mean_ms={1000 * seconds / count:.1f} "
              f"recall={recall:.4f}", flush=True)

        found, seconds = timed_searches(client, vectors, count, filter="bucket == 3")
        matching = np.arange(3, vectors.count, 10)
        hits = 0
        for query, ids in zip(vectors.queries[:count], found):
            truth = matching[np.argsort(-(vectors.base[matching] @ query))[:10]]
            hits += len(set(ids) & set(map(int, truth)))
        print(f"milvus-lite\tfiltered qps={count / seconds:.1f} recall={hits / (10 * count):.4f} "
              f"(bucket == 3, a tenth of the rows)", flush=True)
        client.close()


if __name__ == "__main__":
    main()
