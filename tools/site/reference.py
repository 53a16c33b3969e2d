"""The site's reference page, made when the site is built (so it cannot go stale): every module of the library with
the notebook that teaches it and what it exports, and where the engineering a lesson lets a student skip is explained:
the notebooks' *Under the hood* parts and the reference notebooks. `conf.py` puts it into nbs/reference.md."""
import json, re
from pathlib import Path

PLACE = '<!-- the reference, made by tools/site/reference.py when the site is built -->'


def _title(cells):
    return next((l[2:].strip() for c in cells if c['cell_type'] == 'markdown' for l in ''.join(c['source']).splitlines()
                 if l.startswith('# ')), '')


def notebooks(nbs):
    "[(stem, title, module or None, [Under-the-hood headings])] of the numbered notebooks, in order."
    out = []
    for p in sorted(Path(nbs).glob('[0-9]*.ipynb')):
        cells = json.loads(p.read_text(encoding='utf-8'))['cells']
        src = [''.join(c['source']) for c in cells]
        module = next((m.group(1) for s, c in zip(src, cells) if c['cell_type'] == 'code'
                       for m in [re.search(r'^#\|\s*default_exp\s+(\S+)', s, re.M)] if m), None)
        hood = [l.lstrip('#').strip() for s, c in zip(src, cells) if c['cell_type'] == 'markdown'
                for l in s.splitlines() if re.match(r'#{2,3} Under the hood', l)]
        out.append((p.stem, _title(cells), module, hood))
    return out


def all_of(path):
    "The `__all__` of a module file, read without importing it (nbdev_export writes one into every module)."
    import ast
    tree = ast.parse(Path(path).read_text(encoding='utf-8'))
    return next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], 'id', '') == '__all__'), [])


def exports(root, module):
    "The names `rtml.<module>` exports."
    return all_of(Path(root) / 'rtml' / f"{module.replace('.', '/')}.py")


def top_level(root): return all_of(Path(root) / 'rtml' / '__init__.py')


def reference_notebooks(nbs):
    "The notebooks the site's table of contents puts under 'Under the hood (reference)' (nbs/site.md)."
    text = (Path(nbs) / 'site.md').read_text(encoding='utf-8')
    block = text.split(':caption: Under the hood (reference)', 1)[1].split('```', 1)[0]
    return [l.strip() for l in block.splitlines() if (Path(nbs) / f"{l.strip()}.ipynb").is_file()]


def build(nbs, root, slug):
    "The reference as markdown; `slug(heading)` is the site's anchor of a heading."
    nbl = notebooks(nbs)
    lines = ['## The top-level API', '', ', '.join(f'`rtml.{n}`' for n in top_level(root)), '',
             '## Where the engineering lives', '',
             'The lessons keep to the method and its evidence. What makes it fast, safe to interrupt and able to run on '
             'several processes is explained here:', '']
    for stem, title, module, hood in nbl:
        lines += [f"- [{stem}: {h}]({stem}.ipynb#{slug(h)})" for h in hood]
    refs = reference_notebooks(nbs)
    lines += [f"- [{stem}]({stem}.ipynb): {title}" for stem, title, module, hood in nbl if stem in refs]
    lines += ['', '## The modules', '', '| module | taught in | exports |', '|---|---|---|']
    for stem, title, module, hood in nbl:
        if module: lines.append(f"| `rtml.{module}` | [{stem}]({stem}.ipynb) | {', '.join(f'`{n}`' for n in exports(root, module))} |")
    return '\n'.join(lines) + '\n'
