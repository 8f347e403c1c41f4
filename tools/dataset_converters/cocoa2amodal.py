"""Convert COCOA (COCO amodal, original ``regions`` format) to mmorcnn's canonical format.

    python tools/dataset_converters/cocoa2amodal.py \\
        data/cocoa/COCO_amodal_train2014.json data/cocoa/annotations/train.json
    python tools/dataset_converters/cocoa2amodal.py --no-stuff \\
        data/cocoa/COCO_amodal_train2014.json data/cocoa/annotations/train_no-stuff.json

One category ``object``; stuff regions are kept with ``isstuff: 1`` or dropped (``--no-stuff``,
the paper's "COCOA no stuff"); the depth ``order`` and the region ``name`` are kept. Images stay
in COCO's ``data/coco/{train,val}2014/``.
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
if osp.isfile(osp.join(REPO_ROOT, 'mmorcnn', '__init__.py')):  # run from a checkout: no install
    sys.path.insert(0, REPO_ROOT)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a COCOA annotation file (COCO_amodal_*2014.json, one annotation '
        'with a list of regions per image) to the canonical amodal format: one annotation per '
        'region, category "object", amodal polygon, visible/invisible RLE, occlude_rate, '
        'order, isstuff.')
    parser.add_argument('src', help='COCOA file, e.g. COCO_amodal_train2014.json')
    parser.add_argument('out', help='output file, e.g. data/cocoa/annotations/train.json '
                        '(or train_no-stuff.json with --no-stuff)')
    parser.add_argument('--no-stuff', action='store_true',
                        help='drop stuff regions ("COCOA no stuff"); default: keep them with '
                        'isstuff=1')
    parser.add_argument('--on-error', choices=('raise', 'skip'), default='raise',
                        help='stop at the first malformed region (default) or skip and count it')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmorcnn.datasets.converters import convert_cocoa, write_and_summarize

    dataset, skipped = convert_cocoa(args.src, no_stuff=args.no_stuff, on_error=args.on_error,
                                     progress=True)
    write_and_summarize(dataset, skipped, args.out)


if __name__ == '__main__':
    main()
