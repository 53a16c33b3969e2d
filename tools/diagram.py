"""Draw rtml's diagrams into nbs/images/: the whole method (method.png), a copy per stage with that stage picked
out (method-attack.png, method-robust.png, method-imitation.png, method-verification.png) for the notebooks
that teach each stage, settings declared once (config.png, 00a) and data-parallel training (ddp.png, 15_distributed).

    python tools/diagram.py

Plain matplotlib boxes and arrows; the images are committed, so nothing draws them at run time."""
from pathlib import Path
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

OUT = Path(__file__).resolve().parents[1] / 'nbs' / 'images'

# name -> (x, y, w, h, text, stage): the boxes of the diagram, in data coordinates of a 16 x 7 canvas
BOXES = {
    'face':    (0.2, 4.6, 2.0, 1.1, 'face $x$\n64x64 RGB', None),
    'attack':  (3.0, 5.6, 2.6, 1.1, 'attack (FGSM / PGD)\n$x\' = x + \\delta$, $\\|\\delta\\|_\\infty \\leq \\epsilon$', 'attack'),
    'source':  (6.6, 4.6, 2.6, 1.1, 'source $f_s$\nResNet, trained', 'robust'),
    'joint':   (10.2, 5.6, 3.2, 1.1, 'joint loss\n$\\alpha L_m(f_s(x)) + (1-\\alpha) L_m(f_s(x\'))$', 'robust'),
    'view':    (3.0, 2.2, 2.6, 1.1, 'view $\\phi(x)$\ngrey 32x32 or LBP', 'imitation'),
    'target':  (6.6, 2.2, 2.6, 1.1, 'target $f_t$\nsmall ShuffleNetV2', 'imitation'),
    'imitate': (10.2, 3.3, 3.2, 1.1, 'imitation\n$1 - \\cos(f_t(\\phi(x)), f_s(x))$', 'imitation'),
    'pairs':   (6.6, 0.1, 2.6, 1.1, 'LFW pairs, any network\n$\\cos(f(a), f(b))$', 'verification'),
    'roc':     (10.2, 0.1, 3.2, 1.1, '10-fold accuracy, ROC,\nAUC, TAR@FAR; under attack', 'verification'),
}
ARROWS = [('face', 'attack', None), ('face', 'source', None), ('attack', 'source', 'attack'), ('source', 'joint', 'robust'),
          ('face', 'view', 'imitation'), ('view', 'target', 'imitation'), ('target', 'imitate', 'imitation'),
          ('source', 'imitate', 'imitation'), ('target', 'pairs', 'verification'),
          ('pairs', 'roc', 'verification')]
LABELS = {'attack': '1. adversarial examples (04)', 'robust': '2. joint adversarial training (05)',
          'imitation': '3. imitation on another view (06)', 'verification': '4. LFW verification (01, 04b)'}
COLOURS = {'attack': '#d62728', 'robust': '#1f77b4', 'imitation': '#2ca02c', 'verification': '#9467bd', None: '#7f7f7f'}


def _edge(box, towards):
    "The point on `box`'s border where an arrow to (or from) the centre `towards` leaves it."
    x, y, w, h = box[:4]
    cx, cy = x + w / 2, y + h / 2
    dx, dy = towards[0] - cx, towards[1] - cy
    s = min(w / 2 / abs(dx) if dx else float('inf'), h / 2 / abs(dy) if dy else float('inf'))
    return cx + dx * s, cy + dy * s


def draw(stage=None):
    "The diagram; with `stage`, that stage's boxes and arrows in colour and the rest faded."
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.set_xlim(0, 13.7); ax.set_ylim(-0.4, 7.4); ax.axis('off')
    lit = {'attack': {'attack'}, 'robust': {'attack', 'robust'}}.get(stage, {stage})  # joint training uses the attack
    on = lambda s: stage is None or s in lit
    for name, (x, y, w, h, text, s) in BOXES.items():
        c = COLOURS[s]
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle='round,pad=0.05,rounding_size=0.15', fc=c if on(s) else '#eeeeee',
                                    ec=c, alpha=0.18 if on(s) else 0.5, lw=0))
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle='round,pad=0.05,rounding_size=0.15', fc='none',
                                    ec=c if on(s) else '#cccccc', lw=2 if (stage and s == stage) else 1.2))
        ax.text(x + w / 2, y + h / 2, text, ha='center', va='center', fontsize=8.5, color='black' if on(s) else '#aaaaaa')
    for a, b, s in ARROWS:
        A, B = BOXES[a], BOXES[b]
        ca, cb = (A[0] + A[2] / 2, A[1] + A[3] / 2), (B[0] + B[2] / 2, B[1] + B[3] / 2)
        dashed = (a, b) == ('source', 'imitate')  # the frozen teacher: no gradient flows back
        ax.add_patch(FancyArrowPatch(_edge(A, cb), _edge(B, ca), arrowstyle='-|>', mutation_scale=12, lw=1.3,
                                     ls='--' if dashed else '-', color=COLOURS[s] if on(s) else '#cccccc'))
    ax.text(9.85, 4.5, 'frozen teacher', fontsize=7.5, color=COLOURS['imitation'] if on('imitation') else '#bbbbbb', rotation=-17)
    for i, (s, label) in enumerate(LABELS.items()):
        ax.text(0.2, 1.45 - 0.42 * i, label, fontsize=9, color=COLOURS[s] if on(s) else '#bbbbbb', fontweight='bold' if stage == s else None)
    title = 'Robust metric transfer, as rtml reconstructs it' + (f": {LABELS[stage][3:]}" if stage else '')
    ax.set_title(title, fontsize=11, loc='left')
    fig.tight_layout()
    return fig


def flow(boxes, arrows, title, size=(9, 3.6), lim=(10, 4)):
    "A small box-and-arrow figure: `boxes` name -> (x, y, w, h, text, colour), `arrows` (from, to, label or None)."
    fig, ax = plt.subplots(figsize=size)
    ax.set_xlim(0, lim[0]); ax.set_ylim(0, lim[1]); ax.axis('off')
    for x, y, w, h, text, c in boxes.values():
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle='round,pad=0.05,rounding_size=0.12', fc=c, ec=c, alpha=0.18, lw=0))
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle='round,pad=0.05,rounding_size=0.12', fc='none', ec=c, lw=1.3))
        ax.text(x + w / 2, y + h / 2, text, ha='center', va='center', fontsize=8.5)
    for a, b, label in arrows:
        A, B = boxes[a], boxes[b]
        ca, cb = (A[0] + A[2] / 2, A[1] + A[3] / 2), (B[0] + B[2] / 2, B[1] + B[3] / 2)
        p, q = _edge(A, cb), _edge(B, ca)
        ax.add_patch(FancyArrowPatch(p, q, arrowstyle='-|>', mutation_scale=12, lw=1.2, color='#555555'))
        if label: ax.text((p[0] + q[0]) / 2, (p[1] + q[1]) / 2 + 0.12, label, fontsize=7.5, ha='center', color='#333333')
    ax.set_title(title, fontsize=10, loc='left')
    fig.tight_layout()
    return fig


CONFIG = ({'field': (0.2, 1.4, 3.0, 1.2, "one declaration:\nepochs: int = option(12,\n    'training epochs', low=1)", COLOURS['robust']),
           'flag': (4.0, 3.0, 2.6, 0.8, 'a flag: --epochs N\n(help, default, choices)', COLOURS['verification']),
           'check': (4.0, 1.6, 2.6, 0.8, 'a check: epochs >= 1,\nerror names the flag', COLOURS['attack']),
           'saved': (4.0, 0.2, 2.6, 0.8, 'a saved config:\nconfig.json, checkpoints', COLOURS['imitation']),
           'resume': (7.4, 0.2, 2.4, 0.8, 'resume refuses\nother settings', COLOURS[None])},
          [('field', 'flag', None), ('field', 'check', None), ('field', 'saved', None), ('saved', 'resume', None)],
          'Settings declared once (00a): every use is made from the same field')
DDP = ({'batch': (0.2, 1.6, 1.8, 0.9, 'global batch\n(the same draw\nin every process)', COLOURS[None]),
        'p0': (2.8, 2.7, 2.4, 0.9, 'process 0: half the batch\nforward, backward', COLOURS['robust']),
        'p1': (2.8, 0.4, 2.4, 0.9, 'process 1: the other half\nforward, backward', COLOURS['robust']),
        'avg': (6.0, 1.6, 1.8, 0.9, 'all-reduce:\naverage gradients', COLOURS['attack']),
        'step': (8.4, 1.6, 1.5, 0.9, 'the same\noptimiser step\neverywhere', COLOURS['imitation'])},
       [('batch', 'p0', None), ('batch', 'p1', None), ('p0', 'avg', 'gradients'), ('p1', 'avg', 'gradients'), ('avg', 'step', None)],
       'Data-parallel training (15): averaged gradients are the whole batch\'s gradient')


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (boxes, arrows, title) in (('config.png', CONFIG), ('ddp.png', DDP)):
        fig = flow(boxes, arrows, title)
        fig.savefig(OUT / name, dpi=110); plt.close(fig)
        print(f"wrote {OUT / name}")
    for stage in (None, *LABELS):
        fig = draw(stage)
        path = OUT / ('method.png' if stage is None else f"method-{stage}.png")
        fig.savefig(path, dpi=110); plt.close(fig)
        print(f"wrote {path}")


if __name__ == '__main__':
    main()
