#!/usr/bin/env python3
"""Pillow peer for `loupe bench decode`: JPEG decode + CLIP preprocessing throughput, one thread
(wall-clock and process CPU time, as `loupe bench decode` reports them).

    .build/bench-venv/bin/python tools/decode_peer.py make DIR [N [PHOTO]]  # N 12-megapixel JPEGs (4032x3024, q90) from PHOTO
    .build/bench-venv/bin/python tools/decode_peer.py run DIR         # images/s for each Pillow path

Paths timed per image:
  exact        Image.open -> convert("RGB") -> transformers CLIPImageProcessor (PIL backend, what
               LoupeCLIP's preprocessing reproduces byte for byte)
  exact-numpy  the same resize/crop done with Pillow directly and normalised with numpy (faster
               than transformers' wrapper, identical output)
  draft        Pillow's own JPEG reduced-size decode (Image.draft to >= 448 px) then exact-numpy
"""
import glob
import os
import sys
import time

import numpy as np
from PIL import Image

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def make(directory, count, source=None):
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(7)
    base = Image.open(source).convert("RGB") if source else Image.linear_gradient("L").convert("RGB")
    for i in range(count):
        # A photo (or a gradient), cropped differently each time, enlarged to 12 MP, with sensor-like grain.
        w, h = base.size
        left = int(rng.integers(0, w // 4))
        crop = base.crop((left, 0, left + w * 3 // 4, h)).resize((4032, 3024), Image.BICUBIC)
        pixels = np.asarray(crop, dtype=np.int16) + rng.normal(0, 6, (3024, 4032, 3)).astype(np.int16)
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
            os.path.join(directory, f"photo_{i:02d}.jpg"), quality=90)


def preprocess_numpy(image):
    w, h = image.size
    if w <= h:
        size = (224, int(224 * h / w))
    else:
        size = (int(224 * w / h), 224)
    image = image.resize(size, Image.BICUBIC)
    left, top = (size[0] - 224) // 2, (size[1] - 224) // 2
    image = image.crop((left, top, left + 224, top + 224))
    array = np.asarray(image, dtype=np.float32) * np.float32(1 / 255)
    return ((array - MEAN) / STD).transpose(2, 0, 1)


def run(directory):
    files = sorted(glob.glob(os.path.join(directory, "*.jpg")))
    from transformers import CLIPImageProcessor

    processor = CLIPImageProcessor()

    def exact(path):
        processor(images=Image.open(path).convert("RGB"), return_tensors="np")

    def exact_numpy(path):
        preprocess_numpy(Image.open(path).convert("RGB"))

    def draft(path):
        image = Image.open(path)
        image.draft("RGB", (448, 448))
        preprocess_numpy(image.convert("RGB"))

    for name, body in [("exact", exact), ("exact-numpy", exact_numpy), ("draft", draft)]:
        body(files[0])
        start = time.perf_counter()
        cpu_start = time.process_time()
        for path in files:
            body(path)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        print(f"pillow path={name} images={len(files)} images_per_s={len(files) / elapsed:.2f} "
              f"cpu_images_per_s={len(files) / cpu:.2f}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 12, sys.argv[4] if len(sys.argv) > 4 else None)
    elif len(sys.argv) == 3 and sys.argv[1] == "run":
        run(sys.argv[2])
    else:
        sys.exit(__doc__)
