"""Every MilvusClient call the gRPC surface serves, plus the error cases, against one server.

    python broad_client.py URI TOKEN --server loupe|lite [--record OUT.json]

Each step's outcome (a normalised result, or the exception's type and code) goes into the record, which
compare_records.py compares between servers field by field. With --server loupe the script also
asserts Loupe's own answers (the test in MilvusGRPCTests runs it so); with lite it only records.
"""
import argparse
import json
import logging
import random
import sys
import time

from pymilvus import AnnSearchRequest, DataType, MilvusClient, MilvusException, RRFRanker, WeightedRanker

parser = argparse.ArgumentParser()
parser.add_argument("uri")
parser.add_argument("token")
parser.add_argument("--server", choices=["loupe", "lite"], required=True)
parser.add_argument("--record")
parser.add_argument("--protected", help="the library's own collection, which drop, insert and delete must refuse (Loupe only)")
args = parser.parse_args()
logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # errors are expected here; the record has them
loupe = args.server == "loupe"
record = {}
failures = []
rng = random.Random(1234)
DIM = 8


def vec():
    return [round(rng.uniform(-1, 1), 4) for _ in range(DIM)]


timings = {}


def step(name, fn, expect_error=None):
    """Runs one call; records what it gave. `expect_error` (Loupe only): the pymilvus code it must raise."""
    started = time.perf_counter()
    try:
        value = fn()
        record[name] = {"ok": value}
        if loupe and expect_error is not None:
            failures.append(f"{name}: expected MilvusException code {expect_error}, got {value!r}")
    except MilvusException as e:
        record[name] = {"error": type(e).__name__, "code": e.code, "message": str(e.message)[:160]}
        if loupe and expect_error != e.code:
            failures.append(f"{name}: {type(e).__name__} code {e.code}: {e.message}")
    except Exception as e:  # noqa: BLE001 - every outcome is recorded
        record[name] = {"error": type(e).__name__, "message": str(e)[:160]}
        if loupe and expect_error != type(e).__name__:
            failures.append(f"{name}: {type(e).__name__}: {e}")
    timings[name] = round(time.perf_counter() - started, 3)
    return record[name].get("ok")


def check(name, condition, detail=""):
    if loupe and not condition:
        failures.append(f"{name}: {detail or 'check failed'}")


def hits(results, *fields):
    return [[{"id": h.id, "distance": round(h["distance"], 3), **{f: h["entity"].get(f) for f in fields}}
             for h in result] for result in results]


def fields_of(description):
    return [{k: f.get(k) for k in ("field_id", "name", "type", "is_primary", "auto_id", "params", "element_type")
             if k in f} for f in description["fields"]]


client = step("connect", lambda: MilvusClient(uri=args.uri, token=args.token) and "connected")
client = MilvusClient(uri=args.uri, token=args.token)
step("get_server_version", lambda: bool(client.get_server_version()))
step("list_databases", lambda: client.list_databases())
step("create_database", lambda: client.create_database("other"), expect_error=10)
for name in ("broad", "broad_full", "broad_renamed"):
    client.drop_collection(name)

# Collections: the quick setup and a full schema.
step("create_quick", lambda: client.create_collection("broad", dimension=DIM, metric_type="L2",
                                                       enable_dynamic_field=True))
described = step("describe_quick", lambda: client.describe_collection("broad"))
if described:
    record["describe_quick"] = {"ok": {"fields": fields_of(described), "auto_id": described["auto_id"],
                                       "enable_dynamic_field": described["enable_dynamic_field"],
                                       "num_partitions": described["num_partitions"]}}
    check("describe_quick", [f["field_id"] for f in described["fields"]] == [100, 101], described)
step("has_collection", lambda: [client.has_collection("broad"), client.has_collection("no_such_collection")])
step("list_collections", lambda: sorted(n for n in client.list_collections() if n.startswith("broad")))

schema = MilvusClient.create_schema(auto_id=True, enable_dynamic_field=False)
schema.add_field("pk", DataType.INT64, is_primary=True)
schema.add_field("title", DataType.VARCHAR, max_length=64)
schema.add_field("year", DataType.INT64)
schema.add_field("score", DataType.DOUBLE)
schema.add_field("tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=8, max_length=16)
schema.add_field("info", DataType.JSON)
schema.add_field("embedding", DataType.FLOAT_VECTOR, dim=DIM)
index_params = client.prepare_index_params()
index_params.add_index("embedding", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 100})
step("create_full", lambda: client.create_collection("broad_full", schema=schema, index_params=index_params))
full = step("describe_full", lambda: fields_of(client.describe_collection("broad_full")))
index = step("describe_index", lambda: {k: v for k, v in client.describe_index("broad_full", "embedding").items()
                                        if k in ("index_type", "metric_type", "field_name", "M", "efConstruction")})
check("describe_index", index and index.get("metric_type") == "IP", index)
step("list_indexes", lambda: client.list_indexes("broad_full"))

# Data: 10k rows with dynamic keys, and rows of every declared type.
colors = ["red", "green", "blue", "black"]
rows = [{"id": i, "vector": vec(), "color": colors[i % 4], "n": i % 10} for i in range(10_000)]
started = time.perf_counter()
inserted = step("insert_10k", lambda: client.insert("broad", rows)["insert_count"])
record["insert_10k_seconds"] = round(time.perf_counter() - started, 3)
check("insert_10k", inserted == 10_000, inserted)
full_rows = [{"title": f"t{i}", "year": 1990 + i % 30, "score": i / 10, "tags": ["a", "b"][: 1 + i % 2],
              "info": {"k": i % 3}, "embedding": vec()} for i in range(200)]
auto = step("insert_auto_id", lambda: (lambda r: [r["insert_count"], len(set(r["ids"]))])(client.insert("broad_full", full_rows)))
check("insert_auto_id", auto == [200, 200], auto)
step("flush", lambda: client.flush("broad") or "flushed")


def index_after_flush():
    """Flush starts indexing what waits; describe_index reports it until every row is in the graph."""
    deadline = time.monotonic() + 120
    while True:
        d = client.describe_index("broad", "vector")
        if int(d.get("pending_index_rows", 0)) == 0 and d.get("state", "Finished") == "Finished":
            return [int(d["total_rows"]), int(d["indexed_rows"])]
        if time.monotonic() > deadline:
            return ["still pending", d]
        time.sleep(0.05)  # polling a state the server reports, not timing it


indexed = step("index_after_flush", index_after_flush)
check("index_after_flush", indexed == [10_000, 10_000], indexed)
step("stats", lambda: client.get_collection_stats("broad"))

step("query_filter", lambda: sorted(client.query("broad", filter="id < 5", output_fields=["n", "color"]),
                                    key=lambda r: r["id"]))
step("query_count", lambda: client.query("broad", filter='color == "red"', output_fields=["count(*)"]))
step("query_count_all", lambda: client.query("broad", output_fields=["count(*)"]))
step("query_limit_offset", lambda: len(client.query("broad", filter="id >= 100", limit=5, offset=2)))
step("query_star", lambda: sorted([sorted(r.keys()) for r in client.query("broad_full", filter="year > 2000",
                                                                          output_fields=["*"], limit=3)]))
step("query_json_array", lambda: client.query("broad_full", filter='info["k"] == 1 and array_contains(tags, "b")',
                                              output_fields=["count(*)"]))
step("get", lambda: sorted([(r["id"], r["color"]) for r in client.get("broad", ids=[1, 2, 3])]))

queries = [rows[i]["vector"] for i in (10, 20, 30)]
found = step("search_nq3", lambda: hits(client.search("broad", data=queries, limit=5, output_fields=["color"]), "color"))
check("search_nq3", found and [r[0]["id"] for r in found] == [10, 20, 30], found)
step("search_filter_offset", lambda: hits(client.search("broad", data=[queries[0]], limit=5, offset=2,
                                                        filter='color == "blue"', output_fields=["n"]), "n"))
step("search_range", lambda: hits(client.search("broad", data=[queries[0]], limit=5,
                                                search_params={"params": {"radius": 1.0, "range_filter": 0.2}})))
step("search_group_by", lambda: sorted(h["entity"]["color"] for h in client.search(
    "broad", data=[queries[1]], limit=3, group_by_field="color", output_fields=["color"])[0]))
step("search_ef", lambda: [h["id"] for h in client.search("broad", data=[queries[2]], limit=3,
                                                          search_params={"params": {"ef": 64}})[0]])
started = time.perf_counter()
for i in range(200):
    client.search("broad", data=[rows[i * 7]["vector"]], limit=10)
record["search_200_seconds"] = round(time.perf_counter() - started, 3)
step("search_full_star", lambda: sorted(hits(client.search("broad_full", data=[full_rows[3]["embedding"]], limit=1,
                                                           output_fields=["title", "year"]), "title", "year")[0][0].keys()))

step("hybrid_rrf", lambda: [h["id"] for h in client.hybrid_search(
    "broad", [AnnSearchRequest([queries[0]], "vector", {}, limit=5), AnnSearchRequest([queries[1]], "vector", {}, limit=5)],
    RRFRanker(60), limit=4)[0]])
step("hybrid_weighted", lambda: [h["id"] for h in client.hybrid_search(
    "broad", [AnnSearchRequest([queries[0]], "vector", {}, limit=5), AnnSearchRequest([queries[1]], "vector", {}, limit=5)],
    WeightedRanker(0.8, 0.2), limit=3)[0]])

step("upsert", lambda: client.upsert("broad", [{"id": 1, "vector": vec(), "color": "white", "n": 1}])["upsert_count"])
step("after_upsert", lambda: client.get("broad", ids=[1], output_fields=["color"]))
def deleted(result):
    """pymilvus 3 answers the deleted keys; older versions a dict with the count."""
    return len(result) if isinstance(result, list) else result["delete_count"]


step("delete_ids", lambda: deleted(client.delete("broad", ids=[1, 2])))
step("delete_filter", lambda: deleted(client.delete("broad", filter="n == 7")))
step("count_after_delete", lambda: client.query("broad", output_fields=["count(*)"]))

# Partitions.
step("create_partition", lambda: client.create_partition("broad", "p1") or "created")
step("has_partition", lambda: [client.has_partition("broad", "p1"), client.has_partition("broad", "p9")])
step("list_partitions", lambda: sorted(client.list_partitions("broad")))
step("insert_partition", lambda: client.insert("broad", [{"id": 20_000, "vector": vec(), "color": "p", "n": 0}],
                                               partition_name="p1")["insert_count"])
step("query_partition", lambda: client.query("broad", filter="id >= 0", partition_names=["p1"], output_fields=["color"]))
step("search_partition", lambda: [h["id"] for h in client.search("broad", data=[queries[0]], limit=3,
                                                                 partition_names=["p1"])[0]])
step("release_partition", lambda: client.release_partitions("broad", ["p1"]) or "released")
step("drop_partition", lambda: client.drop_partition("broad", "p1") or "dropped")

# Loading, aliases, renaming.
step("load", lambda: client.load_collection("broad") or "loaded")
step("load_state", lambda: str(client.get_load_state("broad")["state"]))
step("release", lambda: client.release_collection("broad") or "released")
step("load_again", lambda: client.load_collection("broad") or "loaded")
step("create_alias", lambda: client.create_alias("broad", "broad_alias") or "created")
step("create_alias_again", lambda: client.create_alias("broad", "broad_alias") or "created")
step("describe_alias", lambda: client.describe_alias("broad_alias"))
step("list_aliases", lambda: client.list_aliases("broad")["aliases"])
step("has_alias", lambda: client.has_collection("broad_alias"))
step("describe_via_alias", lambda: [client.describe_collection("broad_alias")[k] for k in ("collection_name", "aliases")])
step("query_via_alias", lambda: client.query("broad_alias", filter="n < 3", output_fields=["count(*)"])[0]["count(*)"])
step("search_via_alias", lambda: [h["id"] for h in client.search("broad_alias", data=[queries[0]], limit=3)[0]])
step("error_alias_taken", lambda: client.create_alias("broad_full", "broad_alias"), expect_error=1602)
step("error_alias_is_collection", lambda: client.create_alias("broad", "broad_full"), expect_error=1601)
step("error_alias_of_missing", lambda: client.create_alias("no_such_collection", "other_alias"), expect_error=100)
if loupe:  # milvus-lite drops the collection the alias names; Milvus and Loupe refuse
    step("error_drop_via_alias", lambda: client.drop_collection("broad_alias"), expect_error=1100)
step("alter_alias", lambda: client.alter_alias("broad_full", "broad_alias") or "altered")
step("alias_moved", lambda: [client.describe_alias("broad_alias")["collection_name"],
                             client.list_aliases("broad")["aliases"], client.list_aliases("broad_full")["aliases"]])
step("drop_alias", lambda: client.drop_alias("broad_alias") or "dropped")
step("drop_alias_again", lambda: client.drop_alias("broad_alias") or "dropped")
step("error_describe_dropped_alias", lambda: client.describe_alias("broad_alias"), expect_error=1600)
step("alias_before_rename", lambda: client.create_alias("broad_full", "full_alias") or "created")
step("rename", lambda: client.rename_collection("broad_full", "broad_renamed") or "renamed")
step("has_renamed", lambda: [client.has_collection("broad_full"), client.has_collection("broad_renamed")])
step("alias_follows_rename", lambda: client.describe_alias("full_alias")["collection_name"])

# Iterators.
def iterate_query():
    it = client.query_iterator("broad", batch_size=1000, filter="n < 3", output_fields=["n"])
    total = 0
    while True:
        batch = it.next()
        if not batch:
            it.close()
            return total
        total += len(batch)

step("query_iterator", iterate_query)

def iterate_search():
    it = client.search_iterator("broad", data=[queries[0]], batch_size=50, limit=200)
    seen = []
    while True:
        batch = it.next()
        if not batch:
            it.close()
            return [len(seen), len(set(seen))]
        seen += [h["id"] for h in batch]

step("search_iterator", iterate_search)

# Error cases.
step("error_unknown_collection", lambda: client.describe_collection("no_such_collection"), expect_error=100)
step("error_search_unknown", lambda: client.search("no_such_collection", data=[queries[0]], limit=3), expect_error=100)
step("error_bad_filter", lambda: client.query("broad", filter="color === 'red' and", output_fields=["n"]), expect_error=1100)
step("error_wrong_dimension_insert", lambda: client.insert("broad", [{"id": 30_000, "vector": [0.1] * (DIM + 1)}]),
     expect_error=1100)
step("error_wrong_dimension_search", lambda: client.search("broad", data=[[0.1] * (DIM + 2)], limit=3), expect_error=1100)
step("error_drop_index", lambda: client.drop_index("broad", "vector"), expect_error=10)
if loupe and args.protected:
    step("error_drop_library_collection", lambda: client.drop_collection(args.protected), expect_error=1401)
    # A row pymilvus accepts (it checks rows against the schema before sending), so the server is what refuses it.
    def library_row():
        row = {}
        for field in client.describe_collection(args.protected)["fields"]:
            kind, params = field["type"], field.get("params", {})
            if field.get("auto_id"):
                continue
            if kind == DataType.FLOAT_VECTOR:
                row[field["name"]] = [0.1] * int(params["dim"])
            elif kind == DataType.VARCHAR:
                row[field["name"]] = "/nowhere.png"
            elif kind in (DataType.FLOAT, DataType.DOUBLE):
                row[field["name"]] = 0.0
            elif kind == DataType.BOOL:
                row[field["name"]] = False
            elif kind == DataType.JSON:
                row[field["name"]] = {}
            elif kind == DataType.ARRAY:
                row[field["name"]] = []
            else:
                row[field["name"]] = 1
        return row
    step("error_insert_library_collection", lambda: client.insert(args.protected, [library_row()]), expect_error=1401)
    step("error_delete_library_collection", lambda: client.delete(args.protected, filter="id > 0"), expect_error=1401)
    step("library_collection_kept", lambda: client.has_collection(args.protected))
    check("library_collection_kept", record["library_collection_kept"].get("ok") is True, record["library_collection_kept"])
if loupe:
    step("error_no_token", lambda: MilvusClient(uri=args.uri).list_collections(), expect_error=2)
    step("error_wrong_token", lambda: MilvusClient(uri=args.uri, token="root:wrong-token").list_collections(),
         expect_error=2)

step("drop", lambda: [client.drop_collection("broad"), client.drop_collection("broad_renamed"),
                      client.has_collection("broad")][2])
step("aliases_dropped_with_collection", lambda: client.list_aliases()["aliases"])

if args.record:
    with open(args.record, "w") as f:
        json.dump(record, f, indent=1, sort_keys=True, default=str)
slow = sorted(timings.items(), key=lambda kv: -kv[1])[:5]
print("slowest steps: " + ", ".join(f"{k} {v}s" for k, v in slow), file=sys.stderr)
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"{len(record)} steps recorded" + (", Loupe's answers as expected" if loupe else ""))
