#!/usr/bin/env python3
"""SigLIP 2 B/16 (google/siglip2-base-patch16-224's shape) in PyTorch and ONNX Runtime, the engines Loupe's own
SigLIP is measured against, with random weights (no download): images per second at batch 1 and 32, and the
latency of one text query of 64 tokens (SigLIP pads every query to its 64 positions).

    python bench/siglip_peers.py [--arch SigLIP2-B-16|SigLIP-B-16] [--threads 2] [--seconds 10]

Compare with `loupe bench clip --arch SigLIP2-B-16 --random-weights --batch 32` run in the same session,
with the same number of threads.
"""
import argparse
import os
import tempfile
import time

# The vocabulary is all that differs between the two (see SiglipConfiguration.standard in LoupeCLIP): the
# rest is transformers' SiglipTextConfig / SiglipVisionConfig defaults, which are the base-patch16-224 shape
# (width 768, 12 layers, 12 heads, MLP 3072, 16-pixel patches of 224 x 224, 64 text positions,
# gelu_pytorch_tanh, layer_norm_eps 1e-6).
VOCABULARY = {"SigLIP-B-16": (32000, 1), "SigLIP2-B-16": (256000, 0)}  # (vocab_size, pad_token_id)


def rate(run, seconds, items):
    """Calls per second of `run` over about `seconds` after one warm-up call, times `items`."""
    run()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run()
        calls += 1
    return items * calls / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=sorted(VOCABULARY), default="SigLIP2-B-16")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()

    import numpy as np
    import torch
    from transformers import SiglipConfig, SiglipModel

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    vocabulary, pad = VOCABULARY[args.arch]
    config = SiglipConfig(text_config={"vocab_size": vocabulary, "pad_token_id": pad}, vision_config={})
    model = SiglipModel(config).eval()
    # Ten word ids, the end token (1), then padding to the 64 positions, as Loupe's benchmark feeds it.
    words = torch.randint(300, vocabulary, (1, 10))
    tokens = torch.cat([words, torch.tensor([[1]]), torch.full((1, 64 - 11), pad)], dim=1)
    with torch.inference_mode():
        for batch in (1, 32):
            pixels = torch.randn(batch, 3, 224, 224)
            images_per_s = rate(lambda: model.get_image_features(pixel_values=pixels), args.seconds, batch)
            print(f"pytorch\timages batch={batch}\timages_per_s={images_per_s:.1f}", flush=True)
        per_s = rate(lambda: model.get_text_features(input_ids=tokens), args.seconds, 1)
        print(f"pytorch\ttext 64 tokens\tms={1000 / per_s:.1f}", flush=True)

    import onnxruntime

    class Vision(torch.nn.Module):
        def __init__(self, siglip):
            super().__init__()
            self.siglip = siglip

        def forward(self, pixel_values):
            return self.siglip.get_image_features(pixel_values=pixel_values)

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "vision.onnx")
        export = dict(input_names=["pixels"], output_names=["embedding"], dynamic_axes={"pixels": {0: "batch"}},
                      opset_version=17)
        try:  # the TorchScript exporter, as clip_peers.py uses; newer torch also has (and may default to) dynamo
            torch.onnx.export(Vision(model), (torch.randn(1, 3, 224, 224),), path, dynamo=False, **export)
        except TypeError:
            torch.onnx.export(Vision(model), (torch.randn(1, 3, 224, 224),), path, **export)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        for batch in (1, 32):
            pixels = np.random.default_rng(0).standard_normal((batch, 3, 224, 224), dtype=np.float32)
            images_per_s = rate(lambda: session.run(None, {"pixels": pixels}), args.seconds, batch)
            print(f"onnxruntime\timages batch={batch}\timages_per_s={images_per_s:.1f}", flush=True)


if __name__ == "__main__":
    main()
