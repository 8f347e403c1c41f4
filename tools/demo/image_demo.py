"""Run an amodal detector on an image or a folder of images; write overlays, a contact sheet and
JSON predictions.

    python tools/demo/image_demo.py IMAGE CONFIG CHECKPOINT [--out-dir outputs] [--limit N] \\
        [--ann-file GT.json] [--score-thr 0.5]
    python tools/demo/image_demo.py IMAGE CONFIG MODEL.onnx --backend onnxruntime [...]

With ``--backend onnxruntime`` the model is the ONNX file exported from the checkpoint
(tools/deployment/export_onnx.py, docs/deployment.md), run by ONNX Runtime; every other option
and every file written are the same.

IMAGE is an image file or a folder of images. For each image, ``OUT_DIR/vis/<name>`` is the
overlay (amodal masks in class colours, their invisible part highlighted in white, each
instance's occlusion depth written on it; images smaller than 640 px upscaled first), with
``--ann-file`` the ground truth left of the prediction; ``--occlusion-arrows`` adds an arrow from
each occluder to each instance it hides. ``OUT_DIR/contact_sheet.png`` puts the overlays of all
images into one grid (one cell per image, in name order), and ``OUT_DIR/preds/<stem>.json`` has
every predicted instance with its amodal (``segmentation``), visible and invisible masks as
compressed RLEs and its occlusion order (``occluded_by``, ``depth``); the schema is in
``mmorcnn/apis``.

Only predictions with a score above ``--score-thr`` are drawn (the JSON keeps all). The default,
0.5, drops most duplicate detections, which score lower than the detection they repeat (see the
"Overlays" section of docs/visualization.md for the measurement).
"""
import argparse
import sys

from mmorcnn.apis.image_demo import BACKENDS, run_image_demo
from mmorcnn.structures import exit_on_bad_input


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Amodal instance segmentation of images: overlays, a contact sheet and '
        'JSON predictions')
    parser.add_argument('image', help='an image file or a folder of images')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint',
                        help='checkpoint file (--backend onnxruntime: the exported ONNX file)')
    parser.add_argument('--out-dir', default='outputs',
                        help='where vis/, preds/ and contact_sheet.png go (default: outputs)')
    parser.add_argument('--ann-file',
                        help='ground truth in the canonical amodal format: drawn left of the '
                        'prediction for the images it lists (matched by file name)')
    parser.add_argument('--device', default=None,
                        help='device, e.g. cpu or cuda:0 (default: cuda if available)')
    parser.add_argument('--score-thr', type=float, default=0.5,
                        help='instances drawn and counted in the summary need a higher score; '
                        'the JSON keeps all (default: 0.5, which drops duplicate detections)')
    parser.add_argument('--batch-size', type=int, default=1, help='images per forward pass')
    parser.add_argument('--limit', type=int, default=None,
                        help='only the first N images of the folder (sorted by name)')
    parser.add_argument('--sheet-cols', type=int, default=2,
                        help='overlays per row of the contact sheet (default: 2)')
    parser.add_argument('--palette', default='none',
                        help="class colours, as mmdet's: 'coco', 'random', ... (default: the "
                        "dataset's, else a fixed palette)")
    parser.add_argument('--allow-partial-checkpoint', action='store_true',
                        help='run with a checkpoint that lacks weights of the model (they keep '
                        'their random initialisation); without it such a checkpoint is refused')
    parser.add_argument('--occlusion-arrows', action='store_true',
                        help='draw an arrow from each occluder to each instance it hides (the '
                        'depths are always written)')
    parser.add_argument('--backend', choices=BACKENDS, default='pytorch',
                        help='pytorch (default) or onnxruntime: the ONNX export of the '
                        'checkpoint, given as CHECKPOINT, run by ONNX Runtime')
    args = parser.parse_args(argv)
    if args.backend == 'onnxruntime' and args.allow_partial_checkpoint:
        parser.error('--allow-partial-checkpoint is for PyTorch checkpoints; an ONNX file has '
                     'every weight of its export')
    if args.limit is not None and args.limit < 1:
        parser.error('--limit must be >= 1')
    if args.sheet_cols < 1:
        parser.error('--sheet-cols must be >= 1')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    print(run_image_demo(args.image, args.config, args.checkpoint, out_dir=args.out_dir,
                         ann_file=args.ann_file, device=args.device, score_thr=args.score_thr,
                         batch_size=args.batch_size, limit=args.limit,
                         sheet_cols=args.sheet_cols, palette=args.palette,
                         occlusion_arrows=args.occlusion_arrows,
                         allow_partial_checkpoint=args.allow_partial_checkpoint,
                         backend=args.backend))
    return 0


if __name__ == '__main__':
    sys.exit(exit_on_bad_input(main))
