# Entry points: `make demo` and `make test` set everything up themselves.
SWIFT ?= swift
LOUPE := .build/release/loupe
MODEL := Tests/Fixtures/clip-tiny
IMAGES := Tests/Fixtures/images

# The peer benchmarks' Python (scripts/bench-venv makes it) and their inputs, all under .build/.
PY := .build/bench-venv/bin/python
BENCH_DIR := .build/bench

.PHONY: demo test build bootstrap bench bench-venv bench-peers bench-ann bench-store bench-media format clean

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c release --product loupe

test: bootstrap
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: build
	@scripts/demo $(LOUPE)

bench: build
	$(LOUPE) bench clip --arch ViT-B-32 --random-weights --batch 32 --precision fp32
	$(LOUPE) bench clip --arch ViT-B-32 --random-weights --batch 32 --precision bf16

# The peers' Python environment (.build/bench-venv; once, a few minutes). See bench/README.md.
bench-venv:
	@scripts/bench-venv > /dev/null

# CLIP ViT-B/32 in PyTorch and ONNX Runtime, to compare with `make bench` in the same session.
bench-peers: bench-venv
	$(PY) bench/clip_peers.py

# The vector index and the store against hnswlib, faiss, usearch and Milvus Lite on 100k x 512 vectors.
BENCH_VECTORS ?= $(BENCH_DIR)/vectors-100k
$(BENCH_VECTORS)/meta.json:
	@$(MAKE) --no-print-directory bench-venv
	$(PY) bench/make_vectors.py $(BENCH_VECTORS)

bench-ann: build bench-venv $(BENCH_VECTORS)/meta.json
	$(LOUPE) bench ann --data $(BENCH_VECTORS)
	$(PY) bench/ann_peers.py $(BENCH_VECTORS)

bench-store: build bench-venv $(BENCH_VECTORS)/meta.json
	$(LOUPE) bench store --data $(BENCH_VECTORS)
	$(PY) bench/milvus_lite_peer.py $(BENCH_VECTORS)

# Image decode + CLIP preprocessing on 12-MP JPEGs (Pillow peer in the same run), then 1 fps sampling of
# a 20 s 1080p H.264 clip. BENCH_PHOTO=photo.jpg makes the JPEGs from a photo instead of a gradient.
BENCH_JPEGS ?= $(BENCH_DIR)/jpegs
BENCH_VIDEO ?= $(BENCH_DIR)/1080p.mp4
bench-media: build bench-venv
	@test -d $(BENCH_JPEGS) || $(PY) tools/decode_peer.py make $(BENCH_JPEGS) 12 $(BENCH_PHOTO)
	$(LOUPE) bench decode --dir $(BENCH_JPEGS)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) tools/decode_peer.py run $(BENCH_JPEGS)
	@test -f $(BENCH_VIDEO) || $(LOUPE) bench video --file $(BENCH_VIDEO) --make 20 --source $(BENCH_JPEGS)/photo_00.jpg > /dev/null
	$(LOUPE) bench video --file $(BENCH_VIDEO)
	$(LOUPE) bench video --file $(BENCH_VIDEO) --keyframe-tolerance 0.5
	$(LOUPE) bench video --file $(BENCH_VIDEO) --no-skip

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
