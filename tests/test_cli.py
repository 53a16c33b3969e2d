"The rtml command line, as a user runs it."
import json, os, subprocess, sys
from pathlib import Path
import pytest
from rtml import cli
from rtml.data import DataError

RTML = str(Path(sys.executable).parent / 'rtml')


def run(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != 'RTML_LFW'}
    env.update(env_extra or {})
    return subprocess.run([RTML, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.parametrize('cmd', [[], ['baselines'], ['download-lfw'], ['info'], ['study'], ['evaluate']])
def test_help(cmd):
    r = run(*cmd, '--help')
    assert r.returncode == 0 and 'usage: rtml' in r.stdout


def test_baselines_on_synthetic_faces(tmp_path):
    out = tmp_path / 'out'
    r = run('baselines', '--protocol', 'view2', '--out', str(out), env_extra={'RTML_CACHE': str(tmp_path / 'c')})
    assert r.returncode == 0, r.stderr
    assert 'synthetic faces' in r.stdout and '| eigenfaces |' in r.stdout
    assert sorted(p.name for p in out.iterdir()) == ['config.json', 'results.json', 'results.md', 'roc.png']
    res = json.loads((out / 'results.json').read_text())
    from rtml.baselines import LBP_KINDS
    assert list(res) == ['eigenfaces', *LBP_KINDS.values()]  # each LBP row says which patterns it is
    for row in res.values():
        assert 0.55 < row['accuracy'] < 1 and 0.5 < row['auc'] <= 1 and row['seconds'] > 0
        assert row['n_pairs'] == 10 * 2 * (row['n_pairs'] // 20) and len(row['fold_accuracy']) == 10
        assert set(row['tar_at_far']) == {'0.001', '0.01'}
    assert f"| {LBP_KINDS['ahonen']} |" in (out / 'results.md').read_text()
    assert json.loads((out / 'config.json').read_text())['protocol'] == 'view2'


def test_bad_lfw_path_is_one_clear_message(tmp_path):
    r = run('baselines', '--lfw', str(tmp_path / 'missing'), '--out', str(tmp_path / 'o'))
    assert r.returncode == 2
    assert 'rtml baselines: error: LFW folder' in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path / 'o').exists()


def test_bad_flag_value():
    r = run('baselines', '--protocol', 'view3')
    assert r.returncode == 2 and "invalid choice: 'view3'" in r.stderr


def test_info_on_an_lfw_copy(tiny_lfw):
    r = run('info', '--lfw', str(tiny_lfw), '--no-verify', '--size', '24')
    assert r.returncode == 0, r.stderr
    assert 'View 2 folds             10' in r.stdout


def test_download_lfw_without_internet_says_where_to_place_files(tmp_path, monkeypatch, capsys):
    import sklearn.datasets
    def offline(**kw): raise OSError('no route to host')
    monkeypatch.setattr(sklearn.datasets, 'fetch_lfw_pairs', offline)
    assert cli.main(['download-lfw', '--dest', str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert 'could not download LFW' in err and 'no route to host' in err and 'pairs.txt' in err


def test_bad_crop_flag():
    r = run('info', '--crop', '0.5,0.5,0.2,0.9')
    assert r.returncode == 2 and 'argument --crop: crop must satisfy' in r.stderr


def test_student_copies(tmp_path):
    "The student copies build from the repository's notebooks: no solution left, no output, every exercise a placeholder."
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / 'students'
    r = run('student-copies', str(out), '--nbs', str(root / 'nbs'))
    assert r.returncode == 0, r.stderr
    originals = sorted((root / 'nbs').glob('*.ipynb'))
    assert sorted(p.name for p in out.glob('*.ipynb')) == [p.name for p in originals]
    taken = 0
    for f in originals:
        nb, copy = json.loads(f.read_text()), json.loads((out / f.name).read_text())
        assert len(copy['cells']) == len(nb['cells']), f.name
        n_sol = sum(1 for c in nb['cells'] if c['cell_type'] == 'code' and ''.join(c['source']).startswith('#| solution'))
        placeholders = [c for c in copy['cells'] if ''.join(c['source']).startswith('# Exercise ')]
        assert len(placeholders) == n_sol, f.name
        assert all(not c.get('outputs') for c in copy['cells'] if c['cell_type'] == 'code'), f.name
        assert not [c for c in copy['cells'] if c['cell_type'] == 'code' and ''.join(c['source']).startswith('#| solution')], f.name
        taken += n_sol
    assert taken >= 30 and f"{taken} solutions taken out" in r.stdout
    assert (out / 'images').is_dir()
    bad = run('student-copies', str(tmp_path / 'x'), '--nbs', str(tmp_path / 'nowhere'))
    assert bad.returncode == 2 and 'nowhere: no notebook folder here' in bad.stderr
