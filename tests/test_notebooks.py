"""Every notebook runs top to bottom (nbdev_test); with RTML_LFW set, the cells tagged `lfw` run too, with the dlib extra
installed the cells tagged `dlib`, and in the full tier (RTML_TESTS=full, as .ci/run runs) the exercises' solutions
(`solution`) too."""
import importlib.util, os, subprocess, sys
from pathlib import Path
from conftest import full_tier

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks():
    dlib = all(importlib.util.find_spec(m) for m in ('dlib', 'face_recognition_models'))
    flags = (['lfw'] if os.environ.get('RTML_LFW') else []) + (['dlib'] if dlib else []) + (['solution'] if full_tier() else [])
    cmd = [str(Path(sys.executable).parent / 'nbdev_test'), '--n_workers', '2', '--timing']
    if flags: cmd += ['--flags', ' '.join(flags)]
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}  # two notebooks at a time on two cores, one thread each: 445 s against 798 s with two threads each
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3000, env=env)
    print(r.stdout[-5000:], r.stderr[-5000:])
    assert r.returncode == 0, f"nbdev_test failed:\n{r.stdout[-8000:]}\n{r.stderr[-8000:]}"
