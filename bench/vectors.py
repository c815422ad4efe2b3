"""Reads a set written by make_vectors.py (shared by the peer scripts here)."""
import json
import os

import numpy as np


class VectorSet:
    def __init__(self, directory):
        with open(os.path.join(directory, "meta.json")) as file:
            meta = json.load(file)
        self.count, self.query_count, self.dim = meta["n"], meta["q"], meta["dim"]
        truth_k = meta.get("truth_k", 100)
        self.base = np.fromfile(os.path.join(directory, "base.f32"), dtype=np.float32).reshape(self.count, self.dim)
        self.queries = np.fromfile(os.path.join(directory, "queries.f32"), dtype=np.float32).reshape(
            self.query_count, self.dim)
        self.truth = np.fromfile(os.path.join(directory, "truth.i32"), dtype=np.int32).reshape(
            self.query_count, truth_k)

    def recall_at_10(self, found):
        """Mean share of each query's true 10 nearest among the 10 ids found for it."""
        hits = sum(len(set(map(int, ids[:10])) & set(map(int, self.truth[i, :10]))) for i, ids in enumerate(found))
        return hits / (10 * len(found))
