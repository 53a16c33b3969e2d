import os, shutil
from pathlib import Path
import pytest

# The README's command runs the test files in two processes (pytest.ini: `-n 2 --dist loadfile`), one torch thread
# each, and what they start (the CLI, nbdev_test's kernels) with one thread too: on two cores that does more work per
# second than one process with two threads, since most of these tests are small tensors that a second thread barely
# helps.
if os.environ.get('PYTEST_XDIST_WORKER'): os.environ['OMP_NUM_THREADS'] = '1'
from rtml.data import synthetic_faces, write_face_folder
import torch
if os.environ.get('PYTEST_XDIST_WORKER'): torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    "Every test decodes into its own cache folder."
    monkeypatch.setenv('RTML_CACHE', str(tmp_path / 'cache'))


@pytest.fixture(scope='session')
def tiny_faces():
    return synthetic_faces(n_people=24, images=(2, 4), size=48, seed=2)


@pytest.fixture
def tiny_lfw(tmp_path, tiny_faces):
    "An LFW-shaped folder (lfw/<person>/<person>_NNNN.jpg and the seven protocol files) of synthetic faces."
    root = write_face_folder(tiny_faces, tmp_path / 'lfw-copy')
    (root / 'images').rename(root / 'lfw')
    return root


def lfw_root():
    return os.environ.get('RTML_LFW')


needs_lfw = pytest.mark.skipif(not lfw_root(), reason='real LFW not available: set RTML_LFW to run these tests')


def full_tier():
    "Whether this run is the full tier (RTML_TESTS=full): the README's quick command leaves its tests out."
    return os.environ.get('RTML_TESTS', '').lower() == 'full'


# Test order: xdist hands out the files with the most tests first, so the notebooks' single test runs last, its two
# kernels on both cores once the other files are done. Started first instead (--no-loadscope-reorder), its kernels
# shared the cores with the other process and the quick tier took over 16 minutes instead of 9.5.
def pytest_collection_modifyitems(config, items):
    if full_tier(): return
    skip = pytest.mark.skip(reason='full tier only: run with RTML_TESTS=full (as .ci/run does)')
    for item in items:
        if 'full' in item.keywords: item.add_marker(skip)
