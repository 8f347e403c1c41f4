"""Time ORCNN's training data pipeline against mmdet's Mask R-CNN pipeline, side by side.

Both read the same generated images and the same instances: ``--num-images`` JPEG images of
``--height`` x ``--width`` with ``--objects`` objects each (random polygons in a random depth
order, so that many are partly hidden), written once to a temporary folder as

* a canonical amodal file (amodal polygons, visible and invisible RLEs) read by
  ``AmodalCocoDataset`` through ORCNN's training pipeline (by default the one of
  ``configs/_base_/datasets/amodal_instance.py``: LoadImageFromFile, LoadAmodalAnnotations, Resize
  to (1111, 800), RandomFlip, PackAmodalDetInputs), and
* a COCO instance file (the same amodal polygons) read by mmdet's ``CocoDataset`` through the same
  pipeline with mmdet's ``LoadAnnotations`` and ``PackDetInputs`` in place of the amodal ones,
  i.e. mmdet's Mask R-CNN pipeline (polygons decoded to bitmaps, ``poly2mask=True``).

One process; the two pipelines alternate image by image (ORCNN, Mask R-CNN, Mask R-CNN, ORCNN,
...) with the same random seed for each image, so both flip the same images and drifts in the
machine's load hit both alike. The tool prints the median time per image of every transform and
in all, and the ORCNN / Mask R-CNN ratio last.

    python tools/analysis_tools/benchmark_pipeline.py                        # 800x1100, 12 objects
    python tools/analysis_tools/benchmark_pipeline.py --height 1440 --width 1920 --objects 8
    python tools/analysis_tools/benchmark_pipeline.py \
        --config configs/orcnn/orcnn_r50_fpn_10k_kins.py
"""
import argparse
from typing import List, Optional

from mmorcnn.analysis.benchmark_pipeline import PipelineBenchmarkSettings, run_benchmark_pipeline


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='ORCNN vs Mask R-CNN data pipeline speed')
    parser.add_argument('--config', default=None,
                        help='a config whose train_pipeline (or train_dataloader.dataset.pipeline) '
                        'is ORCNN\'s pipeline (default: the real datasets\' common pipeline)')
    parser.add_argument('--height', type=int, default=800)
    parser.add_argument('--width', type=int, default=1100)
    parser.add_argument('--objects', type=int, default=12, help='objects per image')
    parser.add_argument('--num-images', type=int, default=8, help='distinct generated images')
    parser.add_argument('--repeats', type=int, default=10, help='timed passes over the images')
    parser.add_argument('--warmup', type=int, default=1, help='untimed passes first')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_benchmark_pipeline(PipelineBenchmarkSettings(**vars(args)))


if __name__ == '__main__':
    main()
