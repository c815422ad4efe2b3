#!/usr/bin/env python3
"""Runs `loupe bench clip` in fp32, bf16 and int8 and the PyTorch and ONNX Runtime peers (clip_peers.py,
or siglip_peers.py for a SigLIP --arch) back to back and prints their figures side by side with Loupe's
ratios, once per round.

    python bench/clip_table.py [--loupe .build/release/loupe] [--arch ViT-B-32] [--repeat 1] [--threads 2]
                               [--batch 32] [--seconds 8]

Each round runs Loupe's three precisions, then the peers, then Loupe's int8 once more, so the int8 ratio
is bracketed by a Loupe run on each side of the peer's (the machine may be busy; the load average is
printed with each round and only a round's own ratios mean much). Images/s are at batch --batch for both;
the text figure is one query's latency (12 tokens for CLIP, 64 for SigLIP). Ratios: Loupe's images/s over
the peer's (higher is better), and Loupe's int8 text latency as a fraction of PyTorch fp32's (1/N: higher N
is better). The CLIP peers are ViT-B/32 only, so that is the one CLIP --arch.
"""
import argparse
import os
import re
import sys

from runner import run

HERE = os.path.dirname(os.path.abspath(__file__))
PRECISIONS = ("fp32", "bf16", "int8")
LOUPE_FIGURES = re.compile(r"images_per_s=(?P<images>[\d.]+) text_ms=(?P<text>[\d.]+)")
RSS = re.compile(r"rss_mb=(?P<rss>\d+)")


def loupe(args, precision):
    """images/s, text ms and RSS (MB) of one `loupe bench clip` run."""
    lines = run([args.loupe, "bench", "clip", "--arch", args.arch, "--random-weights", "--batch", str(args.batch),
                 "--precision", precision, "--threads", str(args.threads)])
    figures = next((m for m in map(LOUPE_FIGURES.search, lines) if m), None)
    rss = next((m for m in map(RSS.search, lines) if m), None)
    if figures is None:
        sys.exit(f"clip_table: `loupe bench clip --precision {precision}` printed no images_per_s= and text_ms=")
    return float(figures["images"]), float(figures["text"]), int(rss["rss"]) if rss else None


def peers(args):
    """{"pytorch": ..., "onnxruntime": ..., "onnxruntime-int8": ...} images/s at --batch, and PyTorch's text ms."""
    script = "siglip_peers.py" if args.arch.startswith("SigLIP") else "clip_peers.py"
    command = [args.python, os.path.join(HERE, script), "--threads", str(args.threads), "--seconds", str(args.seconds)]
    if script == "siglip_peers.py":
        command += ["--arch", args.arch]
    images, text = {}, None
    for line in run(command):
        fields = line.split("\t")
        if len(fields) != 3:
            continue
        engine, what, value = fields
        if what == f"images batch={args.batch}" and value.startswith("images_per_s="):
            images[engine] = float(value.split("=")[1])
        elif engine == "pytorch" and what.startswith("text") and value.startswith("ms="):
            text = float(value.split("=")[1])
    if "onnxruntime" not in images or text is None:
        sys.exit(f"clip_table: {script} printed no ONNX Runtime batch={args.batch} or PyTorch text figure")
    return images, text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loupe", default=".build/release/loupe")
    parser.add_argument("--python", default=sys.executable, help="interpreter with torch and onnxruntime (the bench venv's)")
    parser.add_argument("--arch", default="ViT-B-32", choices=["ViT-B-32", "SigLIP2-B-16", "SigLIP-B-16"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32, choices=[1, 32], help="the peers measure batches of 1 and 32")
    parser.add_argument("--seconds", type=float, default=8, help="how long the peers time each figure")
    args = parser.parse_args()
    if args.repeat < 1 or args.threads < 1:
        parser.error("--repeat and --threads must be positive")
    if not os.access(args.loupe, os.X_OK):
        parser.error(f"{args.loupe}: not an executable (build it with `make build`)")

    rounds = []
    for number in range(args.repeat):
        load = os.getloadavg()[0]
        mine = {precision: loupe(args, precision) for precision in PRECISIONS}
        theirs, their_text = peers(args)
        int8_after = loupe(args, "int8")
        rounds.append((number + 1, (load + os.getloadavg()[0]) / 2, mine, int8_after, theirs, their_text))

    print(f"\n{args.arch}, random weights, batch {args.batch}, {args.threads} threads; images/s, text query ms")
    print(f"{'round':>5} {'load':>5} | {'fp32':>6} {'bf16':>6} {'int8':>13} | {'ORT fp32':>8} {'ORT int8':>8} "
          f"{'PyTorch':>7} | {'int8/ORT int8':>13} {'fp32/ORT':>8} {'bf16/ORT':>8}")
    for number, load, mine, int8_after, theirs, _ in rounds:
        fp32, bf16, int8 = (mine[p][0] for p in PRECISIONS)
        ort, ort8, torch = theirs.get("onnxruntime"), theirs.get("onnxruntime-int8"), theirs.get("pytorch")
        low, high = sorted((int8, int8_after[0]))
        int8_ratio = f"{low / ort8:.2f}-{high / ort8:.2f}" if ort8 else "-"
        print(f"{number:>5} {load:>5.2f} | {fp32:>6.1f} {bf16:>6.1f} {f'{int8:.1f}, {int8_after[0]:.1f}':>13} | "
              f"{ort:>8.1f} {ort8 if ort8 else '-':>8} {torch if torch else '-':>7} | "
              f"{int8_ratio:>13} {fp32 / ort:>8.2f} {bf16 / ort:>8.2f}")
    print(f"\n{'round':>5} | {'text fp32':>9} {'bf16':>6} {'int8':>6} | {'PyTorch fp32':>12} | {'int8/PyTorch':>12} | "
          f"{'RSS MB fp32':>11} {'bf16':>5} {'int8':>5}")
    for number, _, mine, _, _, their_text in rounds:
        texts = [mine[p][1] for p in PRECISIONS]
        rss = [mine[p][2] if mine[p][2] is not None else "-" for p in PRECISIONS]
        print(f"{number:>5} | {texts[0]:>9.2f} {texts[1]:>6.2f} {texts[2]:>6.2f} | {their_text:>12.1f} | "
              f"{f'1/{their_text / texts[2]:.1f}':>12} | {rss[0]:>11} {rss[1]:>5} {rss[2]:>5}")


if __name__ == "__main__":
    main()
