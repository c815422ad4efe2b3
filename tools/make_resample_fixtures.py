#!/usr/bin/env python3
"""Writes Tests/Fixtures/resample-reference.json: Pillow's exact output for every resampling
filter on a few small synthetic images, and Pillow's decoding of a few unusual Netpbm files.

Loupe re-implements Pillow's resize (src/libImaging/Resample.c) and its PPM reader; these
references let the Swift tests check every filter byte for byte, not only CLIP's bicubic.
Deterministic (fixed seed); needs only numpy and Pillow. Run from the repository root:

    .build/bench-venv/bin/python tools/make_resample_fixtures.py

The resize output depends on the Pillow version: Pillow 13 runs the vertical pass first when
the height shrinks by more than twice as many pixels as the width. The version used is
recorded in the JSON.
"""

from __future__ import annotations

import base64
import io
import json
import pathlib

import numpy as np
import PIL
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "resample-reference.json"

FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "lanczos": Image.Resampling.LANCZOS,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def make_sources(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Small RGB images with gradients, noise and hard 0/255 edges (which make the sharper
    kernels overshoot, exercising the clipping)."""

    def gradient_noise(w: int, h: int) -> np.ndarray:
        yy, xx = np.mgrid[0:h, 0:w]
        base = np.stack(
            [xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1), (xx * 7 + yy * 13) % 256], -1
        )
        noisy = base + rng.integers(-60, 61, (h, w, 3))
        return np.clip(noisy, 0, 255).astype(np.uint8)

    def stripes(w: int, h: int) -> np.ndarray:
        xx = np.arange(w)[None, :, None]
        pattern = np.where((xx // 3) % 2 == 0, 255, 0) * np.ones((h, 1, 3), dtype=np.int64)
        pattern[:, :, 1] = np.where((np.arange(h)[:, None] // 2) % 2 == 0, 0, 255)
        return pattern.astype(np.uint8)

    return {
        "gradient_37x53": gradient_noise(37, 53),
        "stripes_64x16": stripes(64, 16),
        "tall_12x90": gradient_noise(12, 90),
        "column_1x9": gradient_noise(1, 9),
        "row_9x1": gradient_noise(9, 1),
        "pixel_1x1": np.array([[[200, 17, 90]]], dtype=np.uint8),
    }


def targets(w: int, h: int) -> list[tuple[int, int]]:
    """Output sizes: shrink both ways, grow both ways, one axis only, mixed, and 1x1."""
    sizes = [
        (max(1, w // 2), max(1, h // 3)),
        (min(w * 2 + 1, w + 11), h + 3),
        (w, max(1, h // 4)),
        (max(1, w // 3), h),
        (w + 5, max(1, h // 2)),
        (1, 1),
        (3, 2),
    ]
    if (w, h) == (12, 90):
        # Height drop 70 > 2 * width drop 4: Pillow 13 resizes vertically first.
        sizes += [(10, 20), (5, 80), (24, 30)]
    seen: list[tuple[int, int]] = []
    for size in sizes:
        if size not in seen:
            seen.append(size)
    return seen


def ppm_cases() -> list[dict]:
    """Netpbm files Pillow decodes with scaling: maxval other than 255, 16-bit samples, and
    grey maps (expanded to RGB by convert("RGB"), as transformers does)."""
    cases = []

    def add(name: str, data: bytes) -> None:
        im = Image.open(io.BytesIO(data))
        im.load()
        rgb = im.convert("RGB")
        cases.append(
            {
                "name": name,
                "data": b64(data),
                "width": rgb.width,
                "height": rgb.height,
                "rgb": b64(rgb.tobytes()),
            }
        )

    # maxval 1000, 16-bit big-endian samples; includes values whose scaled value is a tie.
    samples = [0, 1, 2, 500, 501, 999, 1000, 300, 700, 2, 4, 998]
    add("p6_maxval_1000", b"P6\n2 2\n1000\n" + b"".join(v.to_bytes(2, "big") for v in samples))
    samples16 = [0, 65535, 32767, 32768, 128, 129, 257, 65280, 65279, 1, 2, 3]
    add("p6_maxval_65535", b"P6\n# sixteen bit\n2 2\n65535\n" + b"".join(v.to_bytes(2, "big") for v in samples16))
    add("p6_maxval_10", b"P6 3 1 10\n" + bytes([0, 1, 2, 3, 4, 5, 6, 7, 8]))
    add("p5_maxval_255", b"P5\n# grey\n3 2\n255\n" + bytes([0, 50, 100, 150, 200, 255]))
    add("p5_maxval_100", b"P5 4 1 100\n" + bytes([0, 33, 50, 100]))
    return cases


def main() -> None:
    rng = np.random.default_rng(20240611)
    sources = make_sources(rng)
    source_entries = {}
    cases = []
    for name, array in sources.items():
        h, w, _ = array.shape
        image = Image.fromarray(array, "RGB")
        source_entries[name] = {"width": w, "height": h, "rgb": b64(image.tobytes())}
        for tw, th in targets(w, h):
            for filter_name, filter_id in FILTERS.items():
                out = image.resize((tw, th), filter_id, reducing_gap=None)
                cases.append(
                    {
                        "source": name,
                        "filter": int(filter_id),
                        "filter_name": filter_name,
                        "width": tw,
                        "height": th,
                        "rgb": b64(out.tobytes()),
                    }
                )
    document = {
        "generator": "tools/make_resample_fixtures.py",
        "pillow": PIL.__version__,
        "note": "rgb fields are base64 interleaved RGB8, row-major; filter is Pillow's filter id",
        "sources": source_entries,
        "cases": cases,
        "ppm": ppm_cases(),
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(cases)} resize cases, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
