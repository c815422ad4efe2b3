#!/usr/bin/env python3
"""The vector index against its peers on one make_vectors.py set: hnswlib, faiss (HNSW) and usearch,
with the parameters `loupe bench ann` uses (M=16, efConstruction=200).

    python bench/ann_peers.py DIR [hnswlib faiss usearch exact] [--threads 2]

Each library builds its graph on --threads threads, then answers the queries one at a time on one thread
for a rising ef until recall@10 passes 0.90, 0.95 and 0.99. The lines end like `loupe bench ann`'s
(`recall=R qps=Q build_s=B ef=E`) so the two can be read side by side. Run both in the same session:
only the ratio means anything on a busy machine.
"""
import argparse
import time

import numpy as np

from vectors import VectorSet

EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 320, 384, 512, 768, 1024]
TARGETS = [0.90, 0.95, 0.99]


def sweep(name, vectors, build_seconds, search_one):
    """Times single-query search for each ef and prints the first ef reaching each target recall."""
    pending = list(TARGETS)
    for ef in EFS:
        start = time.perf_counter()
        found = [search_one(query, ef) for query in vectors.queries]
        seconds = time.perf_counter() - start
        recall = vectors.recall_at_10(found)
        while pending and recall >= pending[0]:
            print(f"{name}\ttarget={pending.pop(0):.2f}\trecall={recall:.4f} qps={len(found) / seconds:.0f} "
                  f"build_s={build_seconds:.1f} ef={ef}", flush=True)
        if not pending:
            return
    print(f"{name}\tno ef up to {EFS[-1]} reached recall {pending[0]:.2f}")


def run_hnswlib(vectors, threads):
    import hnswlib

    index = hnswlib.Index(space="ip", dim=vectors.dim)
    index.init_index(max_elements=vectors.count, M=16, ef_construction=200, random_seed=1)
    index.set_num_threads(threads)
    start = time.perf_counter()
    index.add_items(vectors.base, np.arange(vectors.count))
    build = time.perf_counter() - start
    index.set_num_threads(1)

    def search(query, ef):
        index.set_ef(max(ef, 10))
        return index.knn_query(query[None, :], k=10)[0][0]

    sweep("hnswlib", vectors, build, search)


def run_faiss(vectors, threads):
    import faiss

    faiss.omp_set_num_threads(threads)
    index = faiss.IndexHNSWFlat(vectors.dim, 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 200
    start = time.perf_counter()
    index.add(vectors.base)
    build = time.perf_counter() - start
    faiss.omp_set_num_threads(1)

    def search(query, ef):
        index.hnsw.efSearch = max(ef, 10)
        return index.search(query[None, :], 10)[1][0]

    sweep("faiss-hnsw", vectors, build, search)


def run_usearch(vectors, threads):
    from usearch.index import Index

    index = Index(ndim=vectors.dim, metric="ip", dtype="f32", connectivity=16, expansion_add=200)
    start = time.perf_counter()
    index.add(np.arange(vectors.count), vectors.base, threads=threads)
    build = time.perf_counter() - start

    def search(query, ef):
        index.expansion_search = max(ef, 10)
        return index.search(query, 10, threads=1).keys

    sweep("usearch", vectors, build, search)


def run_exact(vectors, threads):
    """Brute force with numpy, one query at a time: the floor any index must beat."""
    start = time.perf_counter()
    found = [np.argpartition(-(vectors.base @ query), 10)[:10] for query in vectors.queries]
    seconds = time.perf_counter() - start
    print(f"numpy-exact\trecall={vectors.recall_at_10(found):.4f} qps={len(found) / seconds:.0f} build_s=0.0")


def main():
    runners = {"hnswlib": run_hnswlib, "faiss": run_faiss, "usearch": run_usearch, "exact": run_exact}
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data")
    parser.add_argument("peers", nargs="*", help=f"some of {', '.join(runners)} (default: all)")
    parser.add_argument("--threads", type=int, default=2, help="build threads (search always uses one)")
    args = parser.parse_args()
    unknown = [name for name in args.peers if name not in runners]
    if unknown:
        parser.error(f"unknown peer {unknown[0]!r}; choose from {', '.join(runners)}")
    vectors = VectorSet(args.data)
    print(f"{vectors.count} x {vectors.dim}, {vectors.query_count} queries, M=16 efC=200", flush=True)
    for name in args.peers or list(runners):
        runners[name](vectors, args.threads)


if __name__ == "__main__":
    main()
