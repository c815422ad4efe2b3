#!/usr/bin/env python3
"""pymilvus against a Milvus-protocol server: inserts/s, then k=10 searches/s with one client and with
several client threads, and recall@10, on a make_vectors.py set.

    python bench/pymilvus_peer.py DIR --uri http://127.0.0.1:19530 [--token root:TOKEN] [--ef 64]
    python bench/pymilvus_peer.py DIR --uri /tmp/bench.db        # milvus-lite (a file path)
    ... --wait-index   # time the index build: poll describe_index until no row is pending

Run it against `loupe serve --milvus-port N` and against milvus-lite in the same session and quote the
ratios. The collection is made with MilvusClient's quick setup (dimension, COSINE, explicit int64 ids),
exactly as the seed tutorials make theirs; inserts go in batches of --batch rows, one call at a time.
Searches send one query vector a call, the way an application serving users does. Recall is against the
set's exact top-10. Needs the milvus-lite venv's Python (pymilvus, numpy): scripts/milvus-test-server
venv lite.
"""
import argparse
import threading
import time

from vectors import VectorSet


def run_searches(client, vectors, queries, params):
    found = {}
    for index in queries:
        hits = client.search("bench", data=[vectors.queries[index].tolist()], limit=10,
                             search_params={"params": params})[0]
        found[index] = [hit["id"] for hit in hits]
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data")
    parser.add_argument("--uri", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--name", default=None, help="label for the output lines (default: the URI)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--ef", type=int, default=None, help="HNSW ef sent as a search parameter")
    parser.add_argument("--passes", type=int, default=1,
                        help="timed passes of the searches: a server that builds its index in the background after "
                             "the inserts (as Loupe and Milvus do) reaches its steady rate in the later ones")
    parser.add_argument("--wait-index", action="store_true",
                        help="after the inserts and flush, wait until describe_index reports no pending rows")
    args = parser.parse_args()

    from pymilvus import MilvusClient

    name = args.name or args.uri
    vectors = VectorSet(args.data)
    count = min(args.queries, vectors.query_count)
    params = {"ef": args.ef} if args.ef else {}
    client = MilvusClient(uri=args.uri, token=args.token)
    if client.has_collection("bench"):
        client.drop_collection("bench")
    client.create_collection("bench", dimension=vectors.dim, metric_type="COSINE", auto_id=False)

    # Two rates: the insert calls alone (pymilvus encoding, the server's work, the wire), and the whole
    # loop with the application's own work of turning numpy rows into pymilvus's dicts (the same for
    # every server, so it narrows the ratio between them).
    start = time.perf_counter()
    calls = 0.0
    for first in range(0, vectors.count, args.batch):
        rows = [{"id": i, "vector": vectors.base[i].tolist()}
                for i in range(first, min(vectors.count, first + args.batch))]
        began = time.perf_counter()
        client.insert("bench", rows)
        calls += time.perf_counter() - began
    seconds = time.perf_counter() - start
    print(f"{name}\tinsert rows_per_s={vectors.count / calls:.0f} seconds={calls:.1f} "
          f"with_row_building rows_per_s={vectors.count / seconds:.0f} seconds={seconds:.1f} "
          f"(batches of {args.batch})", flush=True)
    client.flush("bench")
    if args.wait_index:
        # Poll describe_index, as a Milvus user waiting for the build does, until no row waits for it.
        start = time.perf_counter()
        while True:
            described = client.describe_index("bench", client.list_indexes("bench")[0])
            pending = int(described.get("pending_index_rows", 0))
            if pending == 0 and described.get("state", "Finished") == "Finished":
                break
            time.sleep(0.5)
        print(f"{name}\tindex wait_s={time.perf_counter() - start:.1f} indexed_rows={described.get('indexed_rows')} "
              f"total_rows={described.get('total_rows')}", flush=True)

    # A warm-up pass (index build or load, caches), not timed.
    run_searches(client, vectors, range(min(50, count)), params)

    for number in range(1, args.passes + 1):
        start = time.perf_counter()
        found = run_searches(client, vectors, range(count), params)
        seconds = time.perf_counter() - start
        recall = vectors.recall_at_10([found[i] for i in range(count)])
        print(f"{name}\tsearch pass={number} clients=1 qps={count / seconds:.1f} mean_ms={1000 * seconds / count:.2f} "
              f"recall={recall:.4f}", flush=True)

    clients = [MilvusClient(uri=args.uri, token=args.token) for _ in range(args.clients)]
    results = [None] * args.clients

    def worker(slot):
        results[slot] = run_searches(clients[slot], vectors, range(slot, count, args.clients), params)

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(args.clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    merged = {}
    for part in results:
        merged.update(part)
    recall = vectors.recall_at_10([merged[i] for i in range(count)])
    print(f"{name}\tsearch clients={args.clients} qps={count / seconds:.1f} recall={recall:.4f}", flush=True)

    client.drop_collection("bench")
    for other in clients:
        other.close()
    client.close()


if __name__ == "__main__":
    main()
