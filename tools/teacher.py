"""dlib's face-recognition network as rtml's teacher on LFW: clean, under attack, and how far an attack must go (notebook 14).

    python tools/teacher.py --lfw PATH [--parts clean chips pgd square minimal robust students] [--pairs 200] [--out results/teacher] [--resume]

Needs the `dlib` extra (pip install "rtml[dlib]"). Every image is aligned as dlib aligns it (`dlib_faces`, cached), the
network is rtml's PyTorch copy of dlib's (`MODELS['dlib']`). Parts, each written to its own JSON in `--out` as it finishes
(a finished part, or a finished budget, is kept when the command runs again, so a cut run resumes):
  clean    View 2's 6,000 pairs and View 1's 1,000 test pairs: per-pair cosine and Euclidean distance, rtml's 10-fold
           report (thresholds from the other folds), and dlib's own rule (distance < 0.6).
  chips    chips.png: six LFW images and their chips (faces found, none found, several found).
  pgd      PGD, 50 steps x 3 random starts, at 0.5, 1, 2 and 4/255 on `--pairs` View 2 pairs (the same share of every
           fold's same and different pairs), judged with the clean thresholds.
  square   Square Attack (gradient-free, `--queries` queries) at 2/255 on the same pairs: the check for gradient masking.
  minimal  Per pair, the smallest L-infinity budget at which PGD-20 flips the decision (bisection, 7 halvings of 8/255).
  robust   Joint adversarial fine-tuning of the teacher (rtml's ROBUST recipe, triplet loss) on View 1's training people
           less the study's validation people, at the budgets of --robust-eps; the one with the highest validation
           accuracy under PGD-20 at 2/255 is read on View 1's test pairs (clean, PGD-50x3, Square), beside the teacher
           (clean, PGD-50x3).
  students 32x32 grey ShuffleNet students on the same training faces, without labels, three routes x --seeds: imitating
           the teacher, imitating the robust teacher, and imitating the teacher under attack on the student's side
           (`AdversarialImitationTerm`); each read on View 1's test pairs clean, under PGD-50x3 and Square at 2/255.
Networks are kept in --runs (not committed). With --resume, what a part's JSON (or a run's checkpoint) holds is kept and
the rest computed; without it, a part whose JSON is already there is refused rather than mixed with a new run.
"""
import argparse, json, time
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PARTS = ('clean', 'chips', 'pgd', 'square', 'minimal', 'robust', 'students')
EPS = (0.5, 1, 2, 4)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--lfw', required=True, metavar='PATH', help='your LFW folder')
    p.add_argument('--parts', nargs='+', default=list(PARTS), choices=PARTS)
    p.add_argument('--pairs', type=int, default=200, help='View 2 pairs attacked (default 200: 20 per fold)')
    p.add_argument('--queries', type=int, default=1000, help="the square attack's queries per pair (default 1000)")
    p.add_argument('--robust-eps', type=float, nargs='+', default=[2, 4], help='training budgets of the robust teacher, in 1/255 (default 2 4)')
    p.add_argument('--robust-epochs', type=float, default=3, help="the robust teacher's fine-tuning epochs (default 3)")
    p.add_argument('--robust-lr', type=float, default=1e-4, help="its peak learning rate (default 1e-4)")
    p.add_argument('--student-epochs', type=int, default=20, help="the students' epochs (default 20)")
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help="the students' seeds (default 0 1 2)")
    p.add_argument('--resume', action='store_true', help="continue: keep what the JSONs in --out (and the checkpoints in --runs) hold")
    p.add_argument('--out', type=Path, default=ROOT / 'results' / 'teacher')
    p.add_argument('--runs', type=Path, default=ROOT / 'runs' / 'teacher')
    args = p.parse_args(argv)
    there = [f"{n}.json" for n in args.parts if (args.out / f"{n}.json").is_file()] + (['chips.png'] if 'chips' in args.parts and (args.out / 'chips.png').is_file() else [])
    if there and not args.resume:
        p.error(f"{args.out} already holds {', '.join(there)}: add --resume to continue from them, or give another --out")
    import torch
    from rtml.data import load_lfw, find_lfw
    from rtml.verification import embed_images, cosine_similarity, verification_report
    from rtml.evaluation import attack_subset, evaluate
    from rtml.attacks import make_attack
    from rtml.pipeline import _write_json
    from rtml.teacher import dlib_faces, dlib_resnet, dlib_teacher, minimal_linf
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    faces, record = dlib_faces(load_lfw(args.lfw, progress=False), find_lfw(args.lfw)[0], progress=False)
    print(f"aligned {len(faces)} faces in {time.time() - t0:.0f} s: no face found in {record['no_face']}, several in {record['several']}", flush=True)
    net = dlib_teacher().eval()
    pairs = faces.view2_pairs()
    hit = attack_subset(pairs, args.pairs, seed=0)
    common = dict(threads=torch.get_num_threads(), attacked_pairs=hit.tolist(), same=pairs.same.tolist(), fold=pairs.fold.tolist())

    def load(name):
        "A part's results so far; refused when they were made on other attacked pairs (another --pairs): their sims would not line up."
        f = args.out / f"{name}.json"
        out = json.loads(f.read_text()) if f.is_file() else {}
        if 'attacked_pairs' in out and out['attacked_pairs'] != common['attacked_pairs']:
            raise SystemExit(f"{f} was made on {len(out['attacked_pairs'])} other attacked pairs: move it away, or give the --pairs it was made with")
        return out

    if 'clean' in args.parts and not (args.out / 'clean.json').is_file():
        out = dict(alignment={k: record[k] for k in ('files', 'no_face', 'several', 'fallback_box', 'size', 'padding', 'upsample')})
        raw = dlib_resnet(normalize=False).eval()
        for name, prs in (('view2', pairs), ('view1', faces.view1().test)):
            rows, inv = np.unique(np.r_[prs.left, prs.right], return_inverse=True)
            t, c = time.time(), time.process_time()
            emb = embed_images(raw, faces.images[rows], 64)
            secs = time.time() - t
            a, b = emb[inv[:len(prs)]], emb[inv[len(prs):]]
            cos, dist = np.asarray(cosine_similarity(a, b)), (a - b).norm(dim=1).numpy()
            nf = np.array(record['faces'])[rows] == 0
            out[name] = dict(cos=np.round(cos, 6).tolist(), dist=np.round(dist, 6).tolist(), same=prs.same.tolist(), fold=prs.fold.tolist(),
                             fallback=(nf[inv[:len(prs)]] | nf[inv[len(prs):]]).tolist(), images=len(rows),
                             seconds=secs, cpu_seconds=time.process_time() - c,
                             cosine=verification_report(cos, prs.same, prs.fold).to_dict(),
                             distance=verification_report(-dist, prs.same, prs.fold).to_dict(),
                             dlib_rule=[float(((dist[prs.fold == k] < 0.6) == prs.same[prs.fold == k]).mean()) for k in np.unique(prs.fold)])
            print(f"{name}: cosine {100 * out[name]['cosine']['accuracy']:.2f}%, dlib's rule {100 * np.mean(out[name]['dlib_rule']):.2f}% "
                  f"({len(rows)} images in {secs:.0f} s)", flush=True)
        _write_json(args.out / 'clean.json', out)

    if 'chips' in args.parts and not (args.out / 'chips.png').is_file():
        chips_figure(faces, record, find_lfw(args.lfw)[0], args.out / 'chips.png')
    clean = verification_report(np.asarray(load('clean')['view2']['cos']), pairs.same, pairs.fold) if (args.out / 'clean.json').is_file() else None
    if 'pgd' in args.parts:
        out = load('pgd'); out.update(common); out.setdefault('budgets', {})
        for e in EPS:
            a = make_attack('pgd', e / 255, steps=50, restarts=3)
            if a.label in out['budgets']: continue
            t, c = time.time(), time.process_time()
            ev = evaluate(net, faces, pairs, [a], attacked_pairs=args.pairs, seed=0, retrieval=False)
            assert ev.attacked_pairs.tolist() == hit.tolist()
            out['budgets'][a.label] = dict(eps=e, sims=np.round(ev.attacked_sims[a.label], 6).tolist(), accuracy=ev.attacked[a.label].accuracy,
                                           seconds=time.time() - t, cpu_seconds=time.process_time() - c)
            _write_json(args.out / 'pgd.json', out)
            print(f"{a.label}: {100 * ev.attacked[a.label].accuracy:.1f}% ({time.time() - t:.0f} s)", flush=True)

    if 'square' in args.parts:
        out = load('square'); out.update(common); out.setdefault('budgets', {})
        a = make_attack('square', 2 / 255, steps=args.queries)
        if a.label not in out['budgets']:
            t, c = time.time(), time.process_time()
            ev = evaluate(net, faces, pairs, [a], attacked_pairs=args.pairs, seed=0, retrieval=False)
            out['budgets'][a.label] = dict(eps=2, queries=args.queries, sims=np.round(ev.attacked_sims[a.label], 6).tolist(),
                                           accuracy=ev.attacked[a.label].accuracy, seconds=time.time() - t, cpu_seconds=time.process_time() - c)
            _write_json(args.out / 'square.json', out)
            print(f"{a.label}: {100 * ev.attacked[a.label].accuracy:.1f}% ({time.time() - t:.0f} s)", flush=True)

    if 'minimal' in args.parts and not (args.out / 'minimal.json').is_file():
        if clean is None: raise SystemExit("the minimal part needs the clean part's thresholds: run --parts clean first")
        t, c = time.time(), time.process_time()
        sub = pairs[hit]
        thr = torch.tensor(clean.thresholds, dtype=torch.float32)[torch.as_tensor(sub.fold)]
        partner = embed_images(net, faces.images[sub.right], 64)
        x = torch.from_numpy(np.ascontiguousarray(faces.images[sub.left])).permute(0, 3, 1, 2).float() / 255
        gen = torch.Generator().manual_seed(0)
        hi, halvings, steps = 8 / 255, 7, 20
        eps = torch.cat([minimal_linf(net, x[s:s + 50], partner[s:s + 50], torch.as_tensor(sub.same[s:s + 50]), thr[s:s + 50], hi, halvings, steps, gen)
                         for s in range(0, len(sub), 50)])
        out = dict(common, eps255=[float(v) * 255 if torch.isfinite(v) else None for v in eps],  # None: not flipped within hi
                   hi255=hi * 255, halvings=halvings, steps=steps, seconds=time.time() - t, cpu_seconds=time.process_time() - c)
        _write_json(args.out / 'minimal.json', out)
        fin = eps[torch.isfinite(eps) & (eps > 0)] * 255
        print(f"minimal budget: median {fin.median():.2f}/255 over {len(fin)} pairs it flips ({time.time() - t:.0f} s)", flush=True)

    if 'robust' in args.parts or 'students' in args.parts:
        robust_and_students(args, faces, net)


def chips_figure(faces, record, image_dir, path):
    "Six LFW images over their chips: two with a face found, two with none (the median box), two with several (the centre one)."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from PIL import Image
    n = np.array(record['faces'])
    show = [faces.files.index(f) for f in ('Aaron_Eckhart/Aaron_Eckhart_0001.jpg', 'George_W_Bush/George_W_Bush_0001.jpg')]
    show += list(np.flatnonzero(n == 0)[:2]) + list(np.flatnonzero(n > 1)[:2])
    fig, axs = plt.subplots(2, len(show), figsize=(1.6 * len(show), 3.4))
    for k, i in enumerate(show):
        axs[0, k].imshow(Image.open(image_dir / faces.files[i])); axs[1, k].imshow(faces.images[i])
        axs[0, k].set_title(['found', 'found', 'no face', 'no face', 'several', 'several'][k], fontsize=8)
    for ax in axs.flat: ax.axis('off')
    axs[0, 0].text(-30, 125, 'LFW', rotation=90, va='center'); axs[1, 0].text(-18, 75, 'chip', rotation=90, va='center')
    fig.tight_layout(); fig.savefig(path, dpi=80); plt.close(fig)


def _read(model, faces, pairs, attacks, n, seed=0):
    "Clean report and attacked readings of `model` on `pairs` (the same `n`-pair subset for every network): a dict for the JSON."
    from rtml.evaluation import evaluate
    t, c = time.time(), time.process_time()
    ev = evaluate(model, faces, pairs, attacks, attacked_pairs=n, seed=seed, retrieval=False)
    return dict(clean=ev.clean.accuracy, clean_std=ev.clean.accuracy_std, auc=ev.clean.auc, thresholds=ev.clean.thresholds,
                sims=np.round(ev.sims, 6).tolist(), attacked={k: r.accuracy for k, r in ev.attacked.items()},
                attacked_sims={k: np.round(v, 6).tolist() for k, v in ev.attacked_sims.items()}, attacked_pairs=ev.attacked_pairs.tolist(),
                eval_seconds=time.time() - t, eval_cpu_seconds=time.process_time() - c)


def robust_and_students(args, faces, net):
    from dataclasses import replace
    from rtml.attacks import make_attack
    from rtml.pipeline import _write_json
    from rtml.study import StudyConfig, study_splits, test_faces
    from rtml.training import ROBUST, SourceConfig, train_source
    from rtml.transfer import TargetConfig, teacher_embeddings, train_target
    from rtml.teacher import AdversarialImitationTerm, dlib_teacher
    sp = study_splits(faces, StudyConfig(), 0)
    val, test = test_faces(faces, sp.val), test_faces(faces, sp.test)
    final = [make_attack('pgd', 2 / 255, steps=50, restarts=3), make_attack('square', 2 / 255, steps=args.queries)]
    f = args.out / 'robust.json'
    out = json.loads(f.read_text()) if f.is_file() else {}
    out.update(train_rows=len(sp.train), val_pairs=len(sp.val), test_pairs=len(sp.test), attacked=args.pairs, candidates=out.get('candidates', {}))
    base = SourceConfig(**{**ROBUST, 'loss': 'triplet', 'epochs': args.robust_epochs, 'lr': args.robust_lr, 'device': 'cpu', 'amp': False, 'seed': 0})
    models = {}
    for e in sorted(set(args.robust_eps) | {float(k.split('/')[0]) for k in out['candidates']}):  # every candidate: the chosen one is needed
        key = f"{e:g}/255"
        cfg = replace(base, eps=e / 255)
        t, c = time.time(), time.process_time()
        model, hist = train_source(faces, sp.train, cfg, out=args.runs / f"robust-eps{e:g}", resume=True, progress=False,
                                   model=dlib_teacher())
        models[key] = model
        if key not in out['candidates']:
            r = _read(model, *val, [make_attack('pgd', 2 / 255, steps=20)], 0)
            out['candidates'][key] = dict(val_clean=r['clean'], val_pgd20=r['attacked']['pgd20x1@2/255'], history=hist,
                                          config={k: v for k, v in vars(cfg).items()},  # its network fields (width, blocks, ...) go unused: the network is dlib's
                                          seconds=time.time() - t, cpu_seconds=time.process_time() - c)  # training and validation, when made in one go
            _write_json(f, out)
            print(f"robust teacher at {key}: validation clean {100 * r['clean']:.1f}%, pgd20@2/255 {100 * r['attacked']['pgd20x1@2/255']:.1f}%", flush=True)
    chosen = max(out['candidates'], key=lambda k: out['candidates'][k]['val_pgd20'])
    if out.get('chosen', chosen) != chosen:
        raise SystemExit(f"{f}: its robust teacher was trained at {out['chosen']}, the candidates now choose {chosen}: move robust.json and students.json away to redo them")
    out['chosen'] = chosen
    for name, model in (('teacher', net), ('robust_teacher', models[chosen])):
        if name not in out:  # the teacher's Square check is View 2's (the square part); the robust teacher needs its own
            out[name] = _read(model, *test, final if name == 'robust_teacher' else final[:1], args.pairs)
            _write_json(f, out)
            print(f"{name} on View 1's test pairs: clean {100 * out[name]['clean']:.2f}%, " +
                  ', '.join(f"{k} {100 * v:.1f}%" for k, v in out[name]['attacked'].items()), flush=True)
    if 'students' not in args.parts: return
    f = args.out / 'students.json'
    st = json.loads(f.read_text()) if f.is_file() else {}
    if st and (st.get('robust_teacher'), st.get('epochs')) != (chosen, args.student_epochs):
        raise SystemExit(f"{f} holds students of the teacher trained at {st.get('robust_teacher')} for {st.get('epochs')} epochs: move it away to redo them")
    st.update(rows=len(sp.train), robust_teacher=chosen, epochs=args.student_epochs, runs=st.get('runs', {}))
    x = faces.images[sp.train]
    teach = {}
    def embeddings(k):
        "A teacher's embeddings of the training faces: computed once, and only if a student still needs them."
        if k not in teach: teach[k] = teacher_embeddings(net if k == 'standard' else models[chosen], x)
        return teach[k]
    for seed in args.seeds:
        for route in ('standard', 'robust', 'adversarial'):
            key = f"{route}-seed{seed}"
            if key in st['runs']: continue
            t, c = time.time(), time.process_time()
            cfg = TargetConfig(label_fraction=0.0, epochs=args.student_epochs, seed=seed, device='cpu')
            terms = [AdversarialImitationTerm(2 / 255, 3)] if route == 'adversarial' else []
            student, hist = train_target(faces, sp.train, cfg, embeddings('robust' if route == 'robust' else 'standard'),
                                         out=args.runs / f"student-{key}", resume=True, progress=False, terms=terms)
            st['runs'][key] = dict(route=route, seed=seed, **_read(student, *test, final, args.pairs), history=hist,
                                   terms=[repr(t) for t in terms], seconds=time.time() - t, cpu_seconds=time.process_time() - c)
            _write_json(f, st)
            r = st['runs'][key]
            print(f"student {key}: clean {100 * r['clean']:.2f}%, " + ', '.join(f"{k} {100 * v:.1f}%" for k, v in r['attacked'].items()), flush=True)


if __name__ == '__main__':
    main()
