#!/usr/bin/env python3
"""Peer for `loupe bench ingest`: the seed tutorial's indexing pipeline on the same folder.

    .build/bench-venv/bin/python tools/ingest_peer.py DIR [--batch 32]

Pillow opens and converts each picture, transformers' PIL-based CLIP image processor prepares it,
a ViT-B/32-shaped CLIPModel with random weights (as bench/clip_peers.py builds it) embeds a
batch, and the normalised vectors are inserted into Milvus Lite (what `MilvusClient("x.db")` runs).
Prints `ingest_images_per_s=X` for the whole run, model construction excluded.
"""
import argparse
import glob
import os
import tempfile
import time

import numpy as np
import torch
from PIL import Image
from pymilvus import MilvusClient
from transformers import CLIPConfig, CLIPModel

try:  # transformers 5: the PIL-based processor has its own name
    from transformers import CLIPImageProcessorPil as Processor
except ImportError:  # transformers 4
    from transformers import CLIPImageProcessor as Processor

EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    files = sorted(p for p in glob.glob(os.path.join(args.dir, "**", "*"), recursive=True) if p.lower().endswith(EXTENSIONS))
    if not files:
        raise SystemExit(f"no pictures in {args.dir}")

    torch.manual_seed(0)
    cfg = CLIPConfig(
        text_config=dict(hidden_size=512, intermediate_size=2048, num_attention_heads=8, num_hidden_layers=12,
                         max_position_embeddings=77, vocab_size=49408),
        vision_config=dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                           image_size=224, patch_size=32),
        projection_dim=512)
    model = CLIPModel(cfg).eval()
    processor = Processor()
    client = MilvusClient(os.path.join(tempfile.mkdtemp(), "peer.db"))
    client.create_collection("media", dimension=512, metric_type="COSINE")

    start = time.perf_counter()
    next_id = 0
    with torch.inference_mode():
        for i in range(0, len(files), args.batch):
            paths = files[i:i + args.batch]
            images = [Image.open(p).convert("RGB") for p in paths]
            pixels = processor(images=images, return_tensors="pt")["pixel_values"]
            features = model.get_image_features(pixel_values=pixels)
            if not isinstance(features, torch.Tensor):  # transformers 5 returns an output object
                features = features.pooler_output  # the projected image embedding
            vectors = torch.nn.functional.normalize(features, dim=-1).numpy().astype(np.float32)
            rows = [{"id": next_id + k, "vector": v.tolist(), "path": p} for k, (p, v) in enumerate(zip(paths, vectors))]
            next_id += len(rows)
            client.insert("media", rows)
    elapsed = time.perf_counter() - start
    print(f"files={len(files)} elapsed_s={elapsed:.2f}")
    print(f"ingest_images_per_s={len(files) / elapsed:.2f}")


if __name__ == "__main__":
    main()
