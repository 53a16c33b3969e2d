"A notebook only uses what earlier notebooks taught: no module of rtml/ and no notebook imports a module of a later notebook."
import ast, json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FREE = {'cli', '__main__', '__init__'}  # the command line (90_cli) and the package's front door may import everything


def notebook_modules():
    "{module name: (position in the reading order, notebook)} from each numbered notebook's `#| default_exp`."
    out = {}
    for i, nb in enumerate(sorted((ROOT / 'nbs').glob('[0-9]*.ipynb'))):
        cells = json.loads(nb.read_text())['cells']
        for c in cells:
            m = re.search(r'^#\|\s*default_exp\s+(\S+)', ''.join(c['source']), re.M)
            if m: out[m.group(1)] = (i, nb.stem); break
    return out


def rtml_imports(source):
    "Names of the rtml modules `source` imports anywhere (inside functions too), absolute or relative."
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module: found.add(node.module.split('.')[0])
            elif node.level == 1: found.update(a.name for a in node.names)
            elif node.module and node.module.split('.')[0] == 'rtml':
                parts = node.module.split('.')
                if len(parts) > 1: found.add(parts[1])
                else: found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split('.')
                if parts[0] == 'rtml' and len(parts) > 1: found.add(parts[1])
    return found


def later(own, imported, order):
    return sorted(m for m in imported if m in order and m not in FREE and order[m][0] > order[own][0])


def test_modules_import_only_earlier_modules():
    order, bad = notebook_modules(), []
    assert {'data', 'training', 'pipeline', 'viz', 'cam_softmax'} <= set(order)
    for py in sorted((ROOT / 'rtml').glob('*.py')):
        own = py.stem
        if own in FREE or own.startswith('_'): continue
        assert own in order, f"rtml/{py.name} has no notebook that exports it"
        for m in later(own, rtml_imports(py.read_text()), order):
            bad.append(f"rtml/{py.name} ({order[own][1]}) imports rtml.{m} ({order[m][1]})")
    assert not bad, 'modules reach forward:\n' + '\n'.join(bad)


def test_notebooks_import_only_earlier_modules():
    order, bad = notebook_modules(), []
    for own, (i, stem) in order.items():
        if own in FREE: continue
        for c in json.loads((ROOT / 'nbs' / f'{stem}.ipynb').read_text())['cells']:
            if c['cell_type'] != 'code': continue
            code = '\n'.join(l for l in ''.join(c['source']).splitlines() if not l.lstrip().startswith(('%', '!')))
            for m in later(own, rtml_imports(code), order):
                bad.append(f"nbs/{stem}.ipynb imports rtml.{m} ({order[m][1]}) in a cell starting {''.join(c['source'])[:60]!r}")
    assert not bad, 'notebooks reach forward:\n' + '\n'.join(bad)


def test_the_check_sees_a_forward_import():
    order = notebook_modules()
    assert later('losses', rtml_imports("def f():\n    from rtml.cam_softmax import CamSoftmaxLoss"), order) == ['cam_softmax']
    assert later('training', rtml_imports("from .sft import sft_loss"), order) == ['sft']
    assert later('pipeline', rtml_imports("import rtml.training"), order) == []


# --- one order everywhere: the numbering, the course plan, the index (and so the README), the site

def plan():
    from rtml.course import PLAN
    return PLAN


def numbered():
    return sorted(p.stem for p in (ROOT / 'nbs').glob('[0-9]*.ipynb'))


def index_order():
    "The notebooks of the index's table, in its order."
    text = '\n'.join(''.join(c['source']) for c in json.loads((ROOT / 'nbs' / 'index.ipynb').read_text())['cells'] if c['cell_type'] == 'markdown')
    return re.findall(r'^\| `(\d\w*)\.ipynb` \|', text, re.M)


def site_order():
    "The numbered notebooks of the site's tables of contents, in their order."
    blocks = re.findall(r'```\{toctree\}\n(.*?)```', (ROOT / 'nbs' / 'site.md').read_text(), re.S)
    return [l.strip() for b in blocks for l in b.splitlines() if re.match(r'\d', l.strip())]


def test_the_plan_the_index_and_the_site_follow_the_numbering():
    order = [n for _, names, _ in plan() for n in names]
    assert order == numbered(), f"the plan's order {order} is not the notebooks' numbering {numbered()}"
    assert index_order() == numbered(), f"the index lists {index_order()}"
    assert site_order() == numbered(), f"the site lists {site_order()}"
    readme = re.findall(r'^\| `(\d\w*)\.ipynb` \|', (ROOT / 'README.md').read_text(), re.M)
    assert readme == numbered(), 'README.md is out of date: run python tools/readme.py'
    kinds = [lesson for lesson, *_ in plan()]
    lessons = [k for k in kinds if k != 'reference']
    assert lessons == [str(i) for i in range(1, len(lessons) + 1)], f"lessons not numbered 1, 2, ... in order: {kinds}"
    assert kinds[len(lessons):] == ['reference'] * (len(kinds) - len(lessons)), 'reference rows come after every lesson'


def test_no_lesson_uses_a_reference_notebook():
    order = notebook_modules()
    reference = {n for lesson, names, _ in plan() if lesson == 'reference' for n in names}
    ref_modules = {m for m, (_, stem) in order.items() if stem in reference}
    assert ref_modules >= {'distributed', 'cli'}
    bad = []
    for m, (_, stem) in order.items():
        if stem in reference: continue
        used = rtml_imports((ROOT / 'rtml' / f'{m}.py').read_text())
        for c in json.loads((ROOT / 'nbs' / f'{stem}.ipynb').read_text())['cells']:
            if c['cell_type'] == 'code':
                used |= rtml_imports('\n'.join(l for l in ''.join(c['source']).splitlines() if not l.lstrip().startswith(('%', '!'))))
        bad += [f"{stem} (a lesson) uses rtml.{r} ({order[r][1]}, a reference notebook)" for r in sorted(used & ref_modules)]
    assert not bad, '\n'.join(bad)


def test_the_check_sees_a_lesson_that_uses_a_reference_notebook():
    assert rtml_imports("from rtml.distributed import world") == {'distributed'}
    assert rtml_imports("def f():\n    from .cli import main") == {'cli'}
