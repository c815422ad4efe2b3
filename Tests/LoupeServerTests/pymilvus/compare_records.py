"""Compares two records of broad_client.py (Loupe's and milvus-lite's) field by field.

    python compare_records.py LOUPE.json LITE.json [--known KNOWN.json]

Prints every difference as `step.path: loupe=... lite=...`. Steps named in KNOWN.json (a map from step
to the reason, as the README's "Use Loupe from pymilvus" section documents them) are listed apart as
explained; the exit status is 1 when an unexplained difference remains. Timings (`*_seconds`) and
error messages (servers word them differently) are not compared; error types and codes are.
"""
import json
import sys


def walk(path, a, b, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key == "message":
                continue
            walk(f"{path}.{key}", a.get(key, "<absent>"), b.get(key, "<absent>"), out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            walk(f"{path}[{i}]", x, y, out)
    elif isinstance(a, float) and isinstance(b, float):
        if abs(a - b) > 1e-3:
            out.append((path, a, b))
    elif a != b:
        out.append((path, a, b))


def main():
    loupe_path, lite_path = sys.argv[1], sys.argv[2]
    known = {}
    if "--known" in sys.argv:
        with open(sys.argv[sys.argv.index("--known") + 1]) as f:
            known = json.load(f)
    with open(loupe_path) as f:
        loupe = json.load(f)
    with open(lite_path) as f:
        lite = json.load(f)
    differences = []
    for step in sorted(set(loupe) | set(lite)):
        if step.endswith("_seconds"):
            continue
        walk(step, loupe.get(step, "<not run>"), lite.get(step, "<not run>"), differences)
    explained = [d for d in differences if d[0].split(".")[0].split("[")[0] in known]
    unexplained = [d for d in differences if d not in explained]
    steps = len([s for s in set(loupe) | set(lite) if not s.endswith("_seconds")])
    print(f"{steps} steps, {len(differences)} differing values: {len(explained)} explained, {len(unexplained)} not")
    for path, a, b in unexplained:
        print(f"  UNEXPLAINED {path}: loupe={json.dumps(a, default=str)[:200]} lite={json.dumps(b, default=str)[:200]}")
    shown = set()
    for path, a, b in explained:
        step = path.split(".")[0].split("[")[0]
        if step not in shown:
            print(f"  explained {step}: {known[step]}")
            shown.add(step)
        print(f"    {path}: loupe={json.dumps(a, default=str)[:160]} lite={json.dumps(b, default=str)[:160]}")
    sys.exit(1 if unexplained else 0)


if __name__ == "__main__":
    main()
