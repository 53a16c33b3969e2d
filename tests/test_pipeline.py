"The whole pipeline from the command line on synthetic faces: its files, their contents, resume and determinism."
import json, shutil

import pytest
from cli_helpers import run_rtml

ROWS = ['eigenfaces', 'lbp', 'source_standard', 'source_robust', 'target_alone', 'target_imitates_standard', 'target_imitates_robust']
TINY = ['--source-epochs', '2', '--robust-epochs', '2', '--target-epochs', '2', '--source-width', '16', '--umap-people', '3',
        '--attack-steps', '3', '--quiet']


def run(*args, cache):
    return run_rtml('pipeline', *args, cache=cache)


@pytest.fixture(scope='module')
def finished(tmp_path_factory):
    "One tiny pipeline run on synthetic faces, shared by the tests below."
    d = tmp_path_factory.mktemp('pipeline')
    r = run(*TINY, '--out', str(d / 'run'), cache=d)
    assert r.returncode == 0, r.stderr[-3000:]
    return d, r


def test_writes_every_file(finished):
    d, r = finished
    out = d / 'run'
    figures = {'roc.png', 'umap.png', 'similarities.png', 'attacks.png', 'training.png'}
    assert {p.name for p in out.iterdir() if p.is_file()} == {'results.json', 'results.md', 'config.json', 'log.txt'} | figures
    for png in figures: assert (out / png).read_bytes()[:4] == b'\x89PNG', png
    assert "Preset(name='quick', image_size=64, source=SourceConfig(epochs=2" in r.stdout  # the preset, with the overrides, printed at the start
    cfg = json.loads((out / 'config.json').read_text())
    assert cfg['protocol'] == 'view1' and cfg['preset']['target']['epochs'] == 2 and cfg['preset']['target']['label_fraction'] == 0.1
    assert 'synthetic' in cfg['data']
    log = (out / 'log.txt').read_text()
    assert 'preset:' in log and '[target_imitates_robust-view1]' in log and 'pipeline finished' in log


def test_results_json(finished):
    d, _ = finished
    res = json.loads((d / 'run' / 'results.json').read_text())
    assert set(res) == set(ROWS) | {'models'}
    for row in ROWS:
        r = res[row]
        assert 0.4 <= r['accuracy'] <= 1 and 0 <= r['auc'] <= 1 and len(r['fold_accuracy']) == 10, row
        assert r['seconds'] >= 0 and len(r['roc']['far']) == len(r['roc']['tar']) and r['n_pairs'] > 0
    for row in ROWS[2:]:  # every network row is attacked, at the preset's budget; the baselines are not
        assert list(res[row]['attacked']) == ['pgd3x1@2/255'], row
        assert res[row]['attacked']['pgd3x1@2/255']['accuracy'] <= res[row]['accuracy'] + 0.05
    for row in ROWS[2:]: assert 0 <= res[row]['retrieval']['map_at_r'] <= res[row]['retrieval']['precision_at_1'] + 1e-9 <= 1.01, row
    assert res['eigenfaces']['attacked'] == {}
    assert res['source_robust']['seconds'] > res['source_standard']['seconds']  # joint training costs more per epoch
    m = res['models']
    for net in ('source', 'target'):
        assert m[net]['parameters'] > 0 and m[net]['macs'] > 0 and m[net]['images_per_s_batch1'] > 0 and m[net]['images_per_s_batch256'] > 0
    assert m['target']['input'] == [1, 32, 32] and m['source']['input'] == [3, 64, 64]
    assert m['ratios']['parameters'] == pytest.approx(m['source']['parameters'] / m['target']['parameters'])


def test_results_md(finished):
    d, _ = finished
    md = (d / 'run' / 'results.md').read_text()
    for row in ROWS: assert f"| {row} |" in md
    assert "not the paper's" in md and 'pgd3x1@2/255' in md and '3 step(s)' in md and 'The claim' in md and 'multiply-adds' in md


def test_resume_redoes_nothing_and_recomputes_what_is_missing(finished, tmp_path):
    d, _ = finished
    out = tmp_path / 'run'
    shutil.copytree(d / 'run', out)
    before = json.loads((out / 'results.json').read_text())
    (out / 'steps' / 'target_alone-view1.json').unlink()  # as if the run had stopped before evaluating this row
    ckpt = out / 'target_alone' / 'view1' / 'checkpoint.pt'
    stamp = ckpt.stat().st_mtime_ns
    r = run(*TINY, '--out', str(out), '--resume', cache=d)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count('done before') == len(ROWS) - 1 + 1  # every other row, and the network costs
    assert 'training target_alone' in r.stdout
    assert ckpt.stat().st_mtime_ns == stamp  # its training had finished: evaluated again, not retrained
    after = json.loads((out / 'results.json').read_text())
    for row in ROWS: assert after[row]['accuracy'] == before[row]['accuracy'], row


def test_refuses_to_overwrite_or_mix_settings(finished):
    d, _ = finished
    r = run(*TINY, '--out', str(d / 'run'), cache=d)
    assert r.returncode == 2 and 'add --resume' in r.stderr and 'Traceback' not in r.stderr
    r = run(*TINY, '--target-lr', '0.01', '--out', str(d / 'run'), '--resume', cache=d)
    assert r.returncode == 2 and 'other settings' in r.stderr


@pytest.mark.full
def test_same_seed_same_numbers(finished, tmp_path):
    d, _ = finished
    r = run(*TINY, '--out', str(tmp_path / 'again'), cache=d)
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = (json.loads((p / 'results.json').read_text()) for p in (d / 'run', tmp_path / 'again'))
    for row in ROWS: assert a[row]['accuracy'] == b[row]['accuracy'] and a[row]['auc'] == b[row]['auc'], row


def test_bad_flags(tmp_path):
    r = run('--preset', 'huge', cache=tmp_path)
    assert r.returncode == 2 and "invalid choice: 'huge' (choose from 'quick', 'teach', 'full')" in r.stderr
    r = run('--target-label-fraction', 'half', cache=tmp_path)
    assert r.returncode == 2 and "--target-label-fraction: cannot read 'half'" in r.stderr
    r = run(*TINY, '--target-label-fraction', '1.5', '--out', str(tmp_path / 'x'), cache=tmp_path)
    assert r.returncode == 2 and '--target-label-fraction must be at most 1' in r.stderr
    r = run(*TINY, '--size', '48', '--out', str(tmp_path / 'y'), cache=tmp_path)  # one face size flag: the preset's --image-size
    assert r.returncode == 2 and 'unrecognized arguments: --size' in r.stderr


@pytest.mark.full
def test_view2_one_run_per_fold(tmp_path):
    "View 2: ten splits, each trained on the other nine folds' people; one report over the ten folds."
    out = tmp_path / 'v2'
    r = run('--protocol', 'view2', '--source-epochs', '1', '--robust-epochs', '1', '--target-epochs', '1', '--source-width', '8',
            '--attack-eps', '', '--umap-people', '2', '--quiet', '--out', str(out), cache=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((out / 'results.json').read_text())
    for row in ROWS:
        assert len(res[row]['fold_accuracy']) == 10 and res[row]['n_pairs'] > 0 and res[row]['attacked'] == {}, row
    steps = {p.stem for p in (out / 'steps').iterdir()}
    assert {f"target_imitates_robust-view2-fold{k}" for k in range(10)} <= steps
    assert sorted(p.name for p in (out / 'source_robust').iterdir()) == sorted(f"view2-fold{k}" for k in range(10))
