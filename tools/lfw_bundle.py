"""Make rtml's LFW bundle again: the small real-LFW results, committed under results/lfw, that 01a, 06, 07 and the
README render without LFW.

    python tools/lfw_bundle.py --lfw PATH [--parts baselines pipeline sweep compare] [--runs runs] [--out results/lfw]
    python tools/lfw_bundle.py --redraw [--out results/lfw]    # the figures drawn from the bundle's own files again (no LFW)

Parts (all by default, in this order; each resumes where an earlier call stopped, from the runs folder):
- baselines  eigenfaces and the LBP histograms on the ten folds of View 2 (01a's table, the README's ROC), and two Euclidean
             Eigenfaces variants (01a's comparison with the whitened cosine);
- pipeline   `rtml pipeline --preset quick` on View 1 (07's table and figures, the README's table): every row's step
             results (ROC points, per-pair similarities clean and attacked), histories, results.md and figures;
- sweep      06's label sweep: the quick preset's target alone at four label fractions, and imitating the
             pipeline's robust source with labels at two (needs the pipeline part's robust source);
- compare    `rtml compare` (07): every registered source variant, its target imitating it. Its 'baseline' variant
             has the pipeline's standard source's settings, so that source is copied in rather than trained twice.
About 1.5 hours on a 2-core CPU (the pipeline ~35 min, compare ~45). results/lfw/manifest.json records what made
the bundle: rtml's version and git commit (and whether the library had uncommitted changes), the data, the
command, the machine and each part's seconds."""
import argparse, json, os, platform, shutil, subprocess, sys, time
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from rtml.pipeline import _write_json as write_json  # atomic: a cut run never leaves half a file
PARTS = ('baselines', 'pipeline', 'sweep', 'compare')
SWEEP_FRACTIONS = (0.01, 0.1, 0.3, 1.0)       # target alone
SWEEP_WITH_TEACHER = ((0.1, 0.02), (1.0, 0.02))  # (label fraction, label weight) imitating the robust source


LFW_SHOWN = '$RTML_LFW'  # how the bundle names the LFW folder it was made from: no machine's path in committed files


def shown(text, lfw):
    "`text` with the LFW folder the user gave (`--lfw`, as given and resolved) written as $RTML_LFW."
    for where in sorted({str(Path(lfw).expanduser()), str(Path(lfw).expanduser().resolve())}, key=len, reverse=True):
        if len(Path(where).parts) > 1: text = text.replace(where.rstrip('/'), LFW_SHOWN)  # never the root folder alone
    return text


def hide_lfw_path(folder, lfw):
    "Every .md and .json file under `folder` with the LFW folder `lfw` written as $RTML_LFW."
    for f in sorted(Path(folder).rglob('*')):
        if f.suffix in ('.md', '.json') and f.is_file() and shown(t := f.read_text(), lfw) != t: f.write_text(shown(t, lfw))


def copy_run(run, dest, names):
    "The small files of a finished run into `dest` (made anew): `names` and every step's result (steps/*.json)."
    if dest.exists(): shutil.rmtree(dest)
    (dest / 'steps').mkdir(parents=True)
    for name in names: shutil.copy2(run / name, dest / name)
    for f in sorted((run / 'steps').glob('*.json')): shutil.copy2(f, dest / 'steps' / f.name)


def git(*args):
    try: return subprocess.run(['git', *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError): return None


def baselines(data, runs, out):
    import torch
    from rtml.baselines import eigenfaces_fit, face_vectors, run_baselines
    from rtml.verification import evaluate_splits
    rows = {k: {'report': r.to_dict(), 'seconds': s} for k, (r, s) in run_baselines(data, 'view2').items()}
    vectors = face_vectors(data.images)
    def euclidean(whiten):  # the Eigenfaces of the 1991 paper (unwhitened) and a whitened variant, both by Euclidean distance
        def score(sp):
            mu, basis, scale = eigenfaces_fit(vectors[sp.train], 100)
            z = lambda i: (vectors[i] - mu) @ basis / (scale if whiten else 1)
            return -torch.linalg.vector_norm(z(sp.test.left) - z(sp.test.right), dim=1).numpy()
        return score
    for name, whiten in (('eigenfaces, unwhitened, Euclidean', False), ('eigenfaces, whitened, Euclidean', True)):
        t0 = time.time(); r = evaluate_splits(data.splits('view2'), euclidean(whiten))
        rows[name] = {'report': r.to_dict(), 'seconds': time.time() - t0}
    write_json(out / 'baselines-view2.json', rows)
    import matplotlib; matplotlib.use('Agg')
    from rtml.verification import VerificationReport, plot_roc
    main_rows = [k for k in rows if not k.startswith('eigenfaces,')]
    fig = plot_roc({k: VerificationReport.from_dict(rows[k]['report']) for k in main_rows}, title='LFW View 2, classical baselines')
    fig.savefig(out / 'baselines-view2-roc.png', dpi=110, bbox_inches='tight')


def pipeline(data, runs, out):
    from rtml.pipeline import PRESETS, FIGURES, run_pipeline
    run = runs / 'quick-view1'
    run_pipeline(data, PRESETS['quick'], 'view1', out=run, resume=(run / 'config.json').is_file(), progress=False)
    dest = out / 'pipeline'
    copy_run(run, dest, ('results.json', 'results.md', 'config.json'))
    for name in FIGURES:  # a figure of noise (the perturbations) is large as a PNG: it travels as a JPEG
        if not (run / name).is_file(): continue
        if (run / name).stat().st_size < 400_000: shutil.copy2(run / name, dest / name)
        else:
            from PIL import Image
            Image.open(run / name).convert('RGB').save(dest / Path(name).with_suffix('.jpg'), quality=85)
    histories = {p.parent.parent.name: json.loads(p.read_text()) for p in sorted(run.glob('*/view1/history.json'))}
    write_json(dest / 'histories.json', histories)
    test = data.view1().test  # the labels of the steps' similarities: the bundle's numbers can be recomputed without LFW
    write_json(dest / 'test-pairs.json', {'same': test.same.tolist(), 'fold': test.fold.tolist()})


def sweep(data, runs, out):
    import torch
    from rtml.pipeline import PRESETS
    from rtml.transfer import train_target
    from rtml.verification import pair_scores, verification_report
    teacher_file = runs / 'quick-view1' / 'source_robust' / 'view1' / 'teacher.pt'
    if not teacher_file.is_file(): sys.exit(f"the sweep needs the pipeline part's robust source: {teacher_file} is missing (run --parts pipeline first)")
    sp, base = data.view1(), PRESETS['quick'].target_config()
    partial = runs / 'lfw-sweep.json'  # each finished entry, so that a cut run keeps what it made
    done = json.loads(partial.read_text()) if partial.is_file() else {}
    todo = [(f'target alone, labels {f:g}', f, 0.0, False) for f in SWEEP_FRACTIONS]
    todo += [(f'imitates robust + labels {f:g}', f, w, True) for f, w in SWEEP_WITH_TEACHER]
    teacher = torch.load(teacher_file, weights_only=True)  # the robust source's embeddings of the training faces, read once
    for key, frac, weight, imitate in todo:
        if key in done: continue
        model, hist = train_target(data, sp.train, replace(base, label_fraction=frac, label_weight=weight), teacher if imitate else None, progress=False)
        rep = verification_report(pair_scores(model, data.images, sp.test), sp.test.same, sp.test.fold)
        done[key] = {'label_fraction': frac, 'label_weight': weight, 'teacher': 'robust' if imitate else None,
                     'report': rep.to_dict(), 'seconds': sum(h['seconds'] for h in hist)}
        write_json(partial, done); print(f"[sweep] {key}: {100 * rep.accuracy:.1f}%", flush=True)
    write_json(out / 'imitation-sweep.json', {'target': asdict(base), 'rows': done})


def compare(data, runs, out):
    from rtml.pipeline import PRESETS, compare_sources
    run, std = runs / 'compare-view1', runs / 'quick-view1' / 'source_standard' / 'view1'
    if (std / 'checkpoint.pt').is_file() and not (run / 'baseline' / 'source' / 'checkpoint.pt').is_file():
        shutil.copytree(std, run / 'baseline' / 'source', dirs_exist_ok=True)  # the same settings: train_source resumes it as finished
    compare_sources(data, PRESETS['quick'], out=run, resume=(run / 'config.json').is_file(), progress=False)
    copy_run(run, out / 'compare', ('compare.json', 'compare.md', 'config.json'))


def redraw(out):
    "The pipeline's training figure drawn again from the bundle's histories.json with this rtml's figure code (no LFW needed)."
    import matplotlib; matplotlib.use('Agg')
    from rtml.viz import _SHOWN, _nice, plot_training_curves
    histories = json.loads((out / 'pipeline' / 'histories.json').read_text())
    fig = plot_training_curves({_nice(r): histories[r] for r in _SHOWN})
    fig.savefig(out / 'pipeline' / 'training.png', dpi=110, bbox_inches='tight')  # as run_pipeline saves it
    print(f"drew {out / 'pipeline' / 'training.png'} again from histories.json")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--lfw', metavar='PATH', help='your LFW folder (see 00_data, "Real LFW"); needed for every part')
    p.add_argument('--redraw', action='store_true', help="draw the bundle's figures again from its own files, with this rtml (needs no LFW)")
    p.add_argument('--no-verify', action='store_true', help="use protocol files whose MD5 is not the official one (a test's tiny LFW-shaped folder)")
    p.add_argument('--parts', nargs='+', choices=PARTS, default=list(PARTS), help='what to make (default: all, in this order)')
    p.add_argument('--runs', type=Path, default=ROOT / 'runs', help='where the runs are kept and resumed from (default: runs/)')
    p.add_argument('--out', type=Path, default=ROOT / 'results' / 'lfw', help='the bundle (default: results/lfw)')
    args = p.parse_args(argv)
    if args.redraw: return redraw(args.out)
    if not args.lfw: p.error('--lfw PATH is needed to make the bundle (only --redraw works without it)')
    import torch, rtml
    import rtml.daml, rtml.sft, rtml.cam_softmax, rtml.viz  # every registry full: the variants of `compare`, the pipeline's figures
    from rtml.data import load_lfw
    data = load_lfw(args.lfw, verify=not args.no_verify, progress=False)
    manifest_file = args.out / 'manifest.json'
    manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {'parts': {}}
    for part in [q for q in PARTS if q in args.parts]:
        print(f"== {part}", flush=True); t0 = time.time()
        globals()[part](data, args.runs, args.out)
        manifest['parts'][part] = {'seconds_this_call': round(time.time() - t0, 1), 'finished': time.strftime('%Y-%m-%d %H:%M:%S'),
                                   'rtml': rtml.__version__, 'commit': git('rev-parse', 'HEAD'),
                                   'uncommitted_library_changes': bool(git('status', '--porcelain', 'rtml', 'tools'))}
        manifest.update({'data': shown(repr(data), args.lfw), 'command': 'python tools/lfw_bundle.py --lfw PATH --parts ' + ' '.join(args.parts),
                         'machine': f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}, "
                                    f"{'CUDA' if torch.cuda.is_available() else 'CPU only'}"})
        write_json(manifest_file, manifest)
        hide_lfw_path(args.out, args.lfw)  # no machine's path in the committed files: LFW's folder is $RTML_LFW
    print(f"wrote {args.out}", flush=True)


if __name__ == '__main__': main()
