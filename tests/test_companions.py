"The seed papers' companion methods from the command line: Cam-Softmax, SFT and DAML in source training, and bad combinations refused."
import json

import torch
from cli_helpers import run_rtml as run


def train(tmp_path, *flags):
    "Train a small source on synthetic faces with `flags`: (its last checkpoint, its history, its report)."
    out = tmp_path / 'src'
    r = run('source', *flags, '--width', '8', '--attack-eps', '2/255', '--attack-steps', '1', '--quiet', '--out', str(out), cache=tmp_path)
    assert r.returncode == 0, r.stderr
    return (torch.load(out / 'view1' / 'checkpoint.pt', weights_only=False), json.loads((out / 'view1' / 'history.json').read_text()),
            json.loads((out / 'robustness.json').read_text())['view1'])


def test_source_with_cam_softmax_and_sft(tmp_path):
    state, history, res = train(tmp_path, '--loss', 'cam_softmax', '--augment', 'sft', '--epochs', '2')
    assert state['config']['loss'] == 'cam_softmax' and state['config']['feature_augment'] == 'sft'
    c = float(state['loss']['c'])  # Cam-Softmax's angle is saved, and its schedule has moved it below pi/2
    assert 0.785 <= c < 1.5707
    assert len(history) == 2 and all(h['sft'] > 0 for h in history)  # the SFT term was trained every epoch
    assert 0.5 <= res['0']['accuracy'] <= 1


def test_source_with_daml_hard_negatives(tmp_path):
    state, history, res = train(tmp_path, '--loss', 'triplet', '--hard-negatives', 'daml', '--epochs', '3')
    assert state['config']['hard_negatives'] == 'daml' and {'daml_generator', 'daml_opt'} <= set(state)  # the generator is checkpointed
    assert [('daml' in h) for h in history] == [False, False, True]  # two warm-up epochs of the metric alone, then joint
    assert history[2]['generator'] > 0 and 0.5 <= res['0']['accuracy'] <= 1


def test_bad_combinations_are_refused(tmp_path):
    r = run('source', '--loss', 'triplet', '--augment', 'sft', '--epochs', '1', '--quiet', '--out', str(tmp_path / 'a'), cache=tmp_path)
    assert r.returncode == 2 and 'softmax-type loss' in r.stderr and 'Traceback' not in r.stderr
    r = run('source', '--hard-negatives', 'daml', '--epochs', '1', '--quiet', '--out', str(tmp_path / 'b'), cache=tmp_path)
    assert r.returncode == 2 and 'pair-based loss' in r.stderr and 'Traceback' not in r.stderr
    r = run('source', '--augment', 'mixup', cache=tmp_path)
    assert r.returncode == 2 and "invalid choice: 'mixup'" in r.stderr
    r = run('pipeline', '--source-loss', 'triplet', '--source-augment', 'sft', '--out', str(tmp_path / 'p'), cache=tmp_path)
    assert r.returncode == 2 and "source_augment 'sft' needs a softmax-type source_loss" in r.stderr
    assert not (tmp_path / 'p' / 'steps').exists()  # refused before anything was trained
    r = run('pipeline', '--source-hard-negatives', 'daml', '--out', str(tmp_path / 'q'), cache=tmp_path)
    assert r.returncode == 2 and "source_hard_negatives 'daml' needs a pair-based source_loss" in r.stderr
