"""The Milvus code of the CLIP + Milvus text-to-image tutorial, as written, with seeded random vectors in
place of the CLIP model's.

    python tutorial_clip_text_to_image.py URI TOKEN

Prints one JSON line with the hits, so a caller can compare servers (Loupe and milvus-lite).
"""
import json
import random
import sys

from pymilvus import MilvusClient

uri, token = sys.argv[1], sys.argv[2]
rng = random.Random(42)


def embed():
    v = [rng.uniform(-1, 1) for _ in range(512)]
    norm = sum(x * x for x in v) ** 0.5
    return [x / norm for x in v]


# --- the tutorial's Milvus code ---
milvus_client = MilvusClient(uri=uri, token=token)
collection_name = "image_collection"
if milvus_client.has_collection(collection_name):
    milvus_client.drop_collection(collection_name)
milvus_client.create_collection(
    collection_name=collection_name,
    dimension=512,
    auto_id=True,
    enable_dynamic_field=True,
    metric_type="COSINE",
)

image_paths = [f"./images/train/{cls}/{i:04d}.JPEG" for cls in ("dog", "cat", "leopard", "bike") for i in range(25)]
vectors = {}
for image_path in image_paths:
    image_embedding = embed()
    vectors[image_path] = image_embedding
    milvus_client.insert(
        collection_name=collection_name,
        data={"vector": image_embedding, "filepath": image_path, "filename": image_path.split("/")[-1]},
    )

query_text = "a white dog"
# The tutorial embeds the text; here the "text" lands near one picture's vector.
target = image_paths[3]
query_embedding = [x + rng.uniform(-0.01, 0.01) for x in vectors[target]]
search_results = milvus_client.search(
    collection_name=collection_name,
    data=[query_embedding],
    limit=3,
    output_fields=["filepath"],
)
hits = []
for result in search_results:
    for hit in result:
        hits.append({"filepath": hit["entity"]["filepath"], "distance": round(hit["distance"], 4)})
# --- end of the tutorial's code ---

assert len(hits) == 3, hits
assert hits[0]["filepath"] == target, hits
assert hits[0]["distance"] > 0.99, hits
assert all(h["distance"] < 0.5 for h in hits[1:]), hits
print(json.dumps({"hits": hits}))
