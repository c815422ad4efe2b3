#!/usr/bin/env python3
"""Writes the small odd-case image fixtures of Tests/Fixtures/media and what Pillow decodes them to.

Run with a Python that has Pillow (the peers' venv from scripts/bench-venv: .build/bench-venv/bin/python tools/make_media_fixtures.py).
The Swift tests compare LoupeMedia's decoding against `expected.json`, i.e. against Pillow's
`Image.open(path).convert("RGB")`.
"""
import json
import os
import random
import struct
import subprocess
import tempfile
import zlib

from PIL import Image, ImageOps

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "media")
os.makedirs(OUT, exist_ok=True)
W, H = 16, 12


def pattern(mode, value):
    image = Image.new(mode, (W, H))
    image.putdata([value(x, y) for y in range(H) for x in range(W)])
    return image


def save(name, image, **options):
    path = os.path.join(OUT, name)
    image.save(path, **options)
    return path


expected = {}


def record(name, transpose=False):
    rgb = Image.open(os.path.join(OUT, name))
    if transpose:
        rgb = ImageOps.exif_transpose(rgb)
    rgb = rgb.convert("RGB")
    expected[name] = {"width": rgb.width, "height": rgb.height,
                      "pixels": [channel for pixel in rgb.getdata() for channel in pixel]}


# CMYK JPEG: Pillow writes an Adobe APP14 marker and inverted samples, as Photoshop does.
save("cmyk.jpg", pattern("CMYK", lambda x, y: (x * 16, y * 20, (x + y) * 8, (x * y) % 200)), quality=100)
record("cmyk.jpg")


def without_adobe_marker(jpeg):
    """The JPEG with its APP14 segments removed (some writers omit it; Pillow assumes Adobe's inversion)."""
    out, i = bytearray(jpeg[:2]), 2
    while i < len(jpeg):
        marker = jpeg[i + 1]
        if marker == 0xDA:
            return bytes(out + jpeg[i:])
        length = jpeg[i + 2] << 8 | jpeg[i + 3]
        if marker != 0xEE:
            out += jpeg[i:i + 2 + length]
        i += 2 + length
    return bytes(out)


with open(os.path.join(OUT, "cmyk.jpg"), "rb") as f:
    cmyk = f.read()
with open(os.path.join(OUT, "cmyk-no-adobe.jpg"), "wb") as f:
    f.write(without_adobe_marker(cmyk))
record("cmyk-no-adobe.jpg")
# YCCK JPEG: written with libjpeg by a small C program (Pillow and FFmpeg only write CMYK).
with tempfile.TemporaryDirectory() as scratch:
    tool = os.path.join(scratch, "ycck")
    subprocess.run(["cc", os.path.join(os.path.dirname(__file__), "make_ycck_jpeg.c"), "-ljpeg", "-o", tool], check=True)
    subprocess.run([tool, os.path.join(OUT, "ycck.jpg")], check=True)
record("ycck.jpg")
# 16-bit PNGs: grey (Pillow mode I;16, clipped to 255 by convert) and RGB (high bytes kept).
save("grey16.png", pattern("I;16", lambda x, y: (x * 4000 + y * 37) % 65536))
record("grey16.png")
rgb16 = Image.new("RGB", (W, H))
rgb16.putdata([(x * 16, y * 20, 255 - x * 8) for y in range(H) for x in range(W)])
save("rgb8.png", rgb16)  # the same picture in 8 bits, for the 16-bit RGB check below


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# 16-bit RGB PNG written by hand (Pillow cannot save one): Pillow reads it as RGB, keeping high bytes.
rows = b"".join(b"\0" + b"".join(struct.pack(">HHH", x * 4000 + 255, y * 5000 + 128, 65535 - x * 3000)
                                   for x in range(W)) for y in range(H))
with open(os.path.join(OUT, "rgb16.png"), "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 16, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))
record("rgb16.png")
# JPEGs in the three common chroma layouts, to check colour conversion and upsampling against libjpeg.
photo = Image.new("RGB", (W * 3 + 1, H * 3 + 1))
photo.putdata([((x * 13 + y * 3) % 256, (y * 17 + 40) % 256, (x * y * 5 + 90) % 256)
               for y in range(H * 3 + 1) for x in range(W * 3 + 1)])
for name, subsampling in [("ycc420.jpg", 2), ("ycc422.jpg", 1), ("ycc444.jpg", 0)]:
    save(name, photo, quality=92, subsampling=subsampling)
    record(name)
save("progressive.jpg", photo, quality=92, progressive=True)
record("progressive.jpg")
# An animated GIF: only the first frame is decoded.
frames = [pattern("P", lambda x, y: (x // 4 + y // 3) % 4), pattern("P", lambda x, y: 2)]
for frame in frames:
    frame.putpalette([255, 0, 0, 0, 0, 255, 0, 200, 0, 250, 250, 250] + [0] * 756)
frames[0].save(os.path.join(OUT, "animated.gif"), save_all=True, append_images=frames[1:], duration=100, loop=0)
record("animated.gif")
# An animated WebP: FFmpeg 5.1 decodes only still WebP; LoupeMedia decodes the first frame.
webp_frames = [pattern("RGB", lambda x, y: (x * 16, y * 20, 90)), pattern("RGB", lambda x, y: (0, 0, 255))]
webp_frames[0].save(os.path.join(OUT, "animated.webp"), save_all=True, append_images=webp_frames[1:],
                    duration=100, lossless=True)
record("animated.webp")
# A GIF with a transparent index: Pillow keeps that index's palette colour (alpha dropped).
frames[0].save(os.path.join(OUT, "transparent.gif"), transparency=1)
record("transparent.gif")
# Lossy WebP: FFmpeg's VP8 decoder and colour conversion against libwebp's.
smooth = Image.new("RGB", (W * 3, H * 3))
smooth.putdata([(x * 5, y * 7, 128 + (x - y) * 2) for y in range(H * 3) for x in range(W * 3)])
save("lossy.webp", smooth, quality=90)
record("lossy.webp")
# EXIF orientation outside JPEG: PNG's eXIf chunk and WebP's EXIF chunk (Pillow transposes them too).
for name, orientation, options in [("exif6.png", 6, {}), ("exif8.webp", 8, {"lossless": True})]:
    exif = Image.Exif()
    exif[0x0112] = orientation
    rgb16.save(os.path.join(OUT, name), exif=exif, **options)
    record(name, transpose=True)
# Palette with transparency and grey + alpha: alpha is dropped, not blended.
save("palette.png", pattern("P", lambda x, y: (x + y) % 7), transparency=3)
record("palette.png")
save("grey_alpha.png", pattern("LA", lambda x, y: (x * 15, y * 20)))
record("grey_alpha.png")
save("rgba.webp", pattern("RGBA", lambda x, y: (x * 16, y * 20, 100, x * 10)), lossless=True)
record("rgba.webp")

# Broken and odd files.
with open(os.path.join(OUT, "rgb8.png"), "rb") as f:
    png = f.read()
with open(os.path.join(OUT, "truncated.png"), "wb") as f:
    f.write(png[: len(png) // 2])
jpeg_path = save("full.jpg", rgb16, quality=90)
with open(jpeg_path, "rb") as f:
    jpeg = f.read()
os.remove(jpeg_path)
with open(os.path.join(OUT, "truncated.jpg"), "wb") as f:
    f.write(jpeg[: len(jpeg) * 2 // 3])
open(os.path.join(OUT, "empty.jpg"), "wb").close()
random.seed(3)
with open(os.path.join(OUT, "random.bin"), "wb") as f:
    f.write(bytes(random.randrange(256) for _ in range(512)))
with open(os.path.join(OUT, "png-named.jpg"), "wb") as f:
    f.write(png)
with open(os.path.join(OUT, "text-named.png"), "wb") as f:
    f.write(b"this is not a picture\n")

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, separators=(",", ":"))

with open(os.path.join(OUT, "README.md"), "w") as f:
    f.write("""# Media fixtures (generated -- do not edit by hand)

Written by `tools/make_media_fixtures.py` with Pillow; the ordinary test media (every format, EXIF
orientations, bombs, videos) are generated inside the tests through LoupeMedia's own encoders.

- `cmyk.jpg` (Adobe APP14, inverted CMYK), `cmyk-no-adobe.jpg` (the same without APP14), `ycck.jpg` (Adobe YCCK, from `tools/make_ycck_jpeg.c`), `grey16.png` (Pillow mode I;16), `rgb16.png` (16-bit RGB,
  written by hand), `palette.png` (with a transparent index), `grey_alpha.png` (LA), `rgba.webp`
  (lossless with alpha), `ycc420.jpg`/`ycc422.jpg`/`ycc444.jpg` (chroma layouts), `progressive.jpg`, `animated.gif`
  (two frames), `animated.webp` (two lossless frames), `transparent.gif`, `lossy.webp`, `exif6.png` and `exif8.webp` (EXIF orientation outside JPEG): odd cases. `expected.json`
  holds `Image.open(f).convert("RGB")` for each (after `ImageOps.exif_transpose` for the `exif*` files):
  `{name: {width, height, pixels}}`.
- `rgb8.png`: an 8-bit picture; `png-named.jpg` is the same bytes under a JPEG name.
- `truncated.png`, `truncated.jpg` (cut short), `empty.jpg` (0 bytes), `random.bin` (512 random
  bytes), `text-named.png` (text under a PNG name): broken files and their error codes.
""")
