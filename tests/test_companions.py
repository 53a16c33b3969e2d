"The seed papers' companion methods from the command line: Cam-Softmax, SFT and DAML in source training, and bad combinations refused."
import json

import torch
from cli_helpers import run_rtml as run


def train(tmp_path, *flags):
    "Train a small source on synthetic faces with `flags`: (its last checkpoint, its history, its report)."
    out = tmp_path / 'src'
    r = run('source', *flags, '--width', '8', '--attack-eps', '2/255', '--attack-steps', '1', '--quiet', '--out', str(out), cache=tmp_path)
    assert r.returncode == 0, r.stderr
    return (torch.load(out / 'view1' / 'checkpoint.pt', weights_only=True), json.loads((out / 'view1' / 'history.json').read_text()),
            json.loads((out / 'robustness.json').read_text())['source'])


def test_source_with_cam_softmax_and_sft(tmp_path):
    state, history, res = train(tmp_path, '--loss', 'cam_softmax', '--terms', 'sft', '--epochs', '2')
    assert state['config']['loss'] == 'cam_softmax' and state['config']['terms'] == ['sft']
    c = float(state['terms']['0.loss']['c'])  # Cam-Softmax's angle is saved, and its schedule has moved it to pi/4 by half way
    assert abs(c - 0.7853981) < 1e-4
    assert len(history) == 2 and all(h['sft'] > 0 for h in history)  # the SFT term was trained every epoch
    assert 0.5 <= res['accuracy'] <= 1


def test_source_with_daml_hard_negatives(tmp_path):
    state, history, res = train(tmp_path, '--loss', 'triplet', '--terms', 'daml', '--epochs', '3')
    assert state['config']['terms'] == ['daml'] and {'1.generator', '1.generator_opt'} <= set(state['terms'])  # the generator is checkpointed
    assert [('daml' in h) for h in history] == [False, False, True]  # two warm-up epochs of the metric alone, then joint
    assert history[2]['generator'] > 0 and 0.5 <= res['accuracy'] <= 1


def test_bad_combinations_are_refused(tmp_path):
    r = run('source', '--loss', 'triplet', '--terms', 'sft', '--epochs', '1', '--quiet', '--out', str(tmp_path / 'a'), cache=tmp_path)
    assert r.returncode == 2 and 'softmax-type loss' in r.stderr and 'Traceback' not in r.stderr
    r = run('source', '--terms', 'daml', '--epochs', '1', '--quiet', '--out', str(tmp_path / 'b'), cache=tmp_path)
    assert r.returncode == 2 and 'pair-based loss' in r.stderr and 'Traceback' not in r.stderr
    r = run('source', '--terms', 'mixup', cache=tmp_path)
    assert r.returncode == 2 and "--terms: 'mixup' is not one of daml, sft" in r.stderr
    r = run('source', '--augment', 'sft', cache=tmp_path)  # --augment is image augmentation (a yes/no), not SFT
    assert r.returncode == 2 and "--augment: cannot read 'sft'" in r.stderr
    r = run('pipeline', '--source-loss', 'triplet', '--source-terms', 'sft', '--out', str(tmp_path / 'p'), cache=tmp_path)
    assert r.returncode == 2 and "softmax-type loss" in r.stderr
    assert not (tmp_path / 'p' / 'steps').exists()  # refused before anything was trained
    r = run('pipeline', '--source-terms', 'daml', '--out', str(tmp_path / 'q'), cache=tmp_path)
    assert r.returncode == 2 and "pair-based loss" in r.stderr
