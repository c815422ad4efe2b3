#!/usr/bin/env python3
"""CLIP ViT-B/32 in PyTorch and ONNX Runtime, the engines Loupe's own CLIP is measured against, with
random weights (no download): images per second at batch 1 and 32, and the latency of one text query.

    python bench/clip_peers.py [--threads 2] [--seconds 10]

ONNX Runtime runs the exported vision model twice: in fp32, and quantised with
`onnxruntime.quantization.quantize_dynamic` (int8 weights per output channel, activations quantised
on the fly), the int8 CPU deployment users reach for, against `loupe bench clip --precision int8`.

Compare with `loupe bench clip --arch ViT-B-32 --random-weights --batch 32` run in the same session,
with the same number of threads.
"""
import argparse
import os
import tempfile
import time


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
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()

    import numpy as np
    import torch
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    # transformers' default CLIPConfig is ViT-B/32: 12 vision layers of width 768 on 32-pixel patches of a
    # 224 x 224 picture, 12 text layers of width 512.
    model = CLIPModel(CLIPConfig()).eval()
    tokens = torch.randint(1, 49406, (1, 12))
    with torch.inference_mode():
        for batch in (1, 32):
            pixels = torch.randn(batch, 3, 224, 224)
            images_per_s = rate(lambda: model.get_image_features(pixel_values=pixels), args.seconds, batch)
            print(f"pytorch\timages batch={batch}\timages_per_s={images_per_s:.1f}", flush=True)
        per_s = rate(lambda: model.get_text_features(input_ids=tokens), args.seconds, 1)
        print(f"pytorch\ttext 12 tokens\tms={1000 / per_s:.1f}", flush=True)

    import onnxruntime

    class Vision(torch.nn.Module):
        def __init__(self, clip):
            super().__init__()
            self.clip = clip

        def forward(self, pixel_values):
            return self.clip.get_image_features(pixel_values=pixel_values)

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "vision.onnx")
        # The TorchScript exporter (dynamo=False): PyTorch 2.9 and later default to the dynamo exporter,
        # which needs onnxscript on top of the requirements.
        torch.onnx.export(Vision(model), (torch.randn(1, 3, 224, 224),), path, input_names=["pixels"],
                          output_names=["embedding"], dynamic_axes={"pixels": {0: "batch"}}, opset_version=17,
                          dynamo=False)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantized = os.path.join(folder, "vision-int8.onnx")
        quantize_dynamic(path, quantized, per_channel=True, weight_type=QuantType.QInt8)
        sessions = [
            ("onnxruntime", onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])),
            ("onnxruntime-int8", onnxruntime.InferenceSession(quantized, options, providers=["CPUExecutionProvider"])),
        ]
        for batch in (1, 32):
            pixels = np.random.default_rng(0).standard_normal((batch, 3, 224, 224), dtype=np.float32)
            outputs = []
            for name, session in sessions:
                images_per_s = rate(lambda: session.run(None, {"pixels": pixels}), args.seconds, batch)
                print(f"{name}\timages batch={batch}\timages_per_s={images_per_s:.1f}", flush=True)
                outputs.append(session.run(None, {"pixels": pixels})[0])
            # How far ORT's own int8 lands from its fp32, the figure Loupe's int8 cosine is compared with.
            a, b = outputs
            cosines = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
            print(f"onnxruntime-int8\tcosine to fp32 batch={batch}\tmean={cosines.mean():.4f}\tmin={cosines.min():.4f}",
                  flush=True)


if __name__ == "__main__":
    main()
