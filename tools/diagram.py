"""Draw the diagram of the whole method into nbs/images/: method.png, and one copy per stage with that stage
picked out (method-attack.png, method-robust.png, method-imitation.png, method-verification.png), which the
notebooks that teach each stage show.

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


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for stage in (None, *LABELS):
        fig = draw(stage)
        path = OUT / ('method.png' if stage is None else f"method-{stage}.png")
        fig.savefig(path, dpi=110); plt.close(fig)
        print(f"wrote {path}")


if __name__ == '__main__':
    main()
