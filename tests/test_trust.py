"""Numbers you can trust: each check fails on the code before the fix it guards (View 2 thresholds, evaluation on the
network's device, budgets read one way, the training attack's batch norm, ArcFace's tail, CUDA random state on
resume, caches keyed on the pixels, registries that warn, checkpoint formats)."""
import json, math, warnings
from dataclasses import replace
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from rtml.config import Registry, check_config, parse_eps
from rtml.data import Pairs, Split, synthetic_faces
from rtml.evaluation import EvalConfig, attack_subset, evaluate, merge_evaluations
from rtml.verification import best_threshold, evaluate_splits, pair_scores, verification_report


class Linear(nn.Module):
    "A linear embedding of the whole image, with a per-model offset added to every embedding's first coordinate."
    def __init__(self, size=24, dim=8, seed=0):
        super().__init__(); torch.manual_seed(seed); self.lin = nn.Linear(3 * size * size, dim)
    def forward(self, x): return F.normalize(self.lin(x.flatten(1) - 0.5), dim=1)


@pytest.fixture(scope='module')
def faces(): return synthetic_faces(n_people=40, images=(3, 6), size=24, seed=0)


# --- View 2: each fold's threshold from its own model's scores of the other nine folds

def test_one_fold_is_not_fitted_on_itself_unless_asked():
    rng = np.random.default_rng(0)
    same = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    s = rng.normal(same * 1.0, 1)
    with pytest.raises(ValueError, match='one fold'): verification_report(s, same, np.zeros(100, int))
    r = verification_report(s, same, np.zeros(100, int), self_fit=True)
    assert r.thresholds == [best_threshold(s, same)[0]]
    assert verification_report(s, same, np.zeros(100, int), thresholds=[0.3]).thresholds == [0.3]


def test_view2_splits_carry_the_other_folds_pairs(faces):
    pairs = faces.view2_pairs()
    for k, sp in enumerate(faces.view2()):
        assert set(np.unique(sp.test.fold)) == {k} and k not in set(sp.fit.fold) and len(sp.test) + len(sp.fit) == len(pairs)
    assert faces.view1().fit is None


def test_evaluate_takes_a_view2_threshold_from_the_same_model_on_the_fit_pairs(faces):
    sp, net = faces.view2()[3], Linear().eval()
    ev = evaluate(net, faces, sp, retrieval=False)
    t, _ = best_threshold(pair_scores(net, faces.images, sp.fit), sp.fit.same)
    assert ev.clean.thresholds == [t] and ev.fitted_on == 'fit'
    assert ev.clean.accuracy == np.mean((ev.sims >= t) == sp.test.same)


def test_merged_view2_keeps_each_models_threshold(faces):
    "Ten models that differ by an offset: the merged report judges fold k with model k's threshold, not one fitted on the other models' scores."
    splits = faces.view2()
    class Offset(nn.Module):  # model k: the same embedding, with cosines raised or lowered by mixing in a shared direction
        def __init__(self, k): super().__init__(); self.net, self.k = Linear(), k
        def forward(self, x):
            e = self.net(x); d = torch.ones_like(e) / math.sqrt(e.shape[1])
            return F.normalize(e + (0.8 if self.k % 2 else 0.0) * d, dim=1)
    evals = [evaluate(Offset(k).eval(), faces, sp, retrieval=False) for k, sp in enumerate(splits)]
    merged = merge_evaluations(evals, splits)
    assert merged.clean.thresholds == [e.clean.thresholds[0] for e in evals]
    own = np.mean([e.clean.accuracy for e in evals])
    assert merged.clean.accuracy == pytest.approx(own)
    pooled = verification_report(merged.sims, np.concatenate([s.test.same for s in splits]), np.concatenate([s.test.fold for s in splits]))
    assert pooled.thresholds != merged.clean.thresholds  # what the merge did before: other models' scores chose the threshold
    # and the same through evaluate_splits, for a scorer that fits per split (the classical baselines' way)
    rep = evaluate_splits(splits, lambda sp: pair_scores(Offset(int(sp.name[10:])).eval(), faces.images, sp.test))
    assert rep.thresholds == merged.clean.thresholds and rep.accuracy == pytest.approx(merged.clean.accuracy)
    reordered = [replace(splits[0], test=splits[0].test[np.arange(len(splits[0].test))[::-1]])] + splits[1:]  # the first split's pairs in another order
    with pytest.raises(ValueError, match="splits' order"): merge_evaluations(evals, reordered)


# --- evaluation runs where the network is

class NoCPU(Linear):
    def cpu(self): raise AssertionError("the network was moved to the CPU")


def test_pipeline_and_study_score_a_network_where_it_is(faces):
    from rtml.pipeline import score_network
    from rtml.study import StudyConfig, read_network
    from rtml.evaluation import EvalConfig
    sp, net = faces.view1(), NoCPU()
    r = score_network(net, faces, sp, EvalConfig(attack_steps=1, attacked_pairs=20))
    assert 0 <= r['clean']['accuracy'] <= 1
    cfg = StudyConfig(steps=(1,), restarts=1, pipeline_steps=1, shifts=())
    rec, _ = read_network(net, faces, sp.test, cfg, attack_subset(sp.test, 40))
    assert set(rec['attacked']) == {'pgd1x1@2/255'}


# --- budgets: one reading each, bounded

@pytest.mark.parametrize('text', ['2', '1', '0.5', '4'])
def test_ambiguous_linf_budgets_are_refused_with_both_readings(text):
    with pytest.raises(ValueError) as e: parse_eps(text)
    assert f"{float(text):g}/255" in str(e.value) and 'reads two ways' in str(e.value)


def test_budgets_read_one_way():
    from rtml.config import check_budget, parse_budget
    assert parse_eps('2/255') == 2 / 255 and parse_eps('0.5/255') == 0.5 / 255 and parse_eps('0.0078') == 0.0078
    assert parse_budget('0.5') == 0.5  # an L2 budget stays what it says
    check_budget((0.5, 2.0), 'l2')
    with pytest.raises(ValueError, match='L2'): check_budget(20.0, 'l2', '--eps')


def test_every_budget_field_is_bounded():
    from rtml.training import SourceConfig
    from rtml.study import StudyConfig
    with pytest.raises(ValueError, match='--eps'): check_config(SourceConfig(eps=2.0))          # 2 meant as 2/255
    check_config(SourceConfig(norm='l2', eps=0.5))                                             # a fine L2 budget
    with pytest.raises(ValueError, match='--attack-eps'): EvalConfig(attack_eps=(1.0,)).check()
    EvalConfig(attack='pgd_l2', attack_eps=(1.0,)).check()
    EvalConfig(attack='fgsm', attack_eps=(2 / 255,)).check()   # every registered attack can be checked
    for name in ('epsilons', 'primary_eps', 'attack_eps'):
        v = (0.0, 1.0) if name == 'epsilons' else 1.0
        with pytest.raises(ValueError, match=name.replace('_', '-')): check_config(replace(StudyConfig(), **{name: v}))


def test_the_study_flags_refuse_the_old_ambiguous_form(tmp_path):
    from cli_helpers import run_rtml
    r = run_rtml('study', '--epsilons', '0,0.5,1,2,4', '--results', str(tmp_path / 'r'), cache=tmp_path, timeout=120)  # before: it ran a study
    assert r.returncode == 2 and "write '0.5/255'" in r.stderr
    r = run_rtml('source', '--attack-eps', '2', '--epochs', '1', '--out', str(tmp_path / 's'), cache=tmp_path, timeout=120)  # before: 2.0
    assert r.returncode != 0 and "write '2/255'" in r.stderr and not (tmp_path / 's' / 'view1' / 'checkpoint.pt').exists()


# --- the training attack and batch norm

def _bn_stats_after_attack(bn):
    from rtml.training import AdversarialTerm, Step
    from rtml.losses import make_loss
    from rtml.models import create_model, model_spec
    torch.manual_seed(0)
    model = create_model(model_spec('resnet', (3, 32, 32), emb_dim=16, width=8, blocks=(1, 1, 1, 1), input_size=32)).train()
    term = AdversarialTerm(make_loss('cosface', 4, 16), 'pgd', 4 / 255, 2, bn=bn)
    before = [m.running_mean.clone() for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    step = Step(model, {'x': torch.rand(8, 3, 32, 32), 'y': torch.arange(8) % 4}, 1.0, 0, torch.Generator().manual_seed(0))
    term.prepare(step)
    after = [m.running_mean for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert model.training and 'adversarial' in step.inputs
    return all(torch.equal(a, b) for a, b in zip(before, after))


def test_the_training_attacks_batch_norm_is_a_declared_choice():
    from rtml.training import SourceConfig, source_terms
    from rtml.losses import make_loss
    assert not _bn_stats_after_attack('train')  # batch statistics: the attack's forward passes move the running averages
    assert _bn_stats_after_attack('eval')       # running statistics, left as they are
    terms = source_terms(SourceConfig(attack='fgsm', attack_bn='eval'), make_loss('cosface', 4, 128))
    assert terms[1].bn == 'eval'
    with pytest.raises(ValueError, match='attack-bn'): check_config(SourceConfig(attack_bn='frozen'))


# --- ArcFace's tail

def test_arcface_target_logit_falls_all_the_way_and_matches_pml():
    pml = pytest.importorskip('pytorch_metric_learning.losses')
    from rtml.losses import ArcFaceLoss
    arc = ArcFaceLoss(6, 16)
    cos = torch.linspace(-1, 1, 401)
    assert (arc.target_logit(cos).diff() >= 0).all()  # never rewards moving away from the class
    ref = pml.ArcFaceLoss(6, 16, margin=math.degrees(0.5), scale=30)
    with torch.no_grad(): ref.W.copy_(arc.weight.T)
    g = torch.Generator().manual_seed(1)
    for spread in (0.1, 0.5, 2.0):  # faces near the opposite of their class (the tail), then anywhere
        emb = (-arc.weight.detach() + spread * torch.randn(6, 16, generator=g))
        x1, x2 = emb.clone().requires_grad_(), emb.clone().requires_grad_()
        a, b = arc(F.normalize(x1, dim=1), torch.arange(6)), ref(x2, torch.arange(6))
        (a + b).backward()
        assert a.item() == pytest.approx(b.item(), abs=1e-4)
        assert torch.allclose(x1.grad, x2.grad, atol=1e-4)


# --- resume on CUDA keeps the CUDA random state

def test_checkpoints_keep_and_restore_the_cuda_random_state(tmp_path, monkeypatch):
    from rtml.training import restore_checkpoint, save_checkpoint
    from rtml.models import create_model, model_spec, read_checkpoint
    state = torch.arange(16, dtype=torch.uint8)
    restored = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'get_rng_state', lambda device='cuda': state.clone())
    monkeypatch.setattr(torch.cuda, 'set_rng_state', lambda s, device='cuda': restored.append(s.clone()))
    model = create_model(model_spec('mlp', (4,), in_dim=4, emb_dim=2, hidden=3))
    opt = torch.optim.SGD(model.parameters(), 0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1)
    save_checkpoint(tmp_path / 'c.pt', {}, model, [], opt, sched, torch.Generator(), 0, [])
    assert torch.equal(read_checkpoint(tmp_path / 'c.pt')['cuda_rng'], state)
    restore_checkpoint(tmp_path / 'c.pt', {}, model, [], opt, sched, torch.Generator())
    assert len(restored) == 1 and torch.equal(restored[0], state)


# --- caches and run checks keyed on the pixels

def test_another_crop_at_the_same_size_is_another_cache_key():
    from rtml.training import teaching_folder
    from rtml.pipeline import PRESETS, _same_settings, pipeline_config
    a = synthetic_faces(n_people=24, images=(2, 3), size=16, seed=0)
    b = replace(a, images=np.ascontiguousarray(a.images[:, ::-1]))  # the same shape, other pixels (as another crop gives)
    assert repr(a) == repr(b) and a.images.shape == b.images.shape  # what the keys were made of before
    rows = np.arange(len(a))
    assert teaching_folder(a, rows) != teaching_folder(b, rows)
    assert teaching_folder(a, rows) == teaching_folder(replace(a, images=a.images.copy()), rows)
    ca, cb = (json.loads(json.dumps(pipeline_config(d, PRESETS['teach']))) for d in (a, b))
    assert not _same_settings(ca, cb) and _same_settings(ca, json.loads(json.dumps(pipeline_config(a, PRESETS['teach']))))


# --- registries and checkpoint formats

def test_a_registry_warns_when_an_entry_is_replaced_without_saying_so():
    reg = Registry('thing')
    def one(): pass
    def two(): pass
    reg.register('x')(one)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        reg.register('x')(one)                 # a notebook re-running its cell
        reg.register('x', replace=True)(two)   # a later notebook replacing it on purpose
    with pytest.warns(UserWarning, match="thing 'x'"): reg.register('x')(one)


def test_checkpoints_carry_their_format_and_a_newer_one_is_refused_by_name(tmp_path):
    from rtml.models import CHECKPOINT_FORMAT, create_model, load_model, model_spec, save_model
    model = create_model(model_spec('mlp', (4,), in_dim=4, emb_dim=2, hidden=3))
    save_model(model, tmp_path / 'm.pt')
    state = torch.load(tmp_path / 'm.pt', weights_only=True)
    assert state['format'] == CHECKPOINT_FORMAT
    load_model(tmp_path / 'm.pt')
    torch.save({**state, 'format': CHECKPOINT_FORMAT + 1}, tmp_path / 'new.pt')
    with pytest.raises(ValueError, match=f"format {CHECKPOINT_FORMAT + 1}"): load_model(tmp_path / 'new.pt')
    torch.save({k: v for k, v in state.items() if k != 'format'}, tmp_path / 'old.pt')
    load_model(tmp_path / 'old.pt')  # written before the format was recorded: still read


# --- one paired comparison, taught once (04b): attacked pairs judged with fixed thresholds

def test_paired_bootstrap_with_fixed_thresholds_is_the_studys_judged_bootstrap():
    from rtml.evaluation import paired_bootstrap
    from rtml.study import judged, judged_bootstrap
    rng = np.random.default_rng(0)
    same = np.tile(np.r_[np.ones(20, bool), np.zeros(20, bool)], 5); fold = np.repeat(np.arange(5), 40)
    a, b = rng.normal(same * 1.0, 1, (3, 200)), rng.normal(same * 0.7, 1, (3, 200))
    ta, tb = rng.normal(0.5, 0.1, (3, 5)), rng.normal(0.4, 0.1, (3, 5))
    got = paired_bootstrap(a, b, same, fold, n=200, seed=3, thresholds=(ta, tb))['accuracy']
    right = lambda s, t: np.stack([judged(s[i], same, fold, t[i]) for i in range(3)])
    ref = judged_bootstrap(right(a, ta), right(b, tb), same, fold, n=200, seed=3)
    assert got[0] == pytest.approx(ref[0]) and np.allclose(got[1], ref[1])


# --- the study's matched control: a finer grid than whole epochs

def test_a_fractional_number_of_epochs_ends_with_part_of_one(tmp_path):
    from rtml.training import SourceConfig, train_source
    faces = synthetic_faces(n_people=24, images=(3, 5), size=32, seed=1)
    rows = faces.view1().train
    cfg = SourceConfig(epochs=1.5, width=8, batch_size=16, augment=False)
    full, hist = train_source(faces, rows, cfg, out=tmp_path / 'full', progress=False)
    steps = len(rows) // 16
    assert [h['epoch'] for h in hist] == [1, 2] and 'cpu_seconds' in hist[0]
    from rtml.models import read_checkpoint
    assert read_checkpoint(tmp_path / 'full' / 'checkpoint.pt')['sched']['last_epoch'] == round(1.5 * steps) < 2 * steps  # the second epoch cut short
    _, whole = train_source(faces, rows, SourceConfig(epochs=1, width=8, batch_size=16, augment=False), progress=False)
    assert hist[0]['clean'] != whole[0]['clean']  # the one-cycle schedule spans 1.5 epochs' steps, not one
    class Stop(Exception): pass
    def cut(epoch, history):
        if epoch == 0: raise Stop
    with pytest.raises(Stop): train_source(faces, rows, cfg, out=tmp_path / 'cut', progress=False, callback=cut)
    resumed, _ = train_source(faces, rows, cfg, out=tmp_path / 'cut', resume=True, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(full.state_dict().values(), resumed.state_dict().values()))  # resumed exactly


def test_the_control_search_bisects_then_halves_and_picks_the_nearest():
    from rtml.study import match_epochs
    curve = {2: .60, 3: .66, 4: .70, 5: .755, 6: .76, 7: .78, 8: .79, 4.5: .712, 4.75: .738}
    tried = []
    chosen, cand = match_epochs(range(2, 9), 0.74, lambda e: tried.append(e) or curve[e], 0.01, 3)
    assert tried == [5, 3, 4, 4.5, 4.75] and chosen == 4.75 and set(cand) == set(tried)
    chosen, _ = match_epochs(range(2, 9), 0.85, lambda e: curve[e], 0.01, 3)  # out of reach: the nearest whole number, no halving
    assert chosen == 8
    bumpy = {**curve, 4: .80}  # not monotone: still the nearest of what was tried
    chosen, cand = match_epochs(range(2, 9), 0.74, lambda e: bumpy[e], 0.01, 0)
    assert chosen == min(cand, key=lambda e: abs(cand[e] - 0.74))


def test_control_choices_of_two_processes_are_both_kept(tmp_path):
    "One process writes its seed's choice while another is still searching: the second write keeps the first (it lost it before)."
    from rtml.study import Study, StudyConfig, _update_json
    faces = synthetic_faces(n_people=40, images=(2, 4), seed=0)
    s = Study(faces, StudyConfig(seeds=(0, 1), epsilons=(0, 1 / 255)), tmp_path / 'results', tmp_path / 'runs', log=lambda m: None)
    (tmp_path / 'results' / 'units').mkdir(parents=True)
    s.unit_path('half-eps1-seed1').write_text(json.dumps({'records': [{'row': 'teacher', 'val_accuracy': 0.7}]}))
    def candidate(seed, epochs, target):  # meanwhile another process finishes seed 0's choice
        _update_json(tmp_path / 'results' / 'control.json', lambda d: d.setdefault('seeds', {}).update({'0': {'chosen_epochs': 3}}), tmp_path / 'lock')
        return 0.5 + 0.05 * epochs
    s._control_candidate = candidate
    assert s.control_epochs(1) == 4
    got = json.loads((tmp_path / 'results' / 'control.json').read_text())['seeds']
    assert set(got) == {'0', '1'} and got['1']['chosen_epochs'] == 4 and got['1']['matched']


def test_seed_level_t_interval_is_scipys():
    from scipy import stats
    from rtml.study import seed_t_interval
    d = [-0.017, -0.018, -0.026]
    got = seed_t_interval(d)
    lo, hi = stats.t.interval(0.95, 2, loc=np.mean(d), scale=stats.sem(d))
    assert got['ci_low'] == pytest.approx(lo) and got['ci_high'] == pytest.approx(hi) and got['verdict'] == 'worse'
    assert seed_t_interval([0.01]) is None
