"""Write mmorcnn's synthetic amodal dataset (the data ``make demo`` trains on).

    python tools/dataset_converters/make_synthetic_amodal.py data/synthetic_amodal

writes ``OUT_DIR/annotations/{train,val}.json`` (canonical amodal COCO format) and the PNG images
under ``OUT_DIR/{train,val}/``. The same seed always gives the same dataset.
"""
import argparse
import os.path as osp
import sys
import time


def _import_mmorcnn() -> None:
    """Make ``mmorcnn`` importable when it is not installed.

    The tool runs from ``tools/dataset_converters/`` of a checkout and from the copy mim places
    in ``mmorcnn/.mim/tools/dataset_converters/``: the repository root is the first folder above
    it that holds ``mmorcnn/__init__.py``.
    """
    try:
        import mmorcnn  # noqa: F401
        return
    except ImportError:
        pass
    for start in {osp.abspath(__file__), osp.realpath(__file__)}:
        folder = osp.dirname(start)
        while folder != osp.dirname(folder):
            folder = osp.dirname(folder)
            if osp.isfile(osp.join(folder, 'mmorcnn', '__init__.py')):
                sys.path.insert(0, folder)
                return


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the seeded synthetic amodal instance segmentation dataset '
        '(6 textured shape classes, random depth order, border-cut objects) in mmdet COCO '
        'layout with amodal, visible and invisible masks.')
    parser.add_argument('out_dir', help='dataset root; gets annotations/, train/ and val/')
    parser.add_argument('--num-train', type=int, default=800,
                        help='training images (default: 800)')
    parser.add_argument('--num-val', type=int, default=100,
                        help='validation images (default: 100)')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed (default: 0)')
    args = parser.parse_args(argv)
    if args.num_train < 0 or args.num_val < 0:
        parser.error('--num-train and --num-val must be >= 0')
    return args


def format_summary(stats: dict) -> str:
    """The closing table: one row per split."""
    header = ('split', 'images', 'instances', 'occluded', 'partial', 'heavy', 'border-cut',
              'mean occ. rate')
    rows = [header]
    for split, s in stats.items():
        share = s['occluded'] / max(s['instances'], 1)
        rows.append((split, str(s['images']), str(s['instances']),
                     f"{s['occluded']} ({share:.0%})", str(s['partial']), str(s['heavy']),
                     str(s['border_cut']), f"{s['mean_occlude_rate']:.3f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ['  '.join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)


def main(argv=None) -> None:
    args = parse_args(argv)
    _import_mmorcnn()
    from mmorcnn.datasets.synthetic import PARTIAL_MAX, generate_split

    start = time.time()
    stats = {}
    for split, num in (('train', args.num_train), ('val', args.num_val)):
        print(f'{split}: {num} images -> {osp.join(args.out_dir, split)}')
        stats[split] = generate_split(args.out_dir, split, num, seed=args.seed, progress=True)
    print(f'\nWrote {args.out_dir} (seed {args.seed}) in {time.time() - start:.1f} s; '
          f'partial: 0 < occlude_rate <= {PARTIAL_MAX}, heavy: above.')
    print(format_summary(stats))


if __name__ == '__main__':
    main()
