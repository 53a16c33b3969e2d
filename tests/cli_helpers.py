"Running the `rtml` command line from tests."
import os, subprocess, sys
from pathlib import Path

RTML = str(Path(sys.executable).parent / 'rtml')


def run_rtml(*args, cache, timeout=900):
    "`rtml ARGS` in a subprocess with its own decode cache and without RTML_LFW (synthetic faces): the CompletedProcess."
    env = {k: v for k, v in os.environ.items() if k != 'RTML_LFW'} | {'RTML_CACHE': str(cache)}
    return subprocess.run([RTML, *args], capture_output=True, text=True, env=env, timeout=timeout)
