"Attacks as objects and the one evaluation API: the pgd step-size and flipped-scoring fixes, worst-case restarts, retrieval metrics, consistent thresholds, merged splits."
import json
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from rtml.attacks import MirrorSum, attack_pairs, make_attack, pair_attack, pgd, robustness_report
from rtml.data import Pairs, Split, synthetic_faces, to_tensor
from rtml.evaluation import EvalConfig, Evaluation, attack_subset, evaluate, merge_evaluations, results_table, retrieval_metrics
from rtml.verification import embed_images, pair_scores, verification_report


class LeftHalf(nn.Module):
    "A linear embedding of the left half of the image only: its mirror image sees the other half, so flipping matters."
    def __init__(self, size=32, dim=16):
        super().__init__(); torch.manual_seed(0); self.half = size // 2; self.lin = nn.Linear(3 * size * self.half, dim)
    def forward(self, x): return F.normalize(self.lin(x[..., :self.half].flatten(1) - 0.5), dim=1)


@pytest.fixture(scope='module')
def faces(): return synthetic_faces(n_people=40, images=(4, 8), size=32, seed=0)

@pytest.fixture(scope='module')
def split(faces): return faces.view1()

@pytest.fixture(scope='module')
def net(): return LeftHalf().eval()

@pytest.fixture
def x(faces): return to_tensor(faces.images[:12])


def test_pgd_refuses_a_zero_step_size_and_keeps_a_small_one(net, x):
    with torch.no_grad(): obj = pair_attack(net(x.roll(1, 0)), [True] * len(x))
    for bad in (0, 0.0, -1e-3):  # `step_size or default` used to turn 0 into the default, silently
        with pytest.raises(ValueError, match='step_size must be > 0'): pgd(net, x, obj, 2 / 255, step_size=bad)
    tiny = pgd(net, x, obj, 2 / 255, steps=1, step_size=1e-4, random_start=False)
    assert abs((tiny - x).abs().max().item() - 1e-4) < 1e-6
    g = lambda: torch.Generator().manual_seed(0)
    assert torch.equal(pgd(net, x, obj, 2 / 255, 4, None, generator=g()), pgd(net, x, obj, 2 / 255, 4, 2.5 * (2 / 255) / 4, generator=g()))


def test_flipped_scoring_judges_and_attacks_the_mirrored_network(net, faces, split):
    pairs = split.test
    rob = robustness_report(net, faces, split, eps_list=(0, 2 / 255), steps=3, flip=True)
    flipped = verification_report(pair_scores(net, faces.images, pairs, flip=True), pairs.same, pairs.fold)
    assert rob[0].thresholds == flipped.thresholds  # the clean pairs are scored as the attacked ones are
    assert rob[0].accuracy == flipped.accuracy
    # the attack must go through the mirror: attacking the net alone leaves the mirrored half of the score untouched
    sign = np.where(pairs.same, -1.0, 1.0)
    clean = pair_scores(net, faces.images, pairs, flip=True)
    new = attack_pairs(net, faces, pairs, 2 / 255, 3, flip=True)
    partner = embed_images(net, faces.images[pairs.right], flip=True)
    xa = pgd(net, to_tensor(faces.images[pairs.left]), pair_attack(partner, pairs.same), 2 / 255, 3, generator=torch.Generator().manual_seed(0))
    half = F.cosine_similarity(embed_images(net, xa, flip=True), partner).numpy()
    gain_new, gain_half = (sign * (new - clean)).mean(), (sign * (half - clean)).mean()
    assert gain_new > 1.5 * gain_half > 0, (gain_new, gain_half)


def test_restarts_keep_each_samples_worst_case(net, x):
    with torch.no_grad(): partner = net(x.roll(1, 0))
    obj = pair_attack(partner, [True, False] * 6)
    value = {}
    for r in (1, 2, 5):
        adv = make_attack('pgd', 4 / 255, steps=2, restarts=r)(net, x, obj, torch.Generator().manual_seed(3))
        assert (adv - x).abs().max() <= 4 / 255 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
        with torch.no_grad(): value[r] = obj(net(adv))
    assert (value[2] >= value[1] - 1e-6).all() and (value[5] >= value[2] - 1e-6).all()  # sample by sample, not on the sum
    assert (value[5] > value[1] + 1e-6).any()
    # a batch-scalar objective keeps the best restart as a whole
    total = lambda e: obj(e).sum()
    one, five = (make_attack('pgd', 4 / 255, steps=2, restarts=r)(net, x, total, torch.Generator().manual_seed(3)) for r in (1, 5))
    with torch.no_grad(): assert total(net(five)) >= total(net(one)) - 1e-6
    test_labels = make_attack('pgd', 2 / 255, steps=10, restarts=3).label, make_attack('fgsm', 2 / 255).label, make_attack('pgd_l2', 0.5).label
    assert test_labels == ('pgd10x3@2/255', 'fgsm@2/255', 'pgd_l2-10x1@0.5')
    with pytest.raises(ValueError, match='restarts > 1 need random_start'): make_attack('pgd', 2 / 255, restarts=2, random_start=False)


def test_retrieval_metrics_match_pytorch_metric_learning():
    from pytorch_metric_learning.distances import CosineSimilarity
    from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
    from pytorch_metric_learning.utils.inference import CustomKNN
    g = torch.Generator().manual_seed(1)
    lab = torch.randint(0, 15, (300,), generator=g); lab[:2] = torch.tensor([98, 99])  # two queries alone in their class
    emb = torch.randn(15, 12, generator=g)[lab.clamp(max=14)] + torch.randn(300, 12, generator=g)
    ours = retrieval_metrics(emb, lab.numpy(), batch_size=64)  # blocks of queries: the same as one
    calc = AccuracyCalculator(include=('precision_at_1', 'mean_average_precision_at_r'), knn_func=CustomKNN(CosineSimilarity()))
    ref = calc.get_accuracy(emb, lab, emb, lab, ref_includes_query=True)
    assert ours['n_queries'] == 298
    assert abs(ours['precision_at_1'] - ref['precision_at_1']) < 1e-6
    assert abs(ours['map_at_r'] - ref['mean_average_precision_at_r']) < 1e-6
    assert 0.2 < ours['map_at_r'] < ours['precision_at_1'] < 1  # a real, not a degenerate, case


@pytest.mark.parametrize('flip', [False, True])
def test_evaluate_judges_attacks_with_the_clean_thresholds(net, faces, split, flip):
    atks = EvalConfig(attack_eps=(1 / 255, 2 / 255), attack_steps=2, attack_restarts=2).attacks()
    ev = evaluate(net, faces, split, atks, flip=flip, attacked_pairs=50)
    t = split.test
    ref = verification_report(pair_scores(net, faces.images, t, flip=flip), t.same, t.fold)
    assert ev.clean.thresholds == ref.thresholds and abs(ev.clean.accuracy - ref.accuracy) < 1e-12
    np.testing.assert_array_equal(ev.attacked_pairs, attack_subset(t, 50, 0))
    hit = t[ev.attacked_pairs]
    assert list(ev.attacked) == ['pgd2x2@1/255', 'pgd2x2@2/255']
    for k, r in ev.attacked.items():
        assert r.thresholds == ev.clean.thresholds
        assert r.accuracy == verification_report(ev.attacked_sims[k], hit.same, hit.fold, thresholds=ref.thresholds).accuracy
        assert r.accuracy < ev.clean.accuracy
    assert set(ev.retrieval) == {'precision_at_1', 'map_at_r', 'n_queries'}
    back = Evaluation.from_dict(json.loads(json.dumps(ev.to_dict())))
    assert back.attacked['pgd2x2@2/255'].accuracy == ev.attacked['pgd2x2@2/255'].accuracy and back.flip == flip
    np.testing.assert_allclose(back.sims, ev.sims)
    table = results_table({'net': ev, 'again': back.to_dict(), 'report only': ev.clean}, times={'net': 1.5})
    head, _, first, *_ = table.splitlines()
    assert head.endswith('| P@1 (%) | MAP@R (%) | pgd2x2@1/255 (%) | pgd2x2@2/255 (%) | time (s) |')
    assert first.split(' | ')[-2] == f"{100 * ev.attacked['pgd2x2@2/255'].accuracy:.1f}"
    assert '50 of the 130 test pairs' in table


def test_a_network_with_a_non_differentiable_view_is_not_attacked(net, faces, split):
    class Unattackable(nn.Module):
        def __init__(self): super().__init__(); self.net, self.view = net, type('LBP', (), {'differentiable': False})()
        def forward(self, x): return self.net(x)
    ev = evaluate(Unattackable(), faces, split, [make_attack('pgd', 2 / 255, steps=1)], retrieval=False)
    assert ev.attacked == {} and ev.attacked_sims == {} and ev.retrieval == {}


def test_merging_two_splits_equals_one_report_on_their_concatenation(net, faces, split):
    t = split.test
    halves = [Split(f'h{i}', split.train, t[np.isin(t.fold, f)]) for i, f in enumerate(((0, 2, 4, 6, 8), (1, 3, 5, 7, 9)))]
    fixed = [make_attack('pgd', 2 / 255, steps=2, random_start=False)]  # no random start: each pair's attack is its own
    parts = [evaluate(net, faces, h, fixed) for h in halves]
    merged = merge_evaluations([parts[0], parts[1].to_dict()], halves)
    both = Pairs(*(np.concatenate([getattr(h.test, k) for h in halves]) for k in ('left', 'right', 'same', 'fold')))
    whole = evaluate(net, faces, both, fixed)
    np.testing.assert_allclose(merged.sims, whole.sims, atol=1e-6)
    np.testing.assert_allclose(merged.clean.thresholds, whole.clean.thresholds, atol=1e-6)
    assert merged.clean.accuracy == whole.clean.accuracy and merged.clean.n_pairs == len(t)
    np.testing.assert_allclose(merged.attacked_sims['pgd2x1@2/255'], whole.attacked_sims['pgd2x1@2/255'], atol=1e-5)
    assert merged.attacked['pgd2x1@2/255'].accuracy == whole.attacked['pgd2x1@2/255'].accuracy
    assert merged.attacked['pgd2x1@2/255'].thresholds == merged.clean.thresholds  # judged with the merged clean thresholds
    with pytest.raises(ValueError, match='same attacks'): merge_evaluations([parts[0], evaluate(net, faces, halves[1])], halves)


def test_compare_evaluations_judges_view2_with_each_models_own_thresholds():
    """Evaluations whose thresholds came from their own splits (`fitted_on='fit'`, View 2) are compared with those
    thresholds: refitting them on the other folds' scores would judge each fold by other models' thresholds."""
    from rtml.evaluation import Evaluation, compare_evaluations
    from rtml.verification import verification_report
    rng = np.random.default_rng(0)
    same = np.tile([True, False], 300); fold = np.repeat(np.arange(10), 60)
    sims = {k: np.where(same, .6, .4) + rng.normal(0, s, 600) for k, s in (('a', .15), ('b', .2))}
    own = {'a': rng.uniform(.3, .7, 10), 'b': rng.uniform(.3, .7, 10)}  # each fold's threshold, as its own model chose it
    ev = {k: Evaluation(verification_report(sims[k], same, fold, thresholds=own[k]), sims=sims[k], fitted_on='fit') for k in sims}
    v = compare_evaluations(ev['a'], ev['b'], same, fold, n=50)['clean']
    assert abs(v['delta'] - (ev['a'].clean.accuracy - ev['b'].clean.accuracy)) < 1e-12   # the difference of what was reported
    refit = {k: Evaluation(verification_report(sims[k], same, fold), sims=sims[k]) for k in sims}  # fitted_on='folds'
    w = compare_evaluations(refit['a'], refit['b'], same, fold, n=50)['clean']
    assert abs(w['delta'] - (refit['a'].clean.accuracy - refit['b'].clean.accuracy)) < 1e-12
    assert abs(v['delta'] - w['delta']) > 1e-3                                           # the two readings differ here
    mixed = Evaluation(refit['b'].clean, sims=sims['b'], fitted_on='fit')
    with pytest.raises(ValueError, match='one protocol'): compare_evaluations(refit['a'], mixed, same, fold, n=10)
