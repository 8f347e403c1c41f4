"""Write mmorcnn's synthetic amodal dataset (the data ``make demo`` trains on).

    python tools/dataset_converters/make_synthetic_amodal.py data/synthetic_amodal

writes ``OUT_DIR/annotations/{train,val}.json`` (canonical amodal COCO format) and the PNG images
under ``OUT_DIR/{train,val}/`` (:mod:`mmorcnn.datasets.synthetic`). The same seed always gives
the same dataset.
"""
import argparse
import time

from mmorcnn.datasets.synthetic import (PARTIAL_MAX, format_split_statistics,
                                        generate_synthetic_amodal)


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


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.time()
    print(f'{args.num_train} training and {args.num_val} validation images -> {args.out_dir}')
    stats = generate_synthetic_amodal(args.out_dir, args.num_train, args.num_val, args.seed,
                                      progress=True)
    print(f'\nWrote {args.out_dir} (seed {args.seed}) in {time.time() - start:.1f} s; '
          f'partial: 0 < occlude_rate <= {PARTIAL_MAX}, heavy: above.')
    print(format_split_statistics(stats))


if __name__ == '__main__':
    main()
