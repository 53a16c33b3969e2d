"""Every notebook is stored executed: a cell that shows something (prints, displays, draws, or ends with an
expression) has its outputs in the file, so a reader of the repository or of the course site sees them without
running anything. Checked on the files as committed; `test_display_cell_rule` checks the rule itself."""
import ast, json, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / 'nbs').glob('*.ipynb'))
SKIP = re.compile(r'^#\|\s*(export|exports|exporti|hide|default_exp)\b', re.M)  # library code and hidden set-up cells
SILENT = {'close', 'seed', 'manual_seed', 'nbdev_export', 'register', 'update', 'append', 'savefig', 'set_num_threads',
          'mkdir', 'write_text', 'unlink', 'rmtree', 'sleep'}
# Display cells still without outputs, each with what it waits for (issue 16: the LFW results bundle).
PENDING = {('05_robust_source', 'robustness_table(lfw_reports)'): 'the LFW bundle: 05 renders its LFW table from committed results'}


def shows(src:str) -> bool:
    "Whether a code cell displays something when run: it prints, displays or shows, binds `fig`, or ends with a bare expression."
    try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('#|', '%', '!'))))
    except SyntaxError: return True  # not plain Python: assume it shows something
    if not tree.body: return False
    called = {n.func.id if isinstance(n.func, ast.Name) else n.func.attr for n in ast.walk(tree)
              if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute))}
    if called & {'print', 'display', 'show'}: return True
    if any(isinstance(t, ast.Name) and t.id == 'fig' for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets): return True
    last = tree.body[-1]
    if not isinstance(last, ast.Expr): return False
    if isinstance(last.value, ast.Call):
        f = last.value.func
        name = f.id if isinstance(f, ast.Name) else getattr(f, 'attr', '')
        if name.startswith('test_') or name in SILENT: return False
    return not isinstance(last.value, ast.Constant)  # a docstring-like constant shows nothing worth keeping


def test_display_cell_rule():
    assert shows("print(1)") and shows("x = 1\nx") and shows("fig = plt.figure()") and shows("#| slow\nif ok: display(t)")
    assert not shows("x = 1") and not shows("test_eq(1, 1)") and not shows("plt.close('all')") and not shows("#| export\n")


@pytest.mark.parametrize('path', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_display_cells_have_outputs(path):
    nb = json.loads(path.read_text())
    missing, errors, stale = [], [], []
    for i, c in enumerate(nb['cells']):
        src = ''.join(c['source'])
        if c['cell_type'] != 'code': continue
        if any(o.get('output_type') == 'error' for o in c.get('outputs', [])): errors.append(f"cell {i}")
        if SKIP.search(src) or not shows(src): continue
        pending = any(stem == path.stem and key in src for stem, key in PENDING)
        if pending and c.get('outputs'): stale.append(f"cell {i}")
        if pending or c.get('outputs'): continue
        missing.append(f"cell {i}: {src.strip().splitlines()[-1][:80]}")
    assert not errors, f"{path.name} is stored with errors in {', '.join(errors)}"
    assert not stale, f"{path.name}: {', '.join(stale)} now have outputs: take them out of PENDING"
    assert not missing, f"{path.name} is stored with display cells that have no outputs (execute it and save):\n" + '\n'.join(missing)
