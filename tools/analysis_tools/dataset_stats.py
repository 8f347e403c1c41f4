"""Print the image and occlusion statistics of canonical amodal datasets (paper Table 5).

    python tools/analysis_tools/dataset_stats.py \\
        data/d2s_amodal/annotations/train.json data/d2s_amodal/annotations/val.json \\
        --names train val

One column per file: number of images, images with an occluded object, image occlusion rate,
objects (non-crowd annotations), occluded objects (occlude_rate > 0), object occlusion rate, and
the average occlusion rate per object region over all and over the occluded objects.
"""
import argparse
import json
import os.path as osp
import sys

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
if osp.isfile(osp.join(REPO_ROOT, 'mmorcnn', '__init__.py')):  # run from a checkout: no install
    sys.path.insert(0, REPO_ROOT)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Print the rows of the paper\'s Table 5 (images, images with occlusion, '
        'image occlusion rate, objects, occluded objects, object occlusion rate, average '
        'occlusion rate per region over all / occluded objects) for canonical amodal files.')
    parser.add_argument('ann_files', nargs='+', help='canonical annotation file(s)')
    parser.add_argument('--names', nargs='+', default=None,
                        help='column names, one per file (default: the file names)')
    parser.add_argument('--out', default=None, help='also write the statistics as JSON here')
    parser.add_argument('--on-error', choices=('raise', 'skip'), default='raise',
                        help='stop at the first malformed annotation (default) or skip it')
    args = parser.parse_args(argv)
    if args.names is not None and len(args.names) != len(args.ann_files):
        parser.error(f'--names needs one name per file ({len(args.ann_files)})')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmengine.utils import track_iter_progress

    from mmorcnn.datasets.converters.common import format_table
    from mmorcnn.datasets.statistics import dataset_statistics, table5_rows

    names = args.names or [osp.basename(f) for f in args.ann_files]
    columns = {}
    for ann_file, name in zip(track_iter_progress(list(args.ann_files)), names):
        columns[name] = dataset_statistics(ann_file, on_error=args.on_error)
    print()
    print(format_table(table5_rows(columns), header=('split name', *columns)))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump({name: stats.to_dict() for name, stats in columns.items()}, f, indent=2)
        print(f'Wrote {args.out}')


if __name__ == '__main__':
    main()
