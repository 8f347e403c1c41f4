"""Run an amodal detector on an image or a folder of images; write overlays, a contact sheet and
JSON predictions.

    python tools/demo/image_demo.py IMAGE CONFIG CHECKPOINT [--out-dir outputs] [--limit N] \\
        [--ann-file GT.json] [--score-thr 0.5]

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
README's "Overlays" section for the measurement).
"""
import argparse
import logging
import os
import os.path as osp
import sys
from typing import Dict, Sequence

try:
    import mmorcnn  # noqa: F401  registers mmorcnn's modules, safe checkpoint loading
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    import mmorcnn  # noqa: F401

#: Images run through the model at a time (their data samples are held until drawn).
CHUNK = 8


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Amodal instance segmentation of images: overlays, a contact sheet and '
        'JSON predictions')
    parser.add_argument('image', help='an image file or a folder of images')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
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
    parser.add_argument('--occlusion-arrows', action='store_true',
                        help='draw an arrow from each occluder to each instance it hides (the '
                        'depths are always written)')
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error('--limit must be >= 1')
    if args.sheet_cols < 1:
        parser.error('--sheet-cols must be >= 1')
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


def load_ground_truth(ann_file: str, classes: Sequence[str]) -> Dict[str, 'InstanceData']:
    """The ground truth of each image of ``ann_file`` by file name: amodal, visible and
    invisible masks, amodal boxes (x1, y1, x2, y2) and labels in the model's ``classes``.
    Crowd regions are not drawn (counted in the log)."""
    import numpy as np
    import torch
    from mmengine.logging import print_log
    from mmengine.structures import InstanceData

    from mmorcnn.datasets.amodal_format import load_amodal_coco
    from mmorcnn.structures.mask_utils import rle_to_mask

    coco = load_amodal_coco(ann_file)
    name_of_cat = {c['id']: c['name'] for c in coco.categories}
    label_of_name = {name: label for label, name in enumerate(classes)}
    by_name, crowd = {}, 0
    for img in coco.images:
        anns = []
        for ann in coco.anns_by_image[img['id']]:
            if ann['iscrowd']:
                crowd += 1
                continue
            name = name_of_cat[ann['category_id']]
            if name not in label_of_name:
                raise KeyError(f'{ann_file}: image {img["id"]}, annotation {ann["id"]}: '
                               f'category {name!r} is not among the model\'s classes '
                               f'{list(classes)}')
            anns.append(ann)
        height, width = img['height'], img['width']

        def masks(key, anns=anns, height=height, width=width):
            return torch.from_numpy(np.stack([rle_to_mask(a[key]).astype(bool) for a in anns])
                                    if anns else np.zeros((0, height, width), bool))

        boxes = np.array([a['bbox'] for a in anns], dtype=np.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        by_name[osp.basename(img['file_name'])] = InstanceData(
            masks=masks('amodal'), visible_masks=masks('visible'),
            invisible_masks=masks('invisible'), bboxes=torch.from_numpy(boxes),
            labels=torch.tensor([label_of_name[name_of_cat[a['category_id']]] for a in anns],
                                dtype=torch.long))
    if crowd:
        print_log(f'{ann_file}: {crowd} crowd regions are not drawn', logger='current',
                  level=logging.INFO)
    return by_name


def main(argv=None) -> int:
    args = parse_args(argv)
    import mmcv
    import numpy as np
    from mmengine.utils import ProgressBar

    from mmorcnn.apis import AmodalInferencer
    from mmorcnn.structures.mask_utils import rle_area
    from mmorcnn.visualization import contact_sheet

    images = list_images(args.image, args.limit)
    inferencer = AmodalInferencer(args.config, args.checkpoint, device=args.device,
                                  palette=args.palette, show_progress=False)
    visualizer = inferencer.visualizer
    visualizer.draw_occlusion_arrows = args.occlusion_arrows
    ground_truth = {}
    if args.ann_file:
        ground_truth = load_ground_truth(args.ann_file, inferencer.model.dataset_meta['classes'])
    vis_dir = osp.join(args.out_dir, 'vis')
    os.makedirs(vis_dir, exist_ok=True)

    kept, cells, titles, without_gt = [], [], [], []
    bar = ProgressBar(len(images))
    for start in range(0, len(images), CHUNK):
        chunk = images[start:start + CHUNK]
        samples = inferencer(chunk, batch_size=args.batch_size, return_datasamples=True,
                             no_save_vis=True)['predictions']
        for path, sample in zip(chunk, samples):
            record = inferencer.pred2dict(sample, args.out_dir)  # writes preds/<stem>.json
            kept += [inst for inst in record['instances'] if inst['score'] > args.score_thr]
            name = osp.basename(path)
            if name in ground_truth:
                sample.gt_instances = ground_truth[name]
            elif args.ann_file:
                without_gt.append(name)
            visualizer.add_datasample(name, mmcv.imread(path, channel_order='rgb'), sample,
                                      draw_gt=name in ground_truth, pred_score_thr=args.score_thr,
                                      out_file=osp.join(vis_dir, name))
            cells.append(_thumbnail(visualizer.get_image(), args.sheet_cols))
            titles.append(name)
            bar.update()
    sheet_path = osp.join(args.out_dir, 'contact_sheet.png')
    sheet, _ = contact_sheet(cells, titles, ncols=args.sheet_cols, cell_width=cells[0].shape[1])
    mmcv.imwrite(sheet[..., ::-1], sheet_path)

    summary = f'\n{len(images)} image(s), {len(kept)} instances with score > {args.score_thr}'
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
    if without_gt:
        print(f'{len(without_gt)} image(s) are not in {args.ann_file} and are drawn without '
              f'ground truth: {", ".join(without_gt[:5])}{" ..." if len(without_gt) > 5 else ""}')
    gt_note = ' (ground truth | prediction)' if ground_truth else ''
    print(f'overlays:    {vis_dir}{gt_note}')
    print(f'contact sheet: {sheet_path} ({len(cells)} images, {args.sheet_cols} per row)')
    print(f'predictions: {osp.join(args.out_dir, "preds")} (amodal / visible / invisible RLE '
          'per instance)')
    return 0


def _thumbnail(image, sheet_cols: int):
    """The overlay at the width of a contact sheet cell (sheets stay about 2000 px wide)."""
    import mmcv
    width = max(400, 2000 // sheet_cols)
    if image.shape[1] <= width:
        return image
    return mmcv.imresize(image, (width, round(image.shape[0] * width / image.shape[1])),
                         interpolation='area')


if __name__ == '__main__':
    sys.exit(main())
