"`rtml study` end to end on synthetic faces (tiny settings): its files, the summary's keys, resume, and the bootstrap."
import json

import numpy as np
import pytest
from cli_helpers import run_rtml

from rtml.data import class_folds
from rtml.evaluation import bootstrap_verdict, paired_bootstrap
from rtml.verification import verification_report

TINY = ['--epsilons', '0,1/255,2/255', '--seeds', '0,1', '--source-epochs', '1', '--source-width', '8', '--target-epochs', '1',
        '--val-pairs', '20', '--control-epochs', '1', '--label-weights', '0.3,1', '--attacked-pairs', '20', '--steps', '1,3', '--restarts', '2',
        '--pipeline-steps', '1', '--bootstrap', '50', '--device', 'cpu', '--quiet']


def run(d, *extra):
    return run_rtml('study', *TINY, '--results', str(d / 'results'), '--runs', str(d / 'runs'), *extra, cache=d)


@pytest.fixture(scope='module')
def study(tmp_path_factory):
    "A tiny study run in two calls: three units, then (resumed, by two workers) the rest."
    d = tmp_path_factory.mktemp('study')
    first = run(d, '--max-units', '3')
    assert first.returncode == 0, first.stderr[-3000:]
    partial = json.loads((d / 'results' / 'summary.json').read_text())
    rest = run(d, '--resume', '--workers', '2')
    assert rest.returncode == 0, rest.stderr[-3000:]
    return d, partial, json.loads((d / 'results' / 'summary.json').read_text()), rest


def test_resume_runs_only_what_is_left(study):
    d, partial, summary, rest = study
    assert len(partial['units_done']) == 3 and partial['units_left']
    assert summary['units_left'] == [] and set(partial['units_done']) < set(summary['units_done'])
    for name in partial['units_done']: assert f"{name}: teacher" not in rest.stdout, f"{name} ran again after --resume"
    again = run(d)  # not resumed: refused, nothing lost
    assert again.returncode == 2 and '--resume' in again.stderr


def test_two_workers_share_the_units(study):
    d, partial, summary, rest = study
    left = [n for n in summary['units_done'] if n not in partial['units_done']]
    for name in left: assert rest.stdout.count(f"] {name}: teacher") == 1, f"{name} ran {rest.stdout.count(f'] {name}: teacher')} times"
    assert '[worker 0]' in rest.stdout and '[worker 1]' in rest.stdout
    import fcntl
    for p in (d / 'runs' / 'claims').glob('*.lock'):
        with open(p, 'a+') as f: fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises when a claim outlived its unit


def test_claims_and_readiness(tmp_path):
    import subprocess, sys
    from rtml.data import synthetic_faces
    from rtml.study import Study, StudyConfig
    s = Study(synthetic_faces(n_people=40, images=(2, 4), seed=0), StudyConfig(seeds=(0, 1), epsilons=(0, 1 / 255)), tmp_path / 'results', tmp_path / 'runs')
    assert s.claim('half-eps0-seed0') and not s.held('half-eps0-seed0')  # ours
    lock = tmp_path / 'runs' / 'claims' / 'half-eps1-seed0.lock'
    holder = subprocess.Popen([sys.executable, '-c', f"import fcntl, time; f = open({str(lock)!r}, 'a+'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'  # another live process holds it
        assert not s.claim('half-eps1-seed0') and s.held('half-eps1-seed0')
    finally: holder.kill(); holder.wait()
    assert s.claim('half-eps1-seed0')  # its process has ended: the system dropped its lock
    s.release('half-eps1-seed0'); assert not s.held('half-eps1-seed0') and lock.exists()
    # the label weight comes from the first seed's standard new_ids unit; each seed's control from that seed's two new_ids teachers
    assert s.ready('half-eps0-seed0') and s.ready('all-eps1-seed1')
    assert not s.ready('half-eps1-seed0') and not s.ready('control-seed0') and not s.ready('control-seed1')
    (tmp_path / 'results').mkdir(); (tmp_path / 'results' / 'choices.json').write_text('{}')
    assert s.ready('half-eps1-seed0') and not s.ready('control-seed0')
    (tmp_path / 'results' / 'units').mkdir()
    for n in ('half-eps1-seed0', 'half-eps1-seed1', 'half-eps0-seed1'): s.unit_path(n).write_text('{}')
    assert not s.ready('control-seed0') and s.ready('control-seed1')  # seed 0's standard teacher is not done yet
    s.unit_path('half-eps0-seed0').write_text('{}')
    assert s.ready('control-seed0')


def test_other_settings_cannot_resume(study):
    d = study[0]
    args = list(TINY); args[args.index('--seeds') + 1] = '0'
    r = run_rtml('study', *args, '--results', str(d / 'results'), '--runs', str(d / 'runs'), '--resume', cache=d)
    assert r.returncode == 2 and 'other settings' in r.stderr


def test_summary_keys_and_cells(study):
    summary = study[2]
    assert {'records', 'verdicts', 'masking', 'cpu_seconds', 'config'} <= set(summary)
    for rec in summary['records']:
        assert {'regime', 'eps', 'seed', 'row', 'accuracy', 'auc', 'attacked', 'shifted'} <= set(rec)
        assert rec['row'] in ('teacher', 'student', 'alone') and rec['regime'] in ('same', 'new_ids', 'view16')
        assert set(rec['shifted']) == {'align', 'jpeg30', 'blur', 'noise', 'light'}
        assert {'pgd1x1@2/255', 'pgd3x1@2/255', 'pgd3x2@2/255'} <= set(rec['attacked'])
        assert 'transfer-pgd10@2/255' in rec['attacked'], (rec['regime'], rec['row'], rec['eps'], rec['seed'])
    cells = {(r['regime'], r['eps'], r['seed']) for r in summary['records'] if r['row'] == 'student' and r.get('variant') is None}
    assert cells == {(g, e, s) for g in ('same', 'new_ids', 'view16') for e in (0.0, 1.0, 2.0) for s in (0, 1)}
    assert any(r.get('variant') == 'matched_control' for r in summary['records'])
    attacked = [v for v in summary['verdicts'] if v['metric'] == 'attacked']  # robustness of the students, fixed thresholds
    assert attacked and all(v['reading'] == 'pgd3x2@2/255' and v['ci_low'] <= v['delta'] <= v['ci_high'] for v in attacked)
    for v in summary['verdicts']:
        assert {'comparison', 'delta', 'ci_low', 'ci_high', 'verdict'} <= set(v)
        assert v['ci_low'] <= v['ci_high'] and v['verdict'] in ('better', 'worse', 'no difference detectable at this scale')
    assert sorted(v['metric'] for v in summary['verdicts'] if v['primary']) == ['accuracy', 'attacked', 'auc']  # clean, and under the strongest attack
    assert {s: c['chosen_epochs'] for s, c in summary['control']['seeds'].items()} == {'0': 1, '1': 1}  # chosen seed by seed
    primary = next(v for v in summary['verdicts'] if v['primary'] and v['metric'] == 'accuracy')
    assert set(primary['sensitivity']) == {'seed_t', 'fixed_thresholds'} and len(primary['sensitivity']['seed_t']['per_seed']) == 2
    from rtml.data import synthetic_faces
    from rtml.evaluation import attack_subset
    assert summary['attacked_pairs_read'] == len(attack_subset(synthetic_faces().view1().test, 20, 0)) and summary['cpu_uncounted_before_resume'] == []
    choice = json.loads((study[0] / 'results' / 'choices.json').read_text())['label_weight']
    assert set(choice['candidates']) == {'0.3', '1'} and choice['chosen'] in (0.3, 1.0)


def test_bootstrap_known_answer():
    "A network that separates every pair against one that gives every pair the same score: 50 points, in every replicate."
    same = np.repeat([True, False], 200)
    fold = class_folds(same)
    perfect = np.where(same, 1.0, 0.0)
    blind = np.zeros(400)
    res = paired_bootstrap(np.stack([perfect, perfect]), np.stack([blind, blind]), same, fold, n=100)
    delta, reps = res['accuracy']
    assert delta == 0.5 and np.allclose(reps, 0.5)
    v = bootstrap_verdict(delta, reps)
    assert (v['ci_low'], v['ci_high'], v['verdict']) == (0.5, 0.5, 'better')
    assert np.allclose(res['auc'][1], 0.5)


def test_bootstrap_point_estimate_is_the_direct_difference():
    rng = np.random.default_rng(1)
    same = np.repeat([True, False], 150)
    fold = class_folds(same)
    a = [np.where(same, .7, .3) + rng.normal(0, .3, 300) for _ in range(3)]
    b = [np.where(same, .7, .3) + rng.normal(0, .4, 300) for _ in range(3)]
    direct = np.mean([verification_report(x, same, fold).accuracy - verification_report(y, same, fold).accuracy for x, y in zip(a, b)])
    res = paired_bootstrap(a, b, same, fold, n=200, seed=3)
    assert res['accuracy'][0] == pytest.approx(direct)
    v = bootstrap_verdict(*res['accuracy'])
    assert v['ci_low'] < direct < v['ci_high']


def test_judged_bootstrap_known_answer_and_direct_difference():
    from rtml.study import judged, judged_bootstrap
    rng = np.random.default_rng(0)
    same, fold = np.tile([True, False], 100), np.repeat(np.arange(10), 20)
    right, wrong = np.ones((2, 200), bool), np.zeros((2, 200), bool)
    delta, reps = judged_bootstrap(right, wrong, same, fold, n=50)
    assert delta == 1 and np.all(reps == 1)  # always right minus always wrong: one, in every replicate
    a, b = rng.random((3, 200)) < .8, rng.random((3, 200)) < .6
    direct = np.mean([np.mean([a[s][fold == k].mean() - b[s][fold == k].mean() for k in range(10)]) for s in range(3)])
    delta, reps = judged_bootstrap(a, b, same, fold, n=200)
    assert abs(delta - direct) < 1e-12 and np.quantile(reps, .025) < delta < np.quantile(reps, .975)
    # judged: each fold's threshold applied to its own pairs
    thr = np.linspace(-.5, .4, 10)
    sims = thr[fold] + np.where(same, .01, -.01)
    assert judged(sims, same, fold, thr).all() and not judged(-sims, same, fold, -thr).any()
