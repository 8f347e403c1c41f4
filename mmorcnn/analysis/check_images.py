"""Decode every image of a config's datasets once and name the ones that cannot be read.

For each split (``train_dataloader``, ``val_dataloader``, ``test_dataloader``; a split the config
shares with another is checked once) the dataset is built as for a run (annotations validated,
``filter_cfg`` applied) and each image decoded as the data pipeline does
(:func:`mmorcnn.datasets.image_check.check_dataset_images`).
``AmodalCocoDataset(check_images=True)`` makes the same check when a run starts.
"""
from typing import List, NamedTuple, Sequence

from mmengine.config import Config

import mmorcnn  # noqa: F401  registers mmorcnn's datasets and transforms
from mmorcnn.datasets.image_check import UnreadableImage, check_dataset_images

#: The data loaders of a config, by the prefix of their key.
SPLITS = ('train', 'val', 'test')


class SplitCheck(NamedTuple):
    """The images of one split: how many were decoded, and the unreadable ones."""
    split: str
    num_images: int
    unreadable: List[UnreadableImage]


def check_config_images(cfg: Config, splits: Sequence[str] = SPLITS) -> List[SplitCheck]:
    """Decode the images of every split of ``cfg`` named in ``splits``, each dataset once."""
    checked, results = [], []
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or loader.get('dataset') is None or loader.dataset in checked:
            continue
        checked.append(loader.dataset)
        num, bad = check_dataset_images(loader.dataset.to_dict())
        results.append(SplitCheck(split, num, list(bad)))
    return results


def format_image_checks(results: Sequence[SplitCheck]) -> str:
    """One block per split (a summary line, then one line per unreadable image with its id,
    file and reason) and the total."""
    lines = []
    for check in results:
        lines += ['', f'{check.split}: {check.num_images} images, '
                  f'{len(check.unreadable)} unreadable']
        lines += [f'  image {b.image_id}: {b.img_path}: {b.reason}' for b in check.unreadable]
    total = sum(c.num_images for c in results)
    bad = sum(len(c.unreadable) for c in results)
    lines.append(f'{total} images checked, {bad} unreadable')
    return '\n'.join(lines)
