"""Sphinx configuration of rtml's course site: the notebooks as they are stored (with their outputs, never
re-executed), the method statement, the course plan and the map. Build it with

    .venv/bin/sphinx-build -q -c tools/site nbs _docs

(the README's command); tests/test_site.py builds it and opens every page in headless Chromium."""
import sys
from configparser import ConfigParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # nbreader.py: how a notebook becomes a page

_ini = ConfigParser(); _ini.read(Path(__file__).parents[2] / 'settings.ini')
project = 'rtml'
author = _ini['DEFAULT']['author']
release = version = _ini['DEFAULT']['version']
copyright = f"2026, {author}"

root_doc = 'site'  # nbs/site.md: the front page and the table of contents
extensions = ['myst_nb', 'sphinx.ext.mathjax', 'sphinx-mathjax-offline']  # MathJax is copied into the site: it renders offline
nb_execution_mode = 'off'          # the notebooks are stored executed: the site shows their outputs as they are
nb_merge_streams = True
nb_custom_formats = {'.ipynb': ['nbreader.read_notebook', {}, False]}  # directives hidden, hidden cells left out, exported code marked
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_heading_anchors = 3
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type', 'myst.xref_missing', 'misc.highlighting_failure']
exclude_patterns = ['_proc', '.ipynb_checkpoints', '**/.ipynb_checkpoints']
html_theme = 'furo'
html_title = f"rtml {release}: robust metric transfer, a course"
html_show_sourcelink = False
html_copy_source = False  # the notebooks are in the repository; the site needs only their pages


def _reference(app, docname, source):
    "nbs/reference.md gets its module table and its engineering map when the site is built (tools/site/reference.py)."
    if docname != 'reference': return
    import reference
    from myst_parser.mdit_to_docutils.base import default_slugify
    nbs = Path(app.srcdir)
    source[0] = source[0].replace(reference.PLACE, reference.build(nbs, nbs.parent, default_slugify))


def setup(app):
    app.connect('source-read', _reference)
