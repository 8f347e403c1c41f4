"""Validate the released D2S amodal files, zero-pad where needed and write canonical files.

    python tools/dataset_converters/d2sa2amodal.py \\
        data/d2s_amodal/d2s_amodal_annotations_v1/D2S_amodal_training_rot0.json \\
        data/d2s_amodal/d2s_amodal_annotations_v1/D2S_amodal_augmented.json \\
        -o data/d2s_amodal/annotations/train.json --img-dir data/d2s_amodal/images

Several inputs are merged (the paper's train split is training rot0 + augmented). The release's
RLE masks (at the image size, 1440x1920 or the released zero-padded 1534x1920), visible and
invisible masks, occlusion rates and depth order (``amodal_region.order``) are kept; where
amodal polygons leave their image, the image is zero-padded (paper 4.3) and the padded copy is
written to ``<img-dir>/padded/``. For a released split (training rot0, augmented, both, or
validation) the summary sets its statistics beside the paper's Table 5.
"""
import argparse

from mmorcnn.datasets.converters import convert_d2sa, write_and_summarize
from mmorcnn.datasets.converters.d2sa import table5_comparison


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Read and validate D2S amodal files (D2S_amodal_*.json), merge several '
        'into one, zero-pad images whose amodal masks leave them, and write the canonical '
        'amodal format.')
    parser.add_argument('src', nargs='+', help='D2S amodal file(s), merged in the given order')
    parser.add_argument('-o', '--out', required=True,
                        help='output file, e.g. data/d2s_amodal/annotations/train.json')
    parser.add_argument('--img-dir', default=None,
                        help='D2S amodal image folder (data/d2s_amodal/images); needed only '
                        'when an image must be padded')
    parser.add_argument('--padded-dir', default='padded',
                        help='sub-folder of --img-dir for padded images (default: padded)')
    parser.add_argument('--on-error', choices=('raise', 'skip'), default='raise',
                        help='stop at the first malformed annotation (default) or skip it')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    dataset, skipped = convert_d2sa(args.src, img_dir=args.img_dir, padded_dir=args.padded_dir,
                                    on_error=args.on_error, progress=True)
    padded = ('zero-padded images', len(dataset['info']['padded_image_ids']))
    table5 = table5_comparison(args.src, dataset)
    write_and_summarize(dataset, skipped, args.out, extra_rows=[padded],
                        extra_text=[table5] if table5 else [])


if __name__ == '__main__':
    main()
