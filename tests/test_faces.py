"Your own faces: identity folders in any format Pillow opens, `--faces DIR` as the whole dataset, `rtml evaluate`, and bad input."
import json

import numpy as np
import pytest
import torch
from cli_helpers import run_rtml
from PIL import Image

from rtml.data import IMAGE_SUFFIXES, DataError, decode_images, load_identity_folder, synthetic_faces
from rtml.models import load_model, model_spec, save_model

TINY = ['--source-epochs', '1', '--robust-epochs', '1', '--target-epochs', '1', '--source-width', '8', '--umap-people', '2',
        '--attack-steps', '2', '--attacked-pairs', '40', '--quiet']


def pgm_folder(root, n_people=24, seed=0):
    "An AT&T-like identity folder: grey PGM faces, 4 to 6 per person."
    faces = synthetic_faces(n_people=n_people, images=(4, 6), seed=seed)
    for img, p, n in zip(faces.images, faces.person, faces.number):
        d = root / f"s{p + 1}"
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).convert('L').save(d / f"{n}.pgm")
    return root


@pytest.fixture(scope='module')
def pgm(tmp_path_factory):
    return pgm_folder(tmp_path_factory.mktemp('att') / 'faces')


def test_formats_grey_becomes_three_channels(pgm, tmp_path):
    data = load_identity_folder(pgm, cache=False, progress=False)
    assert data.images.shape[1:] == (64, 64, 3) and len(data.names) == 24
    assert (data.images[..., 0] == data.images[..., 1]).all() and (data.images[..., 1] == data.images[..., 2]).all()
    # PPM, TIFF and GIF folders are read too
    for i, fmt in enumerate(('ppm', 'tiff', 'gif')):
        (tmp_path / 'mixed' / f"p{i}").mkdir(parents=True)
        for j in range(2): Image.fromarray(data.images[i]).save(tmp_path / 'mixed' / f"p{i}" / f"{j}.{fmt}")
    files = sorted(f"{d.name}/{f.name}" for d in (tmp_path / 'mixed').iterdir() for f in d.iterdir() if f.suffix in IMAGE_SUFFIXES)
    assert [f.split('/')[1] for f in files] == ['0.ppm', '1.ppm', '0.tiff', '1.tiff', '0.gif', '1.gif']
    images = decode_images(tmp_path / 'mixed', files, cache=False, progress=False)
    assert images.shape == (6, 64, 64, 3) and np.abs(images[0].astype(int) - data.images[0]).max() <= 1  # PPM and TIFF: lossless


def test_unreadable_file_is_named_with_the_others(tmp_path):
    root = pgm_folder(tmp_path / 'faces', n_people=20)
    (root / 's1' / 'broken.pgm').write_bytes(b'P5 not an image')
    (root / 's2' / 'empty.png').write_bytes(b'')
    with pytest.raises(DataError) as e: load_identity_folder(root, cache=False, progress=False)
    assert '2 image(s) could not be decoded' in str(e.value) and 'broken.pgm' in str(e.value) and 'empty.png' in str(e.value)


def test_empty_folder_and_single_images(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DataError, match='no person folder with at least 1 image'): load_identity_folder(tmp_path / 'empty')
    for p in range(25):
        (tmp_path / 'single' / f"p{p}").mkdir(parents=True)
        Image.new('L', (32, 32), p).save(tmp_path / 'single' / f"p{p}" / 'only.pgm')
    with pytest.raises(DataError, match='pairs need people with two images'): load_identity_folder(tmp_path / 'single', cache=False, progress=False)


def test_baselines_on_faces_and_repeat_with_its_protocol(pgm, tmp_path):
    r = run_rtml('baselines', '--faces', str(pgm), '--protocol', 'view1', '--out', str(tmp_path / 'b'), cache=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / 'b' / 'protocol' / 'pairsDevTest.txt').is_file() and 'folder:' in r.stdout
    first = json.loads((tmp_path / 'b' / 'results.json').read_text())
    again = run_rtml('baselines', '--faces', str(pgm), '--protocol', 'view1', '--seed', '5', '--faces-protocol', str(tmp_path / 'b' / 'protocol'),
                     '--out', str(tmp_path / 'b2'), cache=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    second = json.loads((tmp_path / 'b2' / 'results.json').read_text())
    assert {k: (v['accuracy'], v['auc']) for k, v in first.items()} == {k: (v['accuracy'], v['auc']) for k, v in second.items()}  # the same pairs
    other = run_rtml('baselines', '--faces', str(pgm), '--protocol', 'view1', '--seed', '5', '--out', str(tmp_path / 'b3'), cache=tmp_path)
    assert other.returncode == 0, other.stderr[-2000:]
    assert (tmp_path / 'b3' / 'protocol' / 'pairsDevTest.txt').read_text() != (tmp_path / 'b' / 'protocol' / 'pairsDevTest.txt').read_text()
    both = run_rtml('baselines', '--faces', str(pgm), '--lfw', str(tmp_path), cache=tmp_path)
    assert both.returncode == 2 and 'not both' in both.stderr


@pytest.fixture(scope='module')
def pipeline_on_faces(pgm, tmp_path_factory):
    d = tmp_path_factory.mktemp('faces-pipeline')
    r = run_rtml('pipeline', '--faces', str(pgm), *TINY, '--out', str(d / 'run'), cache=d)
    assert r.returncode == 0, r.stderr[-3000:]
    return d


def test_pipeline_on_faces(pipeline_on_faces):
    out = pipeline_on_faces / 'run'
    res = json.loads((out / 'results.json').read_text())
    assert {'source_standard', 'target_imitates_robust'} <= set(res) and (out / 'protocol' / 'people.txt').is_file()


def test_evaluate_a_saved_network(pipeline_on_faces, pgm):
    d = pipeline_on_faces
    for net in ('source_robust', 'target_imitates_robust'):
        out = d / f"eval-{net}"
        r = run_rtml('evaluate', str(d / 'run' / net / 'view1' / 'checkpoint.pt'), '--faces', str(pgm), '--attack-eps', '1/255',
                     '--attack-steps', '2', '--attacked-pairs', '40', '--shift', 'jpeg30', '--shift', 'align', '--out', str(out), cache=d)
        assert r.returncode == 0, r.stderr[-3000:]
        res = json.loads((out / 'results.json').read_text())
        assert set(res['shifted']) == {'jpeg30', 'align'} and 'accuracy_at_clean_thresholds' in res['shifted']['jpeg30']
        assert 'pgd2x1@1/255' in res[f'{net}/view1']['attacked']
        assert 'jpeg30 faces' in (out / 'results.md').read_text()
    # on other faces: the built-in synthetic faces (no --faces, no LFW)
    r = run_rtml('evaluate', str(d / 'run' / 'source_standard' / 'view1' / 'checkpoint.pt'), '--attack-eps', '1/255', '--attack-steps', '1',
                 '--attacked-pairs', '20', '--name', 'standard', '--out', str(d / 'eval-synthetic'), cache=d)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'standard' in json.loads((d / 'eval-synthetic' / 'results.json').read_text())


def test_evaluate_refuses_what_is_not_a_checkpoint(tmp_path):
    (tmp_path / 'notes.pt').write_text('not a checkpoint')
    r = run_rtml('evaluate', str(tmp_path / 'notes.pt'), cache=tmp_path)
    assert r.returncode == 2 and 'not an rtml checkpoint' in r.stderr
    r = run_rtml('evaluate', str(tmp_path / 'missing.pt'), cache=tmp_path)
    assert r.returncode == 2 and 'no checkpoint at' in r.stderr
    # a checkpoint of another version: its spec names a network this rtml does not have, or weights of other shapes
    torch.save({'spec': model_spec('resnet_v9', (3, 64, 64)), 'model': {}}, tmp_path / 'future.pt')
    r = run_rtml('evaluate', str(tmp_path / 'future.pt'), cache=tmp_path)
    assert r.returncode == 2 and 'cannot be built as its spec says' in r.stderr and 'resnet_v9' in r.stderr
    from rtml.models import create_model
    net = create_model(model_spec('resnet', (3, 64, 64), emb_dim=16, width=8, input_size=64))
    save_model(net, tmp_path / 'ok.pt')
    state = torch.load(tmp_path / 'ok.pt', weights_only=True)
    state['spec']['args']['width'] = 16
    torch.save(state, tmp_path / 'mismatch.pt')
    with pytest.raises(ValueError, match='cannot be built as its spec says'): load_model(tmp_path / 'mismatch.pt')
    assert load_model(tmp_path / 'ok.pt').spec['args']['width'] == 8
