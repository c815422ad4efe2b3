# Entry points: `make demo` and `make test` set everything up themselves.
SWIFT ?= swift
LOUPE := .build/release/loupe
MODEL := Tests/Fixtures/clip-tiny
IMAGES := Tests/Fixtures/images

.PHONY: demo test build bootstrap bench format clean

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

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
