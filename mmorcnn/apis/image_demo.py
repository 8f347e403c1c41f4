"""Run an amodal detector on an image or a folder of images; write overlays, a contact sheet and
JSON predictions (what ``tools/demo/image_demo.py`` does).

For each image, ``OUT_DIR/vis/<name>`` is the overlay (amodal masks in class colours, their
invisible part highlighted in white, each instance's occlusion depth written on it; images
smaller than 640 px upscaled first), with an annotation file the ground truth left of the
prediction; ``occlusion_arrows`` adds an arrow from each occluder to each instance it hides. ``OUT_DIR/contact_sheet.png`` puts the overlays of all
images into one grid (one cell per image, in name order), and ``OUT_DIR/preds/<stem>.json`` has
every predicted instance with its amodal (``segmentation``), visible and invisible masks as
compressed RLEs and its occlusion order (``occluded_by``, ``depth``); the schema is in
``mmorcnn/apis``.

Only predictions with a score above ``score_thr`` are drawn (the JSON keeps all). The default,
0.5, drops most duplicate detections, which score lower than the detection they repeat (see
docs/visualization.md for the measurement).
"""
import logging
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import mmcv
import numpy as np
import torch
from mmdet.apis.det_inferencer import IMG_EXTENSIONS
from mmengine.fileio import list_dir_or_file
from mmengine.logging import print_log
from mmengine.structures import InstanceData
from mmengine.utils import ProgressBar

from mmorcnn.datasets.amodal_format import load_amodal_coco
from mmorcnn.structures.mask_kinds import MASK_KINDS
from mmorcnn.structures.mask_utils import rle_area, rle_to_mask
from mmorcnn.visualization import contact_sheet
from .amodal_inferencer import AmodalInferencer
from .onnx_inferencer import OnnxAmodalInferencer

#: Images run through the model at a time (their data samples are held until drawn).
CHUNK = 8
#: The inference backends: the PyTorch model, or its ONNX export in ONNX Runtime.
BACKENDS = ('pytorch', 'onnxruntime')


def list_images(path: str, limit=None) -> list:
    """``path`` itself, or the images of the folder ``path`` sorted by name (the first
    ``limit``)."""
    if not osp.isdir(path):
        if not osp.isfile(path):
            raise FileNotFoundError(path)
        return [path]
    images = sorted(list_dir_or_file(path, list_dir=False, suffix=IMG_EXTENSIONS))
    if not images:
        raise FileNotFoundError(f'no images ({", ".join(IMG_EXTENSIONS)}) in {path}')
    return [osp.join(path, name) for name in images[:limit]]


def load_ground_truth(ann_file: str, classes: Sequence[str]) -> Dict[str, InstanceData]:
    """The ground truth of each image of ``ann_file`` by file name: amodal, visible and
    invisible masks, amodal boxes (x1, y1, x2, y2) and labels in the model's ``classes``.
    Crowd regions are not drawn (counted in the log)."""
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

        def masks(kind, anns=anns, height=height, width=width):
            return torch.from_numpy(np.stack([rle_to_mask(a[kind]).astype(bool) for a in anns])
                                    if anns else np.zeros((0, height, width), bool))

        boxes = np.array([a['bbox'] for a in anns], dtype=np.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        by_name[osp.basename(img['file_name'])] = InstanceData(
            **{kind.field: masks(kind.name) for kind in MASK_KINDS},
            bboxes=torch.from_numpy(boxes),
            labels=torch.tensor([label_of_name[name_of_cat[a['category_id']]] for a in anns],
                                dtype=torch.long))
    if crowd:
        print_log(f'{ann_file}: {crowd} crowd regions are not drawn', logger='current',
                  level=logging.INFO)
    return by_name


def run_image_demo(image: str, config: str, checkpoint: str, out_dir: str = 'outputs',
                   ann_file: Optional[str] = None, device: Optional[str] = None,
                   score_thr: float = 0.5, batch_size: int = 1, limit: Optional[int] = None,
                   sheet_cols: int = 2, palette: str = 'none',
                   occlusion_arrows: bool = False,
                   allow_partial_checkpoint: bool = False, backend: str = 'pytorch') -> str:
    """Run the model on ``image`` (a file or a folder, the first ``limit`` images by name) and
    write the overlays, the contact sheet and the JSON predictions under ``out_dir`` (see the
    module docstring).

    Args:
        image (str): An image file or a folder of images.
        config (str): The model config.
        checkpoint (str): The checkpoint; with ``backend='onnxruntime'`` the ONNX file exported
            from it (``tools/deployment/export_onnx.py``).
        out_dir (str): Where ``vis/``, ``preds/`` and ``contact_sheet.png`` go.
        ann_file (str, optional): Ground truth in the canonical format, drawn left of the
            prediction for the images it lists (matched by file name).
        device (str, optional): e.g. ``'cpu'`` or ``'cuda:0'``; None: cuda if available.
        score_thr (float): Instances drawn and counted in the summary need a higher score.
        batch_size (int): Images per forward pass.
        limit (int, optional): Only the first ``limit`` images of a folder.
        sheet_cols (int): Overlays per row of the contact sheet.
        palette (str): Class colours, as mmdet's; ``'none'``: the dataset's, else a fixed one.
        occlusion_arrows (bool): Draw an arrow from each occluder to each instance it hides.
        allow_partial_checkpoint (bool): Run with a checkpoint that lacks weights of the model
            (they keep their random initialisation); without it such a checkpoint is refused.
            PyTorch only.
        backend (str): ``'pytorch'`` (:class:`AmodalInferencer`) or ``'onnxruntime'``
            (:class:`OnnxAmodalInferencer`: the same predictions from the exported model).

    Returns:
        str: The summary of what was predicted and written.
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend {backend!r}: one of {", ".join(BACKENDS)}')
    if backend == 'onnxruntime' and allow_partial_checkpoint:
        raise ValueError('allow_partial_checkpoint is for PyTorch checkpoints; an ONNX file '
                         'has every weight of its export')
    images = list_images(image, limit)
    if backend == 'onnxruntime':
        inferencer = OnnxAmodalInferencer(config, checkpoint, device=device, palette=palette,
                                          show_progress=False)
    else:
        inferencer = AmodalInferencer(config, checkpoint, device=device,
                                      palette=palette, show_progress=False,
                                      allow_partial_checkpoint=allow_partial_checkpoint)
    visualizer = inferencer.visualizer
    visualizer.draw_occlusion_arrows = occlusion_arrows
    ground_truth = {}
    if ann_file:
        ground_truth = load_ground_truth(ann_file, inferencer.model.dataset_meta['classes'])
    vis_dir = osp.join(out_dir, 'vis')
    os.makedirs(vis_dir, exist_ok=True)

    kept, cells, titles, without_gt = [], [], [], []
    bar = ProgressBar(len(images))
    for start in range(0, len(images), CHUNK):
        chunk = images[start:start + CHUNK]
        samples = inferencer(chunk, batch_size=batch_size, return_datasamples=True,
                             no_save_vis=True)['predictions']
        for sample in samples:  # unreadable images are skipped (inferencer.skipped_inputs)
            path = sample.img_path
            record = inferencer.pred2dict(sample, out_dir)  # writes preds/<stem>.json
            kept += [inst for inst in record['instances'] if inst['score'] > score_thr]
            name = osp.basename(path)
            if name in ground_truth:
                sample.gt_instances = ground_truth[name]
            elif ann_file:
                without_gt.append(name)
            visualizer.add_datasample(name, mmcv.imread(path, channel_order='rgb'), sample,
                                      draw_gt=name in ground_truth, pred_score_thr=score_thr,
                                      out_file=osp.join(vis_dir, name))
            cells.append(contact_sheet_cell(visualizer.get_image(), sheet_cols))
            titles.append(name)
            bar.update()
        for _ in range(len(chunk) - len(samples)):  # the skipped ones
            bar.update()
    if not cells:
        raise RuntimeError(f'none of the {len(images)} images could be read: '
                           + '; '.join(f'{p}: {r}' for p, r in inferencer.skipped_inputs[:5]))
    sheet_path = osp.join(out_dir, 'contact_sheet.png')
    sheet, _ = contact_sheet(cells, titles, ncols=sheet_cols, cell_width=cells[0].shape[1])
    mmcv.imwrite(sheet[..., ::-1], sheet_path)

    summary = f'\n{len(cells)} image(s), {len(kept)} instances with score > {score_thr}'
    if any('invisible_mask' in inst for inst in kept):
        # invisible share of each instance's amodal mask, the paper's occlusion rate
        invisible = rle_area([inst['invisible_mask'] for inst in kept])
        amodal = rle_area([inst['segmentation'] for inst in kept])
        rate = invisible / np.maximum(amodal, 1)
        summary += (f'; predicted occlusion rate: mean {rate.mean():.1%}, '
                    f'{int((rate > 0.05).sum())} instances more than 5% occluded')
    elif kept:
        summary += ' (the model predicts amodal masks only)'
    lines = [summary]
    if inferencer.skipped_inputs:
        lines.append(f'{len(inferencer.skipped_inputs)} image(s) could not be read and were '
                     'skipped: ' + '; '.join(f'{p} ({r})' for p, r in inferencer.skipped_inputs))
    if without_gt:
        lines.append(f'{len(without_gt)} image(s) are not in {ann_file} and are drawn without '
                     f'ground truth: {", ".join(without_gt[:5])}'
                     f'{" ..." if len(without_gt) > 5 else ""}')
    gt_note = ' (ground truth | prediction)' if ground_truth else ''
    lines.append(f'overlays:    {vis_dir}{gt_note}')
    lines.append(f'contact sheet: {sheet_path} ({len(cells)} images, {sheet_cols} per row)')
    lines.append(f'predictions: {osp.join(out_dir, "preds")} (amodal / visible / invisible RLE '
                 'per instance)')
    return '\n'.join(lines)


def contact_sheet_cell(image: np.ndarray, sheet_cols: int) -> np.ndarray:
    """The overlay at the width of a contact sheet cell (sheets stay about 2000 px wide)."""
    width = max(400, 2000 // sheet_cols)
    if image.shape[1] <= width:
        return image
    return mmcv.imresize(image, (width, round(image.shape[0] * width / image.shape[1])),
                         interpolation='area')


