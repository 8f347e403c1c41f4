"""Print the image and occlusion statistics of canonical amodal datasets (paper Table 5).

    python tools/analysis_tools/dataset_stats.py \\
        data/d2s_amodal/annotations/train.json data/d2s_amodal/annotations/val.json \\
        --names train val

One column per file: number of images, images with an occluded object, image occlusion rate,
objects (non-crowd annotations), occluded objects (occlude_rate > 0), object occlusion rate, and
the average occlusion rate per object region over all and over the occluded objects.
"""
import argparse

from mmorcnn.analysis.dataset_stats import dataset_stats_table


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
    _, table = dataset_stats_table(args.ann_files, args.names, args.on_error, args.out)
    print(f'\n{table}')
    if args.out:
        print(f'Wrote {args.out}')


if __name__ == '__main__':
    main()
