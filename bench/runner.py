"""What the bench/*_table.py scripts share: running one benchmark command and keeping its output."""
import os
import subprocess
import sys


def run(command):
    """Runs one benchmark, echoing its output to stderr; returns its standard output's lines. Exits with a
    message naming the calling script and the command if it fails."""
    script = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    print("$ " + " ".join(command), file=sys.stderr, flush=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    sys.stderr.write(done.stdout)
    if done.returncode != 0:
        sys.exit(f"{script}: {command[0]} failed with status {done.returncode}")
    return done.stdout.splitlines()
