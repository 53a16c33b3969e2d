"""The course site: built from the stored notebooks with the README's command, then every page opened in headless
Chromium (Playwright) from a loopback server, checking that its pictures load and its maths is typeset.

Needs Sphinx with myst-nb (the dev extras) for the build, and Chromium with Playwright for the pages; `.ci/run`
installs Chromium and sets RTML_BROWSER_TEST=required, so CI fails rather than skips when they are missing."""
import functools, http.server, json, os, subprocess, sys, threading
from pathlib import Path
import pytest
from test_browser import CHROMIUM, FLAGS, _missing

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (ROOT / 'nbs').glob('*.ipynb'))


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The site built into a temporary folder by the README's command (with another output folder)."
    out = tmp_path_factory.mktemp('site') / '_docs'
    r = subprocess.run([sys.executable, '-m', 'sphinx', '-q', '-W', '--keep-going', '-c', 'tools/site', 'nbs', str(out)],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, f"the site did not build cleanly:\n{r.stderr[-4000:]}"
    return out


def test_every_notebook_is_a_page(site):
    pages = {p.stem for p in site.glob('*.html')}
    assert set(NOTEBOOKS) | {'method', 'site'} <= pages, sorted(set(NOTEBOOKS) - pages)
    assert (site / '_static' / 'mathjax').is_dir(), "MathJax is not in the site: its maths would need the internet"
    front = (site / 'site.html').read_text()
    for nb in NOTEBOOKS: assert f'href="{nb}.html"' in front, f"{nb} is not in the table of contents"


def test_pages_show_code_as_nbdev_sites_do(site):
    "No code cell shows a directive (`#| export`, ...); hidden cells are left out; exported code says where it went."
    import re
    for nb in NOTEBOOKS:
        page = (site / f"{nb}.html").read_text()
        blocks = re.findall(r'<div class="cell_input.*?</pre>', page, re.S)
        shown = [b for b in blocks if re.search(r'^\s*#\|', re.sub(r'<[^>]+>', '', b), re.M)]
        assert not shown, f"{nb}.html shows nbdev directives in {len(shown)} code cells"
    teacher = (site / '14_teacher.html').read_text()
    assert 'exported to rtml/teacher.py' in teacher and 'from fastcore.test import' not in teacher  # an exported cell; a hidden one
    assert 'summ = json.loads' not in (site / 'index.html').read_text()                              # `#| echo: false`: output only


def test_method_statement_is_rtmls_own():
    "The notebooks link to the method statement beside them, never to a folder outside the repository."
    for p in (ROOT / 'nbs').glob('*.ipynb'):
        text = ''.join(''.join(c['source']) for c in json.loads(p.read_text())['cells'])
        assert '../shared' not in text and 'METHOD.md' not in text, f"{p.name} points outside rtml for its method"
    method = (ROOT / 'nbs' / 'method.md').read_text()
    for part in ('**stated**', '**reconstructed**', "**rtml's addition**", 'consistency term'): assert part in method


@pytest.fixture(scope='module')
def server(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    handler = functools.partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


CHECK = """() => {
  const imgs = [...document.querySelectorAll('article img')];
  const math = [...document.querySelectorAll('article .math')];
  return {images: imgs.length, broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
          math: math.length, typeset: math.filter(m => m.querySelector('mjx-container')).length,
          errors: document.querySelectorAll('mjx-merror, mjx-container [style*="color: red"]').length};  // TeX errors, undefined macros
}"""


def test_pages_load_pictures_and_maths(site, server):
    why = _missing()
    if why:
        if os.environ.get('RTML_BROWSER_TEST') == 'required': pytest.fail(f"browser test required but {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright
    pages = sorted(p.name for p in site.glob('*.html') if p.stem not in ('genindex', 'search'))
    seen = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        failed, outside = [], []
        page.route('**/*', lambda route: route.continue_() if route.request.url.startswith(server) else (outside.append(route.request.url), route.abort()))
        page.on('requestfailed', lambda r: None if 'ERR_ABORTED' in (r.failure or '') else failed.append(r.url))  # a load cut short by the next page
        page.on('response', lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        for name in pages:
            page.goto(f"{server}/{name}", wait_until='load')
            got = page.evaluate(CHECK)
            if got['math']:  # MathJax typesets after the page loads
                page.wait_for_function("() => [...document.querySelectorAll('article .math')].every(m => m.querySelector('mjx-container'))", timeout=30_000)
                got = page.evaluate(CHECK)
            seen[name] = got
            assert not got['broken'], f"{name}: pictures that do not load: {got['broken']}"
            assert got['typeset'] == got['math'] and not got['errors'], f"{name}: maths not typeset: {got}"
        browser.close()
    assert not outside, f"pages asked for things outside the site (it must work offline): {sorted(set(outside))[:5]}"
    assert not failed, f"requests that failed: {failed[:5]}"
    assert sum(g['images'] for g in seen.values()) >= 20 and sum(g['math'] for g in seen.values()) >= 20, seen
    print({k: (v['images'], v['math']) for k, v in seen.items()})


def test_reference_reaches_the_engineering(site):
    "The reference page names every module and links each notebook's 'Under the hood' part to its place on the page."
    import re
    page = (site / 'reference.html').read_text()
    for m in sorted((ROOT / 'rtml').glob('*.py')):
        if not m.stem.startswith('_'): assert f'rtml.{m.stem}' in page, f"the reference does not name rtml.{m.stem}"
    hood = re.findall(r'href="([0-9]\w*\.html)#(under-the-hood[\w-]*)"', page)
    parts = {p.stem for p in (ROOT / 'nbs').glob('*.ipynb') if '"## Under the hood' in p.read_text() or '"### Under the hood' in p.read_text()}
    assert {f[:-5] for f, _ in hood} == parts and len(parts) >= 3, (hood, parts)
    for f, anchor in hood: assert f'id="{anchor}"' in (site / f).read_text(), f"{f} has no section #{anchor}"
    assert 'href="reference.html"' in (site / 'site.html').read_text()
