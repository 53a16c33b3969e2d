"""The explorers in a real browser: JupyterLab on loopback, headless Chromium driven by Playwright.

Opens a copy of nbs/11_visualize.ipynb cut after the attack explorer (the original is never written), runs every
cell from JupyterLab's Run menu, moves the attack explorer's epsilon slider and checks that the similarity it shows changes.
Needs Chromium (Debian's `chromium`) and Playwright's Python package; `.ci/run` installs both and sets
RTML_BROWSER_TEST=required, so CI fails rather than skips when they are missing.
"""
import json, os, re, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']


def _missing():
    try: import playwright.sync_api  # noqa: F401
    except ImportError: return "Playwright's Python package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM: return "no Chromium on PATH (Debian: apt-get install chromium)"
    return None


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    why = _missing()
    if why:
        if os.environ.get('RTML_BROWSER_TEST') == 'required': pytest.fail(f"browser test required but {why}")
        pytest.skip(why)
    work = tmp_path_factory.mktemp('lab')
    nb = json.loads((ROOT / 'nbs' / '11_visualize.ipynb').read_text())
    end = next(i for i, c in enumerate(nb['cells']) if 'AttackExplorer.from_evaluations' in ''.join(c['source']))
    nb['cells'] = nb['cells'][:end + 1]  # up to the attack explorer: the cells after it (other explorers, exercises) are not what is tested
    (work / '11_visualize.ipynb').write_text(json.dumps(nb))
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    token = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ('RTML_LFW', 'RTML_STATIC')}
    env.update(JUPYTER_RUNTIME_DIR=str(work / '.runtime'), JUPYTERLAB_WORKSPACES_DIR=str(work / '.workspaces'))
    log = open(work / 'lab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={work}', '--allow-root'],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    url = f'http://127.0.0.1:{port}'
    for _ in range(120):
        try:
            urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2); break
        except OSError:
            if proc.poll() is not None: break
            time.sleep(1)
    else: proc.kill(); pytest.fail(f"JupyterLab did not start in 120 s:\n{(work / 'lab.log').read_text()[-3000:]}")
    if proc.poll() is not None: pytest.fail(f"JupyterLab exited:\n{(work / 'lab.log').read_text()[-3000:]}")
    yield url, token, work
    proc.terminate()
    try: proc.wait(20)
    except subprocess.TimeoutExpired: proc.kill()
    log.close()


def _accept_dialog(page, wait_ms=5000):
    "Accept JupyterLab's dialog (say, 'Select Kernel') if one shows within `wait_ms`."
    try: page.locator('.jp-Dialog .jp-mod-accept').first.click(timeout=wait_ms)
    except Exception: pass  # no dialog


def _similarities(text):
    "The 'after' similarity of each network in the attack explorer's readout."
    return [float(m) for m in re.findall(r'cos -?[\d.]+ -> (-?[\d.]+)', text)]


def test_attack_explorer_slider(lab):
    from playwright.sync_api import sync_playwright
    url, token, work = lab
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        try:
            t_start = time.time()
            say = lambda what: print(f"{time.time() - t_start:6.1f} s  {what}", flush=True)
            page.goto(f'{url}/lab/tree/11_visualize.ipynb?token={token}')
            page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=120_000)
            page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=120_000)  # kernel up
            say('kernel idle')
            _accept_dialog(page)  # a fresh JupyterLab may ask which kernel to start
            page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
            page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
            _accept_dialog(page)
            readout = page.locator('.rtml-attack-readout')
            readout.wait_for(state='attached', timeout=900_000)  # the notebook trains three small networks first
            say('explorer shown')
            readout.scroll_into_view_if_needed()                 # JupyterLab renders only the cells in view
            before, t0 = readout.inner_text(), time.time()
            while len(_similarities(before)) < 2 and time.time() - t0 < 120:  # the view fills in as the kernel's values arrive
                time.sleep(1); before = readout.inner_text()
            sims_before = _similarities(before)
            assert len(sims_before) == 2, before
            box = page.locator('.rtml-eps .widget-readout')      # the epsilon slider's editable value
            box.scroll_into_view_if_needed()
            box.click(); page.keyboard.press('Control+A'); page.keyboard.type('0'); page.keyboard.press('Enter')
            after, t0 = before, time.time()
            while after == before and time.time() - t0 < 120:  # the kernel attacks again and sends the new readout
                time.sleep(1); after = readout.inner_text()
            say('slider moved, readout updated')
            assert 'eps 0.0/255' in after, after
            sims_after = _similarities(after)
            # at eps 0 nothing is attacked: each network's similarity goes back to its clean value, which differs
            assert sims_after != sims_before, (before, after)
            assert all(re.search(rf'cos {s:.3f} -> {s:.3f}', after) for s in sims_after), after
            page.screenshot(path=str(work / 'explorer.png'))
        except Exception:
            page.screenshot(path=str(work / 'failure.png'))
            print(f"screenshot: {work / 'failure.png'}; JupyterLab log:\n{(work / 'lab.log').read_text()[-3000:]}")
            raise
        finally:
            browser.close()
