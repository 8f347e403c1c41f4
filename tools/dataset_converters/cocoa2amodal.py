"""Convert COCOA (COCO amodal) in any of its public shapes to mmorcnn's canonical format.

    python tools/dataset_converters/cocoa2amodal.py \\
        data/cocoa/COCO_amodal_train2014.json data/cocoa/annotations/train.json
    python tools/dataset_converters/cocoa2amodal.py --no-stuff \\
        data/cocoa/COCO_amodal_train2014.json data/cocoa/annotations/train_no-stuff.json
    python tools/dataset_converters/cocoa2amodal.py \\
        data/cocoa/COCO_amodal_train2014_with_classes.json data/cocoa_cls/annotations/train.json

The shape is read from the file's content: the original files (one annotation with ``regions``
per image) give one category ``object`` and new annotation ids; the flat per-instance files
(``*_with_classes.json``, the authors' COCOA cls, and ``*_detectron_no_stuff.json``) keep their
categories and ids. Stuff regions are kept with ``isstuff: 1`` or dropped (``--no-stuff``, the
paper's "COCOA no stuff"); the depth ``order``, stated ``occlude_rate``, visible and invisible
masks and the region ``name`` are kept. Images stay in COCO's ``data/coco/{train,val}2014/``.
"""
import argparse

from mmorcnn.datasets.converters import convert_cocoa, write_and_summarize
from mmorcnn.datasets.converters.cocoa import SHAPES


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a COCOA annotation file to the canonical amodal format: the '
        'original COCO_amodal_*2014.json (one annotation with a list of regions per image; '
        'category "object") or a flat per-instance file (*_with_classes.json, '
        '*_detectron_no_stuff.json; their categories), told apart by content. Amodal polygon, '
        'visible/invisible masks, occlude_rate, order and isstuff are kept as stated.')
    parser.add_argument('src', help='COCOA file, e.g. COCO_amodal_train2014.json or '
                        'COCO_amodal_train2014_with_classes.json')
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
    dataset, skipped = convert_cocoa(args.src, no_stuff=args.no_stuff, on_error=args.on_error,
                                     progress=True)
    print(f"\n{args.src}: {SHAPES[dataset['info']['shape']]}")
    write_and_summarize(dataset, skipped, args.out)


if __name__ == '__main__':
    main()
