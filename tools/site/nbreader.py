"""How the course site reads a notebook: as nbdev's own sites show one. Directive comments (`#| export`, `#| hide`, ...)
are not shown; hidden cells (`#| hide`, `#| default_exp`) are left out; `#| echo: false` cells show their output alone;
exported cells say which module of the library they are part of; cells that run only with a test flag say so."""
import re
import nbformat

DIRECTIVE = re.compile(r'^\s*#\|\s*(.*?)\s*$')
FLAG_NOTE = {'slow': 'real training: runs with the slow flag', 'lfw': 'needs real LFW (RTML_LFW)', 'cuda': 'needs a GPU',
             'solution': 'solution', 'dlib': 'needs the dlib extra (pip install "rtml[dlib]")'}


def split_directives(source):
    "(directives, the code without them): the leading `#| ...` lines of a cell and the rest."
    lines, found = source.splitlines(), []
    while lines and DIRECTIVE.match(lines[0]):
        found.append(DIRECTIVE.match(lines[0]).group(1)); lines.pop(0)
    return found, '\n'.join(lines)


def read_notebook(text, **kw):
    "A notebook (nbformat 4) ready for the site: directives taken out, hidden cells dropped, exported cells marked."
    nb = nbformat.reads(text, as_version=4)
    module = next((m.group(1) for c in nb.cells if c.cell_type == 'code'
                   for m in [re.search(r'^#\|\s*default_exp\s+(\S+)', c.source, re.M)] if m), None)
    cells = []
    for c in nb.cells:
        if c.cell_type != 'code': cells.append(c); continue
        found, code = split_directives(c.source)
        words = {d.split(':')[0].split()[0] if d else '' for d in found}
        if words & {'hide', 'default_exp', 'exporti'} and not words & {'export', 'exports'}: continue
        notes = []
        if words & {'export', 'exports'} and module: notes.append(f"exported to rtml/{module.replace('.', '/')}.py")
        notes += [FLAG_NOTE[w] for w in found if w in FLAG_NOTE]
        c.source = (f"# {'; '.join(notes)}\n" if notes else '') + code
        if any(re.fullmatch(r'echo:\s*false', d) for d in found):
            c.metadata.setdefault('tags', []).append('remove-input')
        cells.append(c)
    nb.cells = cells
    return nb
