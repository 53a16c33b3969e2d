"Source training from the command line: outputs, resume, and bad settings."
import json

from cli_helpers import run_rtml as run


def test_robust_source_on_synthetic_faces_then_resume(tmp_path):
    out = tmp_path / 'src'
    args = ['source', '--robust', '--epochs', '2', '--width', '8', '--attack-steps', '2', '--attack-eps', '4/255', '--quiet', '--out', str(out)]
    r = run(*args, cache=tmp_path)
    assert r.returncode == 0, r.stderr
    assert '"attack": "fgsm"' in r.stdout and '| view1 |' in r.stdout
    res = json.loads((out / 'robustness.json').read_text())['source']
    assert list(res['attacked']) == ['pgd2x1@4/255'] and res['seconds'] > 0
    assert 0 <= res['attacked']['pgd2x1@4/255']['accuracy'] <= 1 and res['n_pairs'] > 0
    md = (out / 'robustness.md').read_text()  # says the attack it ran (it used to say "10-step" whatever ran)
    assert 'pgd with 2 step(s)' in md and '10-step' not in md
    assert (out / 'view1' / 'checkpoint.pt').is_file() and len(json.loads((out / 'view1' / 'history.json').read_text())) == 2
    # a finished run resumed trains nothing more and reports the same network
    again = run(*args, '--resume', cache=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads((out / 'robustness.json').read_text())['source']['accuracy'] == res['accuracy']
    # other settings on the same folder are refused with one message
    other = run('source', '--epochs', '3', '--width', '8', '--quiet', '--out', str(out), '--resume', cache=tmp_path)
    assert other.returncode == 2 and 'other settings' in other.stderr and 'Traceback' not in other.stderr


def test_bad_epsilon_flag(tmp_path):
    r = run('source', '--eps', 'two', cache=tmp_path)
    assert r.returncode == 2 and "--eps: cannot read 'two'" in r.stderr
