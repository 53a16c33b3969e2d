"""Distributed data-parallel training in two gloo processes on the CPU (torchrun, via `--nproc 2`), checked against one process.

Each process takes half of every global batch. The gradients of one step are the single-process gradients up to
float rounding (`rtml ddp-check`); a whole training run differs only through batch normalisation, which uses each
process's half-batch statistics, so its losses and accuracy are compared with a tolerance.
"""
import json

import pytest
from cli_helpers import run_rtml

from rtml.data import synthetic_faces, write_face_folder

TINY = ['--source-epochs', '2', '--robust-epochs', '2', '--target-epochs', '2', '--source-width', '16', '--umap-people', '3',
        '--attack-steps', '3', '--attacked-pairs', '100', '--quiet']


def test_gradients_of_a_distributed_step_are_one_process_gradients(tmp_path):
    r = run_rtml('ddp-check', '--nproc', '2', '--loss', 'cosface,arcface,triplet,multisimilarity', cache=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    lines = [l for l in r.stdout.splitlines() if 'process(es)' in l]
    assert len(lines) == 4, r.stdout  # printed once (rank 0), one line per loss
    assert all('2 process(es) of 16 faces each' in l and 'same as one process' in l for l in lines), r.stdout


@pytest.mark.parametrize('loss', ['cosface', 'triplet'])
def test_source_in_two_processes_matches_one(tmp_path, loss):
    "The same source trained in one and in two processes: the same losses epoch by epoch (a pair loss is gathered over the processes, and logged as one process's) and about the same accuracy."
    args = ['source', '--loss', loss, '--epochs', '4', '--width', '16', '--attack-eps', '2/255', '--attack-steps', '2', '--quiet']
    one = run_rtml(*args, '--out', str(tmp_path / 'one'), cache=tmp_path)
    two = run_rtml(*args, '--nproc', '2', '--out', str(tmp_path / 'two'), cache=tmp_path)
    assert one.returncode == 0, one.stderr[-3000:]
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count('view1: trained in') == 1  # rank 0 alone evaluates and prints
    h1, h2 = (json.loads((tmp_path / d / 'view1' / 'history.json').read_text()) for d in ('one', 'two'))
    assert len(h1) == len(h2) == 4
    for a, b in zip(h1, h2):  # losses averaged over both processes; half-batch batch-norm statistics move them a little
        assert b['clean'] == pytest.approx(a['clean'], rel=0.05 if loss == 'cosface' else 0.1), (a, b)  # not twice as large
    assert h2[-1]['clean'] < (0.8 if loss == 'cosface' else 0.95) * h2[0]['clean']  # and it learns
    r1, r2 = (json.loads((tmp_path / d / 'robustness.json').read_text())['source'] for d in ('one', 'two'))
    assert abs(r1['accuracy'] - r2['accuracy']) < 0.06, (r1['accuracy'], r2['accuracy'])
    assert not list((tmp_path / 'two').rglob('*.tmp'))  # one writer (rank 0), every write finished


@pytest.mark.full  # a minute: the quick tier keeps the one-step and the one-source checks
def test_pipeline_in_two_processes(tmp_path):
    r = run_rtml('pipeline', *TINY, '--nproc', '2', '--out', str(tmp_path / 'run'), cache=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count('pipeline finished') == 1
    res = json.loads((tmp_path / 'run' / 'results.json').read_text())
    for row in ('source_standard', 'source_robust', 'target_alone', 'target_imitates_standard', 'target_imitates_robust'):
        assert 0.4 <= res[row]['accuracy'] <= 1 and len(res[row]['fold_accuracy']) == 10, row
    assert (tmp_path / 'run' / 'roc.png').is_file() and (tmp_path / 'run' / 'source_robust' / 'view1' / 'teacher.pt').is_file()


def test_bad_process_counts_are_refused(tmp_path):
    r = run_rtml('source', '--nproc', '0', cache=tmp_path)
    assert r.returncode == 2 and '--nproc must be at least 1' in r.stderr
    r = run_rtml('source', '--nproc', '2', '--batch-size', '33', '--epochs', '1', '--out', str(tmp_path / 'x'), cache=tmp_path)
    assert r.returncode != 0 and 'divisible by the number of processes' in r.stderr


@pytest.mark.full
def test_outside_training_data_view2_ten_folds(tmp_path):
    "Train on an identity folder less a name list, test on all ten View 2 folds of an LFW-shaped folder with one model per row (two processes)."
    outside = synthetic_faces(n_people=60, images=(3, 8), size=48, seed=7)
    train = write_face_folder(outside, tmp_path / 'outside', protocol=False) / 'images'
    test = synthetic_faces(n_people=40, images=(2, 5), size=48, seed=8)
    lfw = write_face_folder(test, tmp_path / 'lfw')
    (lfw / 'images').rename(lfw / 'lfw')
    names = tmp_path / 'overlap.txt'
    names.write_text('\n'.join(outside.names[:5]) + '\n')
    r = run_rtml('pipeline', *TINY, '--nproc', '2', '--lfw', str(lfw), '--no-verify', '--image-size', '48', '--protocol', 'view2',
                 '--train-folder', str(train), '--exclude-names', str(names), '--out', str(tmp_path / 'run'), cache=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'outside training data' in r.stdout and '55 people' in r.stdout and '5 name(s) excluded' in r.stdout
    steps = sorted(p.name for p in (tmp_path / 'run' / 'steps').iterdir())
    assert 'source_standard-view2-outside.json' in steps and not any('fold' in s for s in steps)  # one model, not ten
    res = json.loads((tmp_path / 'run' / 'results.json').read_text())
    assert res['source_standard']['n_pairs'] == len(test.view2_pairs())  # every View 2 pair
    assert len(res['source_standard']['fold_accuracy']) == 10
    cfg = json.loads((tmp_path / 'run' / 'config.json').read_text())
    assert cfg['protocol'] == 'view2' and 'outside' in cfg['train_data']
