"""dlib's face-recognition network in rtml (14_teacher): rtml's reader of dlib's files, the PyTorch network against dlib's
own descriptors, the chips against dlib's own pipeline, the registry entry, and a missing extra's message."""
import importlib.util, math
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import lfw_root
from rtml.models import MODELS, create_model, load_model, model_spec, save_model
from rtml import teacher as T

HAVE_EXTRA = all(importlib.util.find_spec(m) for m in ('dlib', 'face_recognition_models'))
needs_extra = pytest.mark.skipif(not HAVE_EXTRA, reason='the dlib extra is not installed: pip install "rtml[dlib]"')


def enc_int(v):
    mag = abs(v).to_bytes(max(1, (abs(v).bit_length() + 7) // 8), 'little')
    return bytes([len(mag) | (0x80 if v < 0 else 0)]) + mag


def test_reader_decodes_dlibs_encoding():
    vals = [0, 7, -7, 255, 256, -65536, 2 ** 63 - 1]
    r = T.DlibReader(b''.join(enc_int(v) for v in vals) + enc_int(-3) + enc_int(-2) + enc_int(1) + enc_int(32001) + enc_int(3) + b'abc')
    assert [r.int() for _ in vals] == vals
    assert r.float() == -0.75 and r.float() == -math.inf and r.string() == 'abc'


def test_reader_names_the_file_and_byte(tmp_path):
    r = T.DlibReader(enc_int(1) + enc_int(3), 'x.dat'); r.int()
    with pytest.raises(T.DlibFormatError, match=r'x\.dat: byte 2: tensor version 3'): r.tensor()
    with pytest.raises(T.DlibFormatError, match='not a dlib metric network'):
        (tmp_path / 'other.dat').write_bytes(enc_int(1) + enc_int(4) + b'fc_2')
        T.read_dlib_net(tmp_path / 'other.dat')


def test_add_prev_pads_the_smaller_map_at_the_end():
    s = T.add_prev(torch.ones(1, 1, 1, 1), torch.full((1, 2, 2, 2), 2.))
    assert s.shape == (1, 2, 2, 2) and s[0, 0].tolist() == [[3, 2], [2, 2]] and s[0, 1].tolist() == [[2, 2], [2, 2]]


def test_untrained_network_shape_and_checkpoint(tmp_path):
    net = create_model(model_spec('dlib', (3, 150, 150), pretrained=False)).eval()
    x = torch.rand(2, 3, 150, 150)
    e = net(x)
    assert e.shape == (2, 128) and torch.allclose(e.norm(dim=1), torch.ones(2), atol=1e-5)
    save_model(net, tmp_path / 'd.pt')
    assert torch.allclose(load_model(tmp_path / 'd.pt')(x), e, atol=1e-6)


def test_missing_extra_names_the_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None if name == 'face_recognition_models' else real(name, *a))
    with pytest.raises(ImportError, match=r'pip install "rtml\[dlib\]"'): T.dlib_resnet()


@needs_extra
def test_equals_dlibs_descriptors():
    import dlib
    ours = T.dlib_resnet(normalize=False).eval()
    ref = dlib.face_recognition_model_v1(str(T.models_dir() / T.NET_FILE))
    rng = np.random.default_rng(1)
    chips = np.concatenate([rng.integers(0, 256, (3, 150, 150, 3), dtype=np.uint8),           # noise: every weight counts
                            np.broadcast_to(np.linspace(0, 255, 150, dtype=np.uint8)[None, :, None], (1, 150, 150, 3))])  # a smooth ramp
    theirs = np.array([ref.compute_face_descriptor(np.ascontiguousarray(c)) for c in chips])
    with torch.no_grad(): mine = ours(torch.from_numpy(np.ascontiguousarray(chips)).permute(0, 3, 1, 2).float() / 255).numpy()
    assert np.abs(mine - theirs).max() < 1e-4
    with torch.no_grad(): normed = T.dlib_resnet().eval()(torch.from_numpy(np.ascontiguousarray(chips)).permute(0, 3, 1, 2).float() / 255)
    assert torch.allclose(normed, F.normalize(torch.from_numpy(theirs).float(), dim=1), atol=1e-4)


@needs_extra
def test_network_file_has_the_declared_layers():
    net = T.read_dlib_net(T.models_dir() / T.NET_FILE)
    kinds = [l['kind'] for l in net['layers']]
    assert {k: kinds.count(k) for k in set(kinds)} == {'con': 29, 'affine': 29, 'relu': 29, 'max_pool': 1, 'add_prev': 14, 'avg_pool': 5, 'fc': 1}
    assert net['size'] == (150, 150) and abs(net['distance_threshold'] - 0.6) < 1e-6


@needs_extra
@pytest.mark.skipif(not lfw_root(), reason='real LFW not available: set RTML_LFW to run these tests')
def test_chips_are_what_dlibs_pipeline_feeds_its_network():
    import dlib
    from rtml.data import find_lfw
    image_dir, _ = find_lfw(lfw_root())
    ref = dlib.face_recognition_model_v1(str(T.models_dir() / T.NET_FILE))
    _, det, sp = T._aligner()
    net = T.dlib_resnet(normalize=False).eval()
    for f in ('Aaron_Eckhart/Aaron_Eckhart_0001.jpg', 'George_W_Bush/George_W_Bush_0010.jpg'):
        img = T._read_rgb(image_dir / f)
        n, box = T.detect_face(img)
        assert n >= 1
        theirs = np.array(ref.compute_face_descriptor(img, sp(img, dlib.rectangle(*box))))  # dlib's own chip inside
        with torch.no_grad(): mine = net(torch.from_numpy(T.face_chip(img, box)).permute(2, 0, 1)[None].float() / 255)[0].numpy()
        assert np.abs(mine - theirs).max() < 1e-4, f


def test_reader_refuses_a_truncated_file():
    with pytest.raises(T.DlibFormatError, match=r'cut\.dat: byte 0: the file ends inside a string of 13 characters'):
        T.DlibReader(enc_int(13) + b'loss_', 'cut.dat').string()
    with pytest.raises(T.DlibFormatError, match='the file ends inside an integer'): T.DlibReader(b'\x03\x01', 'cut.dat').int()


@needs_extra
def test_a_saved_dlib_network_loads_without_the_extra(tmp_path, monkeypatch):
    net = T.dlib_teacher().eval()
    save_model(net, tmp_path / 'fine-tuned.pt')
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None)  # as if face-recognition-models were gone
    x = torch.rand(1, 3, 150, 150)
    assert torch.allclose(load_model(tmp_path / 'fine-tuned.pt')(x), net(x), atol=1e-6)


def test_minimal_budget_is_zero_for_misjudged_pairs_and_flips_at_its_value():
    torch.manual_seed(0)
    from rtml.models import ResNetEmbed
    from rtml.attacks import make_attack, pair_attack
    net = ResNetEmbed(emb_dim=8, width=8, input_size=32).eval()
    x, partner = torch.rand(8, 3, 32, 32), F.normalize(torch.randn(8, 8), dim=1)
    same = torch.tensor([True, False] * 4)
    eps = T.minimal_linf(net, x, partner, same, torch.zeros(8), hi=16 / 255, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(): c = (net(x) * partner).sum(1)
    wrong = torch.where(same, c < 0, c >= 0)
    assert ((eps == 0) == wrong).all() and (eps[~wrong] > 0).all() and (eps <= 16 / 255).all()
