# Entry points: `make demo` and `make test` set everything up themselves.
SWIFT ?= swift
LOUPE := .build/release/loupe
MODEL := Tests/Fixtures/clip-tiny
IMAGES := Tests/Fixtures/images

.PHONY: demo test build bootstrap bench bench-media format clean

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

# Image decode + CLIP preprocessing on 12-MP JPEGs (Pillow peer in the same run), then 1 fps sampling of
# a 20 s 1080p H.264 clip. Needs the peers' venv (../shared/bench/README.md).
BENCH_JPEGS ?= /tmp/loupe-bench-jpegs
BENCH_VIDEO ?= /tmp/loupe-bench-1080p.mp4
bench-media: build
	@test -d $(BENCH_JPEGS) || /tmp/pv/bin/python tools/decode_peer.py make $(BENCH_JPEGS) 12
	$(LOUPE) bench decode --dir $(BENCH_JPEGS)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /tmp/pv/bin/python tools/decode_peer.py run $(BENCH_JPEGS)
	@test -f $(BENCH_VIDEO) || $(LOUPE) bench video --file $(BENCH_VIDEO) --make 20 --source $(BENCH_JPEGS)/photo_00.jpg > /dev/null
	$(LOUPE) bench video --file $(BENCH_VIDEO)
	$(LOUPE) bench video --file $(BENCH_VIDEO) --keyframe-tolerance 0.5
	$(LOUPE) bench video --file $(BENCH_VIDEO) --no-skip

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
