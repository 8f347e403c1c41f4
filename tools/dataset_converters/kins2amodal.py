"""Convert KINS (v1 or 2020 release) to mmorcnn's canonical amodal format.

    python tools/dataset_converters/kins2amodal.py \\
        data/kins/update_train_2020.json data/kins/annotations/train.json
    python tools/dataset_converters/kins2amodal.py \\
        data/kins/update_test_2020.json data/kins/annotations/test.json

KINS v1 fields (``segmentation``, ``inmodal_seg``, ``inmodal_bbox``) and KINS 2020 fields
(``a_segm``, ``a_bbox``, ``i_segm``, ``i_bbox``, ``oco_id``, ``ico_id``) are both read; the
release's 7 categories are kept. KINS 2020's ``ico_id`` (order within the occlusion cluster
``oco_id``) becomes ``order``, and ``occluder_ids`` follow the masks directed by that order
within each cluster. Images stay in ``data/kins/{training,testing}/image_2/``.
"""
import argparse

from mmorcnn.datasets.converters import convert_kins, write_and_summarize


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a KINS annotation file (v1: segmentation/inmodal_seg, or 2020: '
        'a_segm/i_segm/oco_id/ico_id) to the canonical amodal format.')
    parser.add_argument('src', help='KINS file, e.g. update_train_2020.json or '
                        'instances_train.json')
    parser.add_argument('out', help='output file, e.g. data/kins/annotations/train.json')
    parser.add_argument('--on-error', choices=('raise', 'skip'), default='raise',
                        help='stop at the first malformed annotation (default) or skip it')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    dataset, skipped = convert_kins(args.src, on_error=args.on_error, progress=True)
    write_and_summarize(dataset, skipped, args.out)


if __name__ == '__main__':
    main()
