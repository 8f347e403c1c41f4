"""Finding the image files of a dataset that cannot be decoded, before a training needs them.

A corrupt or fake image file (a truncated PNG, an HTML page saved as ``.jpg``) is otherwise found
only when a data loader worker reaches it, possibly hours into a training. :func:`image_problem`
decodes one file as mmcv's ``LoadImageFromFile`` does (mmengine's file backends, then
``mmcv.imfrombytes``); :func:`unreadable_images` does it for every image of a dataset, once, and
names the unreadable ones with their image ids. ``AmodalCocoDataset(check_images=True)`` and
``tools/analysis_tools/check_images.py`` use it.
"""
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

import mmcv
from mmengine import fileio
from mmengine.utils import ProgressBar

from mmorcnn.structures.errors import FileItemError, located_message


class ImageReadError(FileItemError):
    """An image file that cannot be read or decoded; the message names the file and the image id.

    Args:
        img_path (str): The image file.
        image_id: Id of the image in its annotation file (None when unknown).
        reason (str): What went wrong.
    """
    FIELDS = ('img_path', 'image_id', 'part')
    ID_NAMES = ('image', 'part')

    def __init__(self, img_path: str, image_id, reason: str) -> None:
        super().__init__(img_path, image_id, None, reason)

    def __reduce__(self):  # keep the attributes when sent between dataloader workers
        return type(self), (self.img_path, self.image_id, self.reason)


class UnreadableImage(NamedTuple):
    """An image that could not be decoded: its id, file and the reason."""
    image_id: object
    img_path: str
    reason: str


def image_problem(img_path: str, backend_args: Optional[dict] = None,
                  color_type: str = 'color', imdecode_backend: str = 'cv2') -> Optional[str]:
    """Why ``img_path`` cannot be loaded as an image, or None when it decodes.

    Args:
        img_path (str): The image file (any mmengine file backend).
        backend_args (dict, optional): mmengine file backend arguments. Defaults to None.
        color_type (str): ``flag`` of ``mmcv.imfrombytes``. Defaults to 'color'.
        imdecode_backend (str): Decoding backend of ``mmcv.imfrombytes``. Defaults to 'cv2'.
    """
    try:
        data = fileio.get(img_path, backend_args=backend_args)
    except Exception as e:  # missing file, permission, backend error: all mean unreadable
        return f'cannot be read ({type(e).__name__}: {e})'
    if not data:
        return 'the file is empty'
    try:
        img = mmcv.imfrombytes(data, flag=color_type, backend=imdecode_backend)
    except Exception as e:
        return f'cannot be decoded as an image ({type(e).__name__}: {e})'
    if img is None:
        return f'cannot be decoded as an image ({len(data)} bytes; not an image or cut short)'
    return None


def unreadable_images(images: Sequence[Tuple[object, str]],
                      backend_args: Optional[dict] = None,
                      progress: bool = False) -> List[UnreadableImage]:
    """Decode every image once; the ones that fail, in the given order.

    Args:
        images (Sequence[tuple]): ``(image_id, img_path)`` of each image.
        backend_args (dict, optional): mmengine file backend arguments. Defaults to None.
        progress (bool): Show mmengine's progress bar. Defaults to False.

    Returns:
        list[UnreadableImage]: ``(image_id, img_path, reason)`` of each unreadable image.
    """
    bar = ProgressBar(len(images)) if progress and images else None
    bad = []
    for image_id, img_path in images:
        problem = image_problem(img_path, backend_args)
        if problem is not None:
            bad.append(UnreadableImage(image_id, img_path, problem))
        if bar is not None:
            bar.update()
    return bad


def check_dataset_images(dataset_cfg: dict, progress: bool = True) -> Tuple[int,
                                                                              List[UnreadableImage]]:
    """Build the dataset of ``dataset_cfg`` (its annotations validated as for a training) and
    decode each of its images once.

    Args:
        dataset_cfg (dict): A dataset config (``train_dataloader.dataset`` of a config); its
            ``check_images`` option is switched off, so that every unreadable image is listed
            rather than the first error raised.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple: The number of images and the unreadable ones.
    """
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = dict(dataset_cfg)
    if cfg.get('type') in ('AmodalCocoDataset', 'mmdet.AmodalCocoDataset'):
        cfg['check_images'] = False
    dataset = DATASETS.build(cfg)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    images = [(info.get('img_id'), info['img_path']) for info in infos]
    return len(images), unreadable_images(images, cfg.get('backend_args'), progress)


def describe_unreadable(bad: Iterable[UnreadableImage], limit: int = 10) -> str:
    """``'image 3 (data/x.png): reason; ...'`` for the first ``limit`` unreadable images."""
    bad = list(bad)
    text = '; '.join(f'image {b.image_id} ({b.img_path}): {b.reason}' for b in bad[:limit])
    return text + (f'; and {len(bad) - limit} more' if len(bad) > limit else '')
