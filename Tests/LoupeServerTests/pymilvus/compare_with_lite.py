"""Runs broad_client.py against Loupe and against a milvus-lite of its own, and compares the records.

    python compare_with_lite.py LOUPE_URI LOUPE_TOKEN [--keep DIR]

milvus-lite is started with scripts/milvus-test-server (state in a temporary folder, so a suite's own
servers are untouched) and always stopped. Exit status 0 when every difference is one
known_differences.json explains (compare_records.py prints them all). With --keep, the two records
are left in DIR.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

here = pathlib.Path(__file__).resolve().parent
root = here.parents[2]
control = root / "scripts" / "milvus-test-server"
uri, token = sys.argv[1], sys.argv[2]
keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
work = pathlib.Path(tempfile.mkdtemp(prefix="loupe-grpc-compare-"))
env = dict(os.environ, LOUPE_MILVUS_TEST_STATE=str(work / "servers"))
python = sys.executable


def run(*args):
    """Runs a command (its output to ours) and returns its exit status; close_fds keeps this process's
    descriptors (the test's exit detection among them) out of the milvus-lite it starts."""
    return subprocess.run(list(map(str, args)), env=env, close_fds=True).returncode


status = 1
try:
    run(control, "start", "lite")
    state = dict(line.split("=", 1) for line in (work / "servers/lite/state").read_text().splitlines() if "=" in line)
    if state.get("status") != "running":
        print(f"milvus-lite did not start: {state}", file=sys.stderr)
    else:
        lite_uri = f"http://127.0.0.1:{state['grpc_port']}"
        loupe_ok = run(python, here / "broad_client.py", uri, token, "--server", "loupe", "--record", work / "loupe.json")
        lite_ok = run(python, here / "broad_client.py", lite_uri, "root:Milvus", "--server", "lite", "--record", work / "lite.json")
        if loupe_ok != 0 or lite_ok != 0:
            print(f"broad_client.py failed: loupe {loupe_ok}, milvus-lite {lite_ok}", file=sys.stderr)
        else:
            status = run(python, here / "compare_records.py", work / "loupe.json", work / "lite.json",
                         "--known", here / "known_differences.json")
            if keep:
                pathlib.Path(keep).mkdir(parents=True, exist_ok=True)
                for name in ("loupe.json", "lite.json"):
                    shutil.copy(work / name, pathlib.Path(keep) / name)
finally:
    run(control, "stop", "lite")
    shutil.rmtree(work, ignore_errors=True)
sys.exit(status)
