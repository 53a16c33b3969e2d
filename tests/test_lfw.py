"Real LFW (set RTML_LFW): the official files, the protocol's counts, and the baselines end to end."
import json, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from conftest import lfw_root, needs_lfw

pytestmark = needs_lfw


@pytest.fixture(scope='module')
def lfw(tmp_path_factory):
    from rtml.data import load_lfw
    return load_lfw(progress=False)


def test_official_files_pass_md5():
    from rtml.data import OFFICIAL_MD5, check_md5, find_lfw
    _, proto = find_lfw(lfw_root())
    for name in OFFICIAL_MD5: check_md5(proto / name)


def test_counts_and_views(lfw):
    assert len(lfw) == 13233 and len(lfw.names) == 5749 and lfw.images.shape[1:] == (64, 64, 3)
    p = lfw.view2_pairs()
    assert len(p) == 6000 and p.same.sum() == 3000
    for k in range(10): assert (p.fold == k).sum() == 600 and p.same[p.fold == k].sum() == 300
    v1 = lfw.view1()
    assert (len(lfw.protocol.dev_train_people), len(v1.train)) == (4038, 9525)
    assert len(v1.test) == 1000 and v1.test.same.sum() == 500
    assert (lfw.person[v1.test.left] == lfw.person[v1.test.right]).tolist() == v1.test.same.tolist()
    for k, s in enumerate(lfw.view2()):
        tested = set(lfw.person[s.test.left]) | set(lfw.person[s.test.right])
        assert not tested & set(lfw.person[s.train]), k


def test_first_pair_is_the_official_one(lfw):
    p = lfw.view2_pairs()  # pairs.txt line 2: Abel_Pacheco 1 4
    assert lfw.names[lfw.person[p.left[0]]] == 'Abel_Pacheco' and lfw.number[p.left[0]] == 1 and lfw.number[p.right[0]] == 4


def test_baselines_view1_end_to_end(tmp_path):
    out = tmp_path / 'o'
    r = subprocess.run([str(Path(sys.executable).parent / 'rtml'), 'baselines', '--lfw', lfw_root(), '--protocol', 'view1',
                        '--out', str(out)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    res = json.loads((out / 'results.json').read_text())
    assert res['eigenfaces']['n_pairs'] == 1000
    assert 0.55 < res['eigenfaces']['accuracy'] < 0.8 and 0.55 < res[__import__('rtml.baselines').baselines.LBP_KINDS['ri_uniform']]['accuracy'] < 0.85
