"Fixes to verification and the LBP baseline: class-balanced default folds, AUC on any NumPy, pooled TAR@FAR, two LBP kinds."
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from rtml import baselines as B, data as D, verification as V
from rtml.data import class_folds


def class_ordered_scores(n=3000, seed=0):
    "Scores of `n` pairs sorted by class: every same pair first, then every different pair."
    rng = np.random.default_rng(seed)
    same = np.r_[np.ones(n // 2, bool), np.zeros(n - n // 2, bool)]
    return rng.normal(same * 1.5, 1), same


def test_default_folds_are_class_folds_on_class_ordered_pairs():
    s, y = class_ordered_scores()
    default, dealt = V.verification_report(s, y), V.verification_report(s, y, class_folds(y, 10))
    assert default.fold_accuracy == dealt.fold_accuracy and default.thresholds == dealt.thresholds
    assert default.accuracy == dealt.accuracy


def test_every_default_fold_holds_both_classes():
    s, y = class_ordered_scores()
    # a threshold above every score rejects every pair: a fold's accuracy is then its share of different pairs
    reject_all = V.verification_report(s, y, thresholds=[1e9] * 10)
    assert len(reject_all.fold_accuracy) == 10
    assert all(0 < a < 1 for a in reject_all.fold_accuracy), reject_all.fold_accuracy


def test_default_folds_on_pairs_txt_layout_are_the_files_folds():
    rng = np.random.default_rng(1)
    y = np.tile(np.r_[np.ones(300, bool), np.zeros(300, bool)], 10)  # pairs.txt: each fold 300 same then 300 different
    s = rng.normal(y * 1.5, 1)
    assert V.verification_report(s, y).fold_accuracy == V.verification_report(s, y, np.arange(6000) // 600).fold_accuracy


def test_auc_without_np_trapezoid(monkeypatch):
    rng = np.random.default_rng(2)
    y = rng.random(500) < .4
    s = np.round(rng.normal(y * 1.0, 1), 2)  # ties included
    monkeypatch.delattr(np, 'trapezoid', raising=False)  # NumPy 1.x has no np.trapezoid
    far, tar, _ = V.roc_curve(s, y)
    assert V.auc(far, tar) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert V.verification_report(s, y).auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_tar_at_far_is_pooled_and_differs_from_per_fold():
    rng = np.random.default_rng(0)
    y = np.tile(np.r_[np.ones(300, bool), np.zeros(300, bool)], 10)
    s = rng.normal(y * 1.5, 1)
    folds = np.arange(6000) // 600
    r = V.verification_report(s, y, folds)
    far, tar, _ = V.roc_curve(s, y)
    assert r.tar_at_far[1e-3] == V.tar_at_far(far, tar, 1e-3)  # one ROC over all folds' pairs
    per_fold = V.per_fold_tar_at_far(s, y, folds, 1e-3)
    assert len(per_fold) == 10
    assert per_fold[3] == V.tar_at_far(*V.roc_curve(s[folds == 3], y[folds == 3])[:2], 1e-3)
    assert abs(per_fold.mean() - r.tar_at_far[1e-3]) > .01
    assert 'pooled' in V.verification_report.__doc__


def test_lbp_kinds_bins_and_labels(tiny_faces):
    imgs = tiny_faces.images[:5]
    ri, ah = B.lbp_features(imgs, kind='ri_uniform'), B.lbp_features(imgs, kind='ahonen')
    assert ri.shape == (5, 8 * 8 * 10) and ah.shape == (5, 7 * 7 * 59)  # 10 vs 59 bins per region
    assert np.array_equal(B.lbp_features(imgs), ri)  # the default kind is the former behaviour
    assert set(B.LBP_KINDS) == {'ri_uniform', 'ahonen'}
    assert 'rotation-invariant' in B.LBP_KINDS['ri_uniform'] and '10 bins' in B.LBP_KINDS['ri_uniform']
    assert 'Ahonen' in B.LBP_KINDS['ahonen'] and '59 bins' in B.LBP_KINDS['ahonen']
    assert 'non-rotation-invariant' in B.LBP_KINDS['ahonen']


def test_ahonen_codes_are_scikit_image_nri_uniform(tiny_faces):
    from skimage.feature import local_binary_pattern
    gray = (D.to_gray(D.to_tensor(tiny_faces.images[:3]))[:, 0].numpy().clip(0, 1) * 255).round().astype(np.uint8)
    codes = D.lbp_codes(gray, 8, 2, 'nri_uniform')
    assert np.array_equal(codes, np.stack([local_binary_pattern(g, 8, 2, method='nri_uniform') for g in gray]))
    assert D.lbp_n_bins(8, 'nri_uniform') == 59 and codes.max() < 59


def test_run_baselines_names_both_lbp_rows(tiny_faces):
    rows = B.run_baselines(tiny_faces, 'view1', n_components=10)
    assert list(rows) == ['eigenfaces', B.LBP_KINDS['ri_uniform'], B.LBP_KINDS['ahonen']]
    assert all(r.n_pairs == rows['eigenfaces'][0].n_pairs for r, _ in rows.values())
