"""mmorcnn.analysis.overlay_threshold (tools/analysis_tools/overlay_threshold.py) counts the duplicates an overlay would draw at each
score threshold, and the ground truth the drawn detections still find."""
import json

import numpy as np

from mmorcnn.analysis.overlay_threshold import threshold_report
from mmorcnn.structures.mask_utils import mask_to_rle


def _rle(y1, y2, x1, x2):
    mask = np.zeros((40, 60), np.uint8)
    mask[y1:y2, x1:x2] = 1
    return mask_to_rle(mask)


def test_low_score_duplicate_counted_below_its_score_only(tmp_path):
    square, other = _rle(5, 25, 5, 25), _rle(10, 30, 35, 55)
    gt = dict(images=[dict(id=1, file_name='a.png', height=40, width=60)],
              categories=[dict(id=1, name='square'), dict(id=2, name='disc')],
              annotations=[dict(id=1, image_id=1, category_id=1, segmentation=square,
                                bbox=[5, 5, 20, 20], area=400, iscrowd=0),
                           dict(id=2, image_id=1, category_id=2, segmentation=other,
                                bbox=[35, 10, 20, 20], area=400, iscrowd=0)])
    near_square = _rle(6, 25, 5, 25)  # IoU 0.95 with the square
    results = [dict(image_id=1, category_id=1, score=0.9, segmentation=square),
               dict(image_id=1, category_id=1, score=0.4, segmentation=near_square),
               dict(image_id=1, category_id=2, score=0.35, segmentation=other)]
    ann_file, res_file = str(tmp_path / 'gt.json'), str(tmp_path / 'res.json')
    with open(ann_file, 'w') as f:
        json.dump(gt, f)
    with open(res_file, 'w') as f:
        json.dump(results, f)
    lines = threshold_report(ann_file, res_file, [0.3, 0.38, 0.5])
    assert '| 0.3 | 3.0 | 1 | 2 / 2 (100%) |' in lines  # the duplicate is drawn
    assert '| 0.38 | 2.0 | 1 | 1 / 2 (50%) |' in lines  # ... and the disc is lost
    assert '| 0.5 | 1.0 | 0 | 1 / 2 (50%) |' in lines
