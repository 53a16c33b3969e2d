"""Build README.md from nbs/index.ipynb.

nbdev 2's `nbdev_readme` renders through Quarto, which installs from GitHub, not from a package registry; this
script does the same job with the standard library: markdown cells as they are, code cells as fenced blocks
followed by their text output, cells marked `#| hide` left out, cells marked `#| echo: false` replaced by their
markdown output (tables and text made from the committed results), and image links made relative to the repo root.
`.ci/run` rebuilds README.md and fails if it differs from the committed one.

    python tools/readme.py
"""
import json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cell_text(cell):
    src = ''.join(cell['source']).strip()
    if cell['cell_type'] == 'markdown': return re.sub(r'\]\((?!https?:|#|/)', '](nbs/', src)
    if cell['cell_type'] != 'code' or src.startswith('#| hide'): return ''
    if re.search(r'^#\|\s*echo:\s*false\s*$', src, re.M):  # its output alone, as markdown: a table made from results/
        outs = [''.join(o.get('data', {}).get('text/markdown', '')) for o in cell.get('outputs', [])]
        return re.sub(r'\]\(\.\./', '](', '\n\n'.join(o.strip() for o in outs if o.strip()))
    src = '\n'.join(l for l in src.splitlines() if not l.startswith('#|'))
    outs = [''.join(o.get('text', '') or o.get('data', {}).get('text/plain', '')) for o in cell.get('outputs', [])]
    out = '\n'.join(o.rstrip() for o in outs if o.strip())
    return f"```python\n{src}\n```" + (f"\n\n    {out.replace(chr(10), chr(10) + '    ')}" if out else '')


def build():
    nb = json.loads((ROOT / 'nbs' / 'index.ipynb').read_text(encoding='utf-8'))
    parts = [t for t in (cell_text(c) for c in nb['cells']) if t]
    header = '<!-- Generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file. -->\n\n'
    return header + '\n\n'.join(parts) + '\n'


if __name__ == '__main__':
    (ROOT / 'README.md').write_text(build(), encoding='utf-8')
    print(f"wrote {ROOT / 'README.md'}")
