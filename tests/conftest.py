import os, shutil
from pathlib import Path
import pytest
from rtml.data import synthetic_faces, write_face_folder


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


def pytest_collection_modifyitems(config, items):
    if full_tier(): return
    skip = pytest.mark.skip(reason='full tier only: run with RTML_TESTS=full (as .ci/run does)')
    for item in items:
        if 'full' in item.keywords: item.add_marker(skip)
