# Entry points: `make demo` and `make test` set everything up themselves.
SWIFT ?= swift
LOUPE := .build/release/loupe
MODEL := Tests/Fixtures/clip-tiny
IMAGES := Tests/Fixtures/images

# The peer benchmarks' Python (scripts/bench-venv makes it) and their inputs, all under .build/.
PY := .build/bench-venv/bin/python
BENCH_DIR := .build/bench

.PHONY: siglip-fixtures demo test build bootstrap bench bench-venv bench-peers bench-ann bench-store bench-media format clean \
	milvus-test-servers milvus-test-servers-stop

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c release --product loupe

# The LoupeMilvus integration tests run against Milvus 2.3.5 and milvus-lite, which
# scripts/test-with-milvus starts (installing them into venvs under .build/ once) and always stops.
# They run in a test process of their own: in one process with the CPU-bound suites, on two cores,
# their gRPC replies wait minutes for a free thread and the calls hit their deadlines. The same holds for
# the pymilvus clients of Loupe's own gRPC server (MilvusGRPCTests, server in the test process): they run
# last, in a process of their own, with the milvus-lite venv's Python (`milvus-test-server venv lite` makes
# it if missing). Every run always happens; make fails if any does.
test: bootstrap
	$(SWIFT) build --build-tests
	@rc=0; \
	scripts/test-with-milvus $(SWIFT) test --skip-build --filter LoupeMilvusTests || rc=1; \
	scripts/milvus-test-server venv lite || rc=1; \
	$(SWIFT) test --skip-build --skip LoupeMilvusTests --skip MilvusGRPCTests || rc=1; \
	$(SWIFT) test --skip-build --filter MilvusGRPCTests || rc=1; \
	exit $$rc

# Start or stop the Milvus test servers by hand (then `swift test --filter LoupeMilvusTests`).
milvus-test-servers:
	@scripts/milvus-test-server start
milvus-test-servers-stop:
	@scripts/milvus-test-server stop

demo: build
	@scripts/demo $(LOUPE)

# CLIP ViT-B/32 in fp32, bf16 and int8 and its peers (PyTorch, ONNX Runtime fp32 and dynamic int8) in one
# run, side by side with Loupe's ratios (bench/clip_table.py; BENCH_ARCH=SigLIP2-B-16 for SigLIP 2).
BENCH_ARCH ?= ViT-B-32
bench: build bench-venv
	$(PY) bench/clip_table.py --loupe $(LOUPE) --arch $(BENCH_ARCH) --threads 2

# The peers' Python environment (.build/bench-venv; once, a few minutes). See bench/README.md.
bench-venv:
	@scripts/bench-venv > /dev/null

# CLIP ViT-B/32 in PyTorch and ONNX Runtime (fp32 and dynamic int8), to compare with `make bench` in the
# same session.
bench-peers: bench-venv
	$(PY) bench/clip_peers.py

# The vector index and the store against hnswlib, faiss, usearch and Milvus Lite on 100k x 512 vectors.
BENCH_VECTORS ?= $(BENCH_DIR)/vectors-100k
$(BENCH_VECTORS)/meta.json:
	@$(MAKE) --no-print-directory bench-venv
	$(PY) bench/make_vectors.py $(BENCH_VECTORS)

# bench-ann: Loupe (int8 traversal, fp32 re-ranking) and hnswlib in pairs, side by side with the ratios, then
# faiss and usearch. BENCH_ANN_STORAGE=fp32 measures fp32 traversal instead.
BENCH_ANN_STORAGE ?= int8
bench-ann: build bench-venv $(BENCH_VECTORS)/meta.json
	$(PY) bench/ann_table.py $(BENCH_VECTORS) --loupe $(LOUPE) --threads 2 -- --storage $(BENCH_ANN_STORAGE)
	$(PY) bench/ann_peers.py $(BENCH_VECTORS) faiss usearch

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

# Generated code (Sources/LoupeMilvus/Generated, tools/generate-milvus-proto.sh) is left as generated.
format:
	find Sources Tests -name '*.swift' -not -path '*/Generated/*' -print0 \
		| xargs -0 $(SWIFT) format --in-place Package.swift

clean:
	rm -rf .build

# Regenerate the SigLIP fixtures of Tests/Fixtures/siglip/: tokenizers, then the tiny models and their
# reference embeddings (scripts/siglip-venv makes the venv).
siglip-fixtures:
	scripts/siglip-venv > /dev/null
	.build/siglip-venv/bin/python tools/make_siglip_fixtures.py
	.build/siglip-venv/bin/python tools/make_siglip_model_fixtures.py
