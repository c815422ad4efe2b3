#!/usr/bin/env python3
"""Writes a reproducible set of CLIP-like unit vectors for `loupe bench ann|store` and the peers here.

    python bench/make_vectors.py OUT [--count 100000] [--queries 1000] [--dim 512] [--seed 1]

Real image embeddings are not uniform on the sphere: they crowd into themes of very different sizes and
share a few dominant directions. So each vector here is a theme's centre, plus a pull along directions
shared by every theme, plus its own noise, normalised; theme sizes follow a power law. Queries are drawn
the same way (not copied from the base).

Files in OUT: base.f32 and queries.f32 (little-endian float32, one row per vector), truth.i32 (for each
query the ids of its 100 nearest base vectors by cosine, nearest first) and meta.json (n, q, dim,
truth_k, seed, metric). Needs numpy only.
"""
import argparse
import json
import os

import numpy as np


def sample(rng, count, centres, weights, shared, spread):
    """`count` unit vectors: theme centre + shared-direction pull + own noise."""
    themes = rng.choice(len(centres), size=count, p=weights)
    pull = rng.standard_normal((count, shared.shape[0]), dtype=np.float32) @ shared
    noise = rng.standard_normal((count, centres.shape[1]), dtype=np.float32)
    vectors = centres[themes] + spread[themes, None] * (0.8 * pull + 0.5 * noise)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


def nearest(base, queries, k, block=200):
    """Exact top-k ids by inner product (cosine: all vectors are unit length), nearest first."""
    truth = np.empty((len(queries), k), dtype=np.int32)
    for start in range(0, len(queries), block):
        scores = queries[start:start + block] @ base.T
        top = np.argpartition(scores, -k, axis=1)[:, -k:]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        truth[start:start + block] = np.take_along_axis(top, order, axis=1)
    return truth


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--themes", type=int, default=800)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.count < 100 or args.queries < 1 or args.dim < 2:
        parser.error("need --count >= 100, --queries >= 1 and --dim >= 2")

    rng = np.random.default_rng(args.seed)
    centres = rng.standard_normal((args.themes, args.dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    centres *= 2.5
    weights = 1.0 / np.arange(1, args.themes + 1) ** 0.8
    weights /= weights.sum()
    shared = rng.standard_normal((48, args.dim), dtype=np.float32) / np.sqrt(48)
    spread = rng.uniform(0.5, 1.5, size=args.themes).astype(np.float32)

    base = sample(rng, args.count, centres, weights, shared, spread)
    queries = sample(rng, args.queries, centres, weights, shared, spread)
    truth = nearest(base, queries, 100)

    os.makedirs(args.out, exist_ok=True)
    base.tofile(os.path.join(args.out, "base.f32"))
    queries.tofile(os.path.join(args.out, "queries.f32"))
    truth.tofile(os.path.join(args.out, "truth.i32"))
    meta = {"n": args.count, "q": args.queries, "dim": args.dim, "truth_k": 100, "seed": args.seed, "metric": "cosine"}
    with open(os.path.join(args.out, "meta.json"), "w") as file:
        json.dump(meta, file)
    print(f"{args.out}: {args.count} x {args.dim} base vectors, {args.queries} queries, exact top-100")


if __name__ == "__main__":
    main()
