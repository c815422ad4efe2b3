"""The Milvus code of the Twelve Labs video-embedding tutorial, as written, with seeded random vectors in
place of the Twelve Labs Embed API's segments.

    python tutorial_twelvelabs_video.py URI TOKEN

Prints one JSON line with the hits, so a caller can compare servers (Loupe and milvus-lite).
"""
import json
import random
import sys
from types import SimpleNamespace

from pymilvus import MilvusClient

uri, token = sys.argv[1], sys.argv[2]
rng = random.Random(7)


def fake_task_result(segments):
    """What `task.retrieve()` gives: 6-second clip segments of 1024 floats, then the whole video."""
    out = []
    for i in range(segments):
        out.append(SimpleNamespace(embeddings_float=[rng.gauss(0, 1) for _ in range(1024)], embedding_scope="clip",
                                   start_offset_sec=6.0 * i, end_offset_sec=6.0 * (i + 1)))
    out.append(SimpleNamespace(embeddings_float=[rng.gauss(0, 1) for _ in range(1024)], embedding_scope="video",
                               start_offset_sec=0.0, end_offset_sec=6.0 * segments))
    return SimpleNamespace(video_embedding=SimpleNamespace(segments=out))


# --- the tutorial's Milvus code ---
milvus_client = MilvusClient(uri=uri, token=token)
collection_name = "twelvelabs_demo_collection"
if milvus_client.has_collection(collection_name=collection_name):
    milvus_client.drop_collection(collection_name=collection_name)
milvus_client.create_collection(collection_name=collection_name, dimension=1024)


def insert_embeddings(milvus_client, collection_name, task_result, video_url):
    embeddings = task_result.video_embedding.segments
    data = []
    for i, v in enumerate(embeddings):
        data.append({
            "id": i,
            "vector": v.embeddings_float,
            "embedding_scope": v.embedding_scope,
            "start_offset_sec": v.start_offset_sec,
            "end_offset_sec": v.end_offset_sec,
            "video_url": video_url,
        })
    insert_result = milvus_client.insert(collection_name=collection_name, data=data)
    print(f"Inserted {len(data)} embeddings into Milvus", file=sys.stderr)
    return insert_result


def perform_similarity_search(milvus_client, collection_name, query_vector, limit=5, filter=""):
    search_results = milvus_client.search(
        collection_name=collection_name,
        data=[query_vector],
        limit=limit,
        filter=filter,
        output_fields=["embedding_scope", "start_offset_sec", "end_offset_sec", "video_url"],
    )
    return search_results


task_result = fake_task_result(20)
video_url = "https://example.com/videos/sample.mp4"
insert_result = insert_embeddings(milvus_client, collection_name, task_result, video_url)
assert insert_result["insert_count"] == 21, insert_result
assert list(insert_result["ids"]) == list(range(21)), insert_result

query_vector = task_result.video_embedding.segments[0].embeddings_float
search_results = perform_similarity_search(milvus_client, collection_name, query_vector)
report = {"hits": [], "filtered": []}
for i, result in enumerate(search_results[0]):
    report["hits"].append({
        "id": result["id"],
        "video_url": result["entity"]["video_url"],
        "range": [result["entity"]["start_offset_sec"], result["entity"]["end_offset_sec"]],
        "scope": result["entity"]["embedding_scope"],
        "distance": round(result["distance"], 4),
    })

# The tutorial's search, narrowed with filters on the inserted fields.
query_vector = task_result.video_embedding.segments[7].embeddings_float
for result in perform_similarity_search(milvus_client, collection_name, query_vector, limit=3,
                                        filter='embedding_scope == "clip" and start_offset_sec >= 30')[0]:
    report["filtered"].append({"id": result["id"], "start": result["entity"]["start_offset_sec"],
                               "distance": round(result["distance"], 4)})
# --- end of the tutorial's code ---

assert len(report["hits"]) == 5, report
assert report["hits"][0]["id"] == 0 and report["hits"][0]["distance"] > 0.999, report
assert report["hits"][0]["video_url"] == video_url and report["hits"][0]["range"] == [0.0, 6.0], report
assert report["filtered"][0]["id"] == 7, report
assert all(h["start"] >= 30 for h in report["filtered"]) and len(report["filtered"]) == 3, report
print(json.dumps(report))
