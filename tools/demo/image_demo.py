"""Run an amodal detector on an image or a folder of images; write overlays and JSON predictions.

    python tools/demo/image_demo.py IMAGE CONFIG CHECKPOINT [--out-dir outputs] [--limit N]

IMAGE is an image file or a folder of images. For each image, ``OUT_DIR/vis/<name>`` is the
overlay (amodal masks in class colours, their invisible part highlighted in white) and
``OUT_DIR/preds/<stem>.json`` every predicted instance with its amodal (``segmentation``),
visible and invisible masks as compressed RLEs and its occlusion order (``occluded_by``,
``depth``); the schema is in ``mmorcnn/apis``. Overlays write each instance's depth on it;
``--occlusion-arrows`` adds an arrow from each occluder to each instance it hides.
"""
import argparse
import os.path as osp
import sys

try:
    import mmorcnn  # noqa: F401  registers mmorcnn's modules, safe checkpoint loading
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    import mmorcnn  # noqa: F401


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Amodal instance segmentation of images: overlays and JSON predictions')
    parser.add_argument('image', help='an image file or a folder of images')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-dir', default='outputs',
                        help='where vis/ and preds/ go (default: outputs)')
    parser.add_argument('--device', default=None,
                        help='device, e.g. cpu or cuda:0 (default: cuda if available)')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='instances drawn and counted in the summary need this score; the '
                        'JSON keeps all (default: 0.3)')
    parser.add_argument('--batch-size', type=int, default=1, help='images per forward pass')
    parser.add_argument('--limit', type=int, default=None,
                        help='only the first N images of the folder (sorted by name)')
    parser.add_argument('--palette', default='none',
                        help="class colours, as mmdet's: 'coco', 'random', ... (default: the "
                        "dataset's, else random)")
    parser.add_argument('--occlusion-arrows', action='store_true',
                        help='draw an arrow from each occluder to each instance it hides (the '
                        'depths are always written)')
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error('--limit must be >= 1')
    return args


def list_images(path: str, limit=None) -> list:
    """``path`` itself, or the images of the folder ``path`` sorted by name (the first
    ``limit``)."""
    from mmdet.apis.det_inferencer import IMG_EXTENSIONS
    from mmengine.fileio import list_dir_or_file
    if not osp.isdir(path):
        if not osp.isfile(path):
            raise FileNotFoundError(path)
        return [path]
    images = sorted(list_dir_or_file(path, list_dir=False, suffix=IMG_EXTENSIONS))
    if not images:
        raise FileNotFoundError(f'no images ({", ".join(IMG_EXTENSIONS)}) in {path}')
    return [osp.join(path, name) for name in images[:limit]]


def main(argv=None) -> int:
    args = parse_args(argv)
    import numpy as np

    from mmorcnn.apis import AmodalInferencer
    from mmorcnn.structures.mask_utils import rle_area

    images = list_images(args.image, args.limit)
    inferencer = AmodalInferencer(args.config, args.checkpoint, device=args.device,
                                  palette=args.palette)
    inferencer.visualizer.draw_occlusion_arrows = args.occlusion_arrows
    results = inferencer(images, batch_size=args.batch_size, out_dir=args.out_dir,
                         no_save_pred=False, pred_score_thr=args.score_thr)

    kept = [inst for pred in results['predictions'] for inst in pred['instances']
            if inst['score'] >= args.score_thr]
    summary = f'\n{len(images)} image(s), {len(kept)} instances with score >= {args.score_thr}'
    if any('invisible_mask' in inst for inst in kept):
        # invisible share of each instance's amodal mask, the paper's occlusion rate
        invisible = rle_area([inst['invisible_mask'] for inst in kept])
        amodal = rle_area([inst['segmentation'] for inst in kept])
        rate = invisible / np.maximum(amodal, 1)
        summary += (f'; predicted occlusion rate: mean {rate.mean():.1%}, '
                    f'{int((rate > 0.05).sum())} instances more than 5% occluded')
    elif kept:
        summary += ' (the model predicts amodal masks only)'
    print(summary)
    print(f'overlays:    {osp.join(args.out_dir, "vis")}')
    print(f'predictions: {osp.join(args.out_dir, "preds")} (amodal / visible / invisible RLE '
          'per instance)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
