"""The committed LFW bundle (results/lfw, made by tools/lfw_bundle.py), from which 01a, 06, 07 and the README render
real-LFW results without LFW: complete, small, made by committed code, and its numbers recomputed from its own
per-pair similarities by the verification code that ships. In the full tier, the tool itself end to end on a tiny
LFW-shaped folder of synthetic faces."""
import json, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from rtml.evaluation import Evaluation
from rtml.pipeline import ROWS
from rtml.verification import verification_report

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / 'results' / 'lfw'
sys.path.insert(0, str(ROOT / 'tools'))
from lfw_bundle import PARTS  # noqa: E402


def test_bundle_is_complete_small_and_made_by_committed_code():
    m = json.loads((BUNDLE / 'manifest.json').read_text())
    assert set(m['parts']) == set(PARTS), f"the bundle lacks parts {set(PARTS) - set(m['parts'])}: run tools/lfw_bundle.py"
    for name, part in m['parts'].items():
        assert len(part['commit'] or '') == 40, f"{name}: no commit recorded"
        assert not part['uncommitted_library_changes'], f"{name} was made with uncommitted library changes"
    assert 'lfw' in m['data'] and '13233 images' in m['data'], m['data']
    for f in ('baselines-view2.json', 'baselines-view2-roc.png', 'imitation-sweep.json', 'pipeline/results.json',
              'pipeline/results.md', 'pipeline/histories.json', 'pipeline/test-pairs.json', 'pipeline/roc.png', 'compare/compare.md'):
        assert (BUNDLE / f).is_file(), f"results/lfw/{f} is missing"
    size = sum(f.stat().st_size for f in BUNDLE.rglob('*') if f.is_file())
    assert size < 5e6, f"the bundle is {size / 1e6:.1f} MB: it should stay a few MB"


def test_pipeline_numbers_recomputed_from_the_similarities():
    "Every row's accuracy, AUC and attacked accuracy in results.json is what 01's code gives on the stored similarities."
    res = json.loads((BUNDLE / 'pipeline' / 'results.json').read_text())
    pairs = json.loads((BUNDLE / 'pipeline' / 'test-pairs.json').read_text())
    same, fold = np.array(pairs['same'], bool), np.array(pairs['fold'])
    assert len(same) == 1000 and same.sum() == 500
    for row in ROWS:
        ev = Evaluation.from_dict(json.loads((BUNDLE / 'pipeline' / 'steps' / f'{row}-view1.json').read_text()))
        rep = verification_report(ev.sims, same, fold)
        assert abs(rep.accuracy - res[row]['accuracy']) < 1e-9 and abs(rep.auc - res[row]['auc']) < 1e-9, row
        for label, sims in ev.attacked_sims.items():  # judged with the clean thresholds
            idx = ev.attacked_pairs
            acc = verification_report(sims, same[idx], fold[idx], thresholds=rep.thresholds).accuracy
            assert abs(acc - res[row]['attacked'][label]['accuracy']) < 1e-9, (row, label, acc)


def test_readme_table_is_the_bundles():
    "The README's LFW pipeline numbers are the bundle's (index.ipynb renders them from results/lfw)."
    res = json.loads((BUNDLE / 'pipeline' / 'results.json').read_text())
    readme = (ROOT / 'README.md').read_text()
    for row in ROWS: assert f"{100 * res[row]['accuracy']:.2f} +- {100 * res[row]['accuracy_std']:.2f}" in readme, row


@pytest.mark.full
def test_tool_end_to_end(tiny_lfw, tmp_path):
    "tools/lfw_bundle.py on a tiny LFW-shaped folder: every part, a manifest, and a second call that resumes."
    cmd = [sys.executable, str(ROOT / 'tools' / 'lfw_bundle.py'), '--lfw', str(tiny_lfw), '--no-verify',
           '--runs', str(tmp_path / 'runs'), '--out', str(tmp_path / 'bundle'), '--parts', 'baselines', 'pipeline', 'sweep']
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    m = json.loads((tmp_path / 'bundle' / 'manifest.json').read_text())
    assert set(m['parts']) == {'baselines', 'pipeline', 'sweep'}
    rows = json.loads((tmp_path / 'bundle' / 'imitation-sweep.json').read_text())['rows']
    assert len(rows) == 6 and all(0 <= v['report']['accuracy'] <= 1 for v in rows.values())
    r = subprocess.run(cmd[:-3] + ['pipeline', 'sweep'], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0 and 'done before' in r.stdout, r.stdout[-3000:]
