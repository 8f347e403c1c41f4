"""Build COCOA cls (paper 4.2) from COCOA and the COCO 2014 instance annotations.

    python tools/dataset_converters/cocoa_cls.py data/cocoa/COCO_amodal_train2014.json \\
        data/coco/annotations/instances_train2014.json data/cocoa_cls/annotations/train.json

A COCOA object is kept when its visible mask has IoU > 0.75 (``--iou-thr``) with a COCO instance
of the same image that is not a crowd region (COCOA stuff is dropped); objects and instances are
matched one-to-one, greedily by IoU, and a matched object takes its instance's category, so the
output has COCO's 80 categories. The summary sets the counts beside the paper's (section 4.2,
train + val together). The authors' own COCOA cls files (``COCO_amodal_*2014_with_classes.json``)
need no re-derivation: ``cocoa2amodal.py`` converts them as they are. Images stay in
``data/coco/{train,val}2014/``.
"""
import argparse

from mmorcnn.datasets.converters import convert_cocoa_cls, write_and_summarize
from mmorcnn.datasets.converters.cocoa_cls import paper_comparison


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Make COCOA cls: keep the COCOA objects whose visible mask matches a '
        'non-crowd COCO 2014 instance of the same image with IoU above a threshold (one-to-one, '
        'greedy by IoU), and give them its category.')
    parser.add_argument('cocoa', help='COCOA file, e.g. COCO_amodal_train2014.json')
    parser.add_argument('coco', help='COCO 2014 instances file of the same split, e.g. '
                        'instances_train2014.json')
    parser.add_argument('out', help='output file, e.g. data/cocoa_cls/annotations/train.json')
    parser.add_argument('--iou-thr', type=float, default=0.75,
                        help='keep an object when its IoU is above this (default: 0.75, '
                        'the paper\'s)')
    parser.add_argument('--keep-empty-images', action='store_true',
                        help='keep images without a matched object (default: drop them)')
    parser.add_argument('--on-error', choices=('raise', 'skip'), default='raise',
                        help='stop at the first malformed annotation (default) or skip it')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    dataset, skipped = convert_cocoa_cls(args.cocoa, args.coco, iou_thr=args.iou_thr,
                                         keep_empty_images=args.keep_empty_images,
                                         on_error=args.on_error, progress=True)
    kept = (f'kept objects (IoU > {args.iou_thr} with a COCO instance)',
            len(dataset['annotations']))
    write_and_summarize(dataset, skipped, args.out, extra_rows=[kept],
                        extra_text=[paper_comparison(dataset)])


if __name__ == '__main__':
    main()
