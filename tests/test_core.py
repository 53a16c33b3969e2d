"The training core, the configuration declared once and self-describing checkpoints: the bugs the redesign fixed stay fixed."
import argparse, math, pickle, re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import rtml
from rtml.cli import make_parser
from rtml.data import synthetic_faces
from rtml.losses import LOSSES, register_loss
from rtml.models import load_model
from rtml.training import SourceConfig, train_source
from rtml.transfer import TargetConfig, teacher_embeddings, train_target
from rtml.pipeline import PRESETS, add_preset_args, preset_from_args
from rtml.cam_softmax import CamSoftmaxLoss

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def faces():
    f = synthetic_faces(n_people=24, images=(3, 6), size=32, seed=1)
    return f, f.view1()


@pytest.mark.parametrize('kind', [{}, dict(attack='fgsm'), dict(attack='pgd', pgd_steps=3), dict(terms=('sft',))])
def test_cam_softmax_schedule_counts_optimiser_steps(faces, kind):
    "c reaches c_min at the planned optimiser step (half the run) however often a step calls the loss."
    data, split = faces
    made = []
    register_loss('cam_probe')(lambda n, d: made.append(CamSoftmaxLoss(n, d)) or made[-1])
    seen = []
    cfg = SourceConfig(epochs=4, width=8, batch_size=32, loss='cam_probe', augment=False, **kind)
    train_source(data, split.train, cfg, progress=False, callback=lambda e, h: seen.append(float(made[-1].c)))
    assert seen == pytest.approx([3 * math.pi / 8, math.pi / 4, math.pi / 4, math.pi / 4], abs=1e-6)


def test_seed_flag_overrides_the_preset_only_when_given():
    p = argparse.ArgumentParser(); p.add_argument('--preset', default='quick'); p.add_argument('--seed', type=int, default=None)
    add_preset_args(p)
    PRESETS['seeded'] = replace(PRESETS['quick'], name='seeded', seed=5)
    try:
        assert preset_from_args(p.parse_args(['--preset', 'seeded'])).seed == 5
        assert preset_from_args(p.parse_args(['--preset', 'seeded', '--seed', '2'])).seed == 2
    finally: del PRESETS['seeded']


def test_every_pipeline_flag_has_a_sentence_and_its_choices():
    sub = next(a for a in make_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices['pipeline']
    for a in sub._actions:
        if a.dest == 'help': continue
        assert a.help and len(a.help) > 12, a.option_strings
    text = sub.format_help()
    for flag in ('--source-loss', '--target-view', '--attack', '--robust-attack', '--robust-norm', '--robust-pgd-steps',
                 '--source-emb-dim', '--source-weight-decay', '--source-terms'):
        line = text.split('\n  ' + flag + ' ', 1)[1][:400]  # its entry below the usage line
        assert 'default:' in line, flag
    assert 'one of cosface' in text.replace('\n', ' ').replace('  ', ' ') or 'cosface' in text
    assert 'one of gray, lbp' in re.sub(r'\s+', ' ', text)


def test_checkpoints_describe_themselves_and_load_safely(faces, tmp_path):
    data, split = faces
    src, _ = train_source(data, split.train, SourceConfig(epochs=1, width=8, batch_size=32), out=tmp_path / 's', progress=False)
    tgt, _ = train_target(data, split.train, TargetConfig(epochs=1, batch_size=32), teacher_embeddings(src, data.images[split.train]),
                          out=tmp_path / 't', progress=False)
    x = torch.rand(2, 3, 32, 32)
    for net, folder in ((src, 's'), (tgt, 't')):
        again = load_model(tmp_path / folder / 'checkpoint.pt')  # nothing but the path
        assert torch.allclose(again(x), net.eval()(x), atol=1e-5)
        assert next(net.parameters()).device == torch.device('cpu')  # both trainers return their model on its training device
    class Payload:
        def __reduce__(self): return (Path.touch, (tmp_path / 'ran',))
    with open(tmp_path / 'evil.pt', 'wb') as f: pickle.dump({'spec': Payload(), 'model': {}}, f)
    with pytest.raises(ValueError, match='loads safely'): load_model(tmp_path / 'evil.pt')
    assert not (tmp_path / 'ran').exists()  # refused, and nothing ran
    with pytest.raises(FileNotFoundError): load_model(tmp_path / 'missing.pt')


def test_readme_library_example_runs(monkeypatch, tmp_path):
    "The README's library example, exactly as printed there, on synthetic faces."
    monkeypatch.delenv('RTML_LFW', raising=False); monkeypatch.chdir(tmp_path)
    readme = (ROOT / 'README.md').read_text()
    code = re.search(r"```python\n(import rtml\n.*?)```", readme, re.S).group(1)
    assert len(code.strip().splitlines()) <= 10
    env = {}
    exec(compile(code, 'README.md', 'exec'), env)
    ev = env['report']
    assert 0.4 <= ev.clean.accuracy <= 1 and len(ev.attacked) == 1 and 'map_at_r' in ev.retrieval
