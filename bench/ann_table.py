#!/usr/bin/env python3
"""Runs `loupe bench ann` and hnswlib (ann_peers.py) back to back on one make_vectors.py set and prints
their figures side by side with Loupe's ratio, once per pair.

    python bench/ann_table.py DIR [--loupe .build/release/loupe] [--repeat 2] [--threads 2]
                              [--target-recall 0.95] [-- extra `loupe bench ann` options, e.g. --storage int8]

Both build on --threads threads with M=16, efConstruction=200 and search one query at a time on one
thread, sweeping the same ef values; each reports the first ef reaching the target recall@10. The machine
may be busy: each pair runs in the same minute, the load average is printed with it, and only the ratios
of a pair mean much. Ratios are Loupe's QPS over hnswlib's (higher is better) and Loupe's build time over
hnswlib's (lower is better).
"""
import argparse
import os
import re
import sys

from runner import run

HERE = os.path.dirname(os.path.abspath(__file__))
FIGURES = re.compile(r"recall=(?P<recall>[\d.]+) qps=(?P<qps>[\d.]+) build_s=(?P<build>[\d.]+)"
                     r"(?: bytes_per_vector=(?P<bytes>[\d.]+))? ef=(?P<ef>\d+)")


def figures(lines, prefix, what):
    """The figures of the first line starting with `prefix` that carries them."""
    for line in lines:
        if line.startswith(prefix):
            match = FIGURES.search(line)
            if match:
                return match
    sys.exit(f"ann_table: {what} printed no line with recall=, qps=, build_s= and ef=")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data")
    parser.add_argument("--loupe", default=".build/release/loupe")
    parser.add_argument("--python", default=sys.executable, help="interpreter with hnswlib (the bench venv's)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--target-recall", type=float, default=0.95, choices=[0.90, 0.95, 0.99])
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.repeat < 1 or args.threads < 1:
        parser.error("--repeat and --threads must be positive")
    if not os.path.exists(os.path.join(args.data, "meta.json")):
        parser.error(f"{args.data}: no meta.json (make it with bench/make_vectors.py)")

    rows = []
    for pair in range(args.repeat):
        load = os.getloadavg()[0]
        loupe = figures(run([args.loupe, "bench", "ann", "--data", args.data, "--threads", str(args.threads),
                             "--target-recall", str(args.target_recall), *extra]), "recall=", "loupe bench ann")
        peer = figures(run([args.python, os.path.join(HERE, "ann_peers.py"), args.data, "hnswlib",
                            "--threads", str(args.threads)]), f"hnswlib\ttarget={args.target_recall:.2f}", "hnswlib")
        rows.append((pair + 1, (load + os.getloadavg()[0]) / 2, loupe, peer))

    print(f"\nrecall@10 >= {args.target_recall}, M=16 efC=200, build on {args.threads} threads, search on 1")
    print(f"{'pair':>4} {'load':>5} | {'loupe qps':>9} {'ef':>4} {'recall':>6} {'build s':>7} {'B/vec':>6} | "
          f"{'hnswlib qps':>11} {'ef':>4} {'recall':>6} {'build s':>7} | {'qps x':>6} {'build x':>7}")
    for pair, load, loupe, peer in rows:
        qps_ratio = float(loupe["qps"]) / float(peer["qps"])
        build_ratio = float(loupe["build"]) / float(peer["build"])
        print(f"{pair:>4} {load:>5.2f} | {loupe['qps']:>9} {loupe['ef']:>4} {loupe['recall']:>6} {loupe['build']:>7} "
              f"{loupe['bytes'] or '-':>6} | {peer['qps']:>11} {peer['ef']:>4} {peer['recall']:>6} {peer['build']:>7} | "
              f"{qps_ratio:>6.2f} {build_ratio:>7.2f}")


if __name__ == "__main__":
    main()
