"""A contact sheet: many overlays in one image, a grid of titled cells."""
from typing import List, Sequence, Tuple

import cv2
import mmcv
import numpy as np

#: Height in pixels of the title strip above each cell.
TITLE_HEIGHT = 22


def contact_sheet(cells: Sequence[np.ndarray],
                  titles: Sequence[str],
                  ncols: int = 2,
                  cell_width: int = 960,
                  gap: int = 10) -> Tuple[np.ndarray, List[Tuple[int, int, int, int]]]:
    """Put ``cells`` (RGB images, e.g. ground truth | prediction overlays) into one grid image.

    The cells fill the grid row by row, ``ncols`` per row, each resized to ``cell_width``
    pixels wide (aspect ratio kept) under a strip with its title, on a white background.

    Args:
        cells (Sequence[np.ndarray]): ``(H, W, 3)`` uint8 RGB images.
        titles (Sequence[str]): One title per cell (e.g. the image's file name).
        ncols (int): Cells per row. Defaults to 2.
        cell_width (int): Width of every cell in the sheet. Defaults to 960.
        gap (int): White pixels around and between the cells. Defaults to 10.

    Returns:
        tuple: The sheet (RGB uint8) and, per cell, the box ``(x1, y1, x2, y2)`` its image
        occupies in the sheet.
    """
    if len(cells) != len(titles):
        raise ValueError(f'{len(cells)} cells but {len(titles)} titles')
    if not cells:
        raise ValueError('a contact sheet needs at least one cell')
    if ncols < 1:
        raise ValueError(f'ncols must be >= 1, got {ncols}')
    resized = [cell if cell.shape[1] == cell_width else mmcv.imresize(
        cell, (cell_width, max(1, round(cell.shape[0] * cell_width / cell.shape[1]))),
        interpolation='area') for cell in cells]
    ncols = min(ncols, len(cells))
    nrows = -(-len(cells) // ncols)
    cell_height = max(c.shape[0] for c in resized)
    slot_h = TITLE_HEIGHT + cell_height + gap
    sheet = np.full((gap + nrows * slot_h, gap + ncols * (cell_width + gap), 3), 255, np.uint8)
    boxes = []
    for i, (cell, title) in enumerate(zip(resized, titles)):
        row, col = divmod(i, ncols)
        x, y = gap + col * (cell_width + gap), gap + row * slot_h
        cv2.putText(sheet, title, (x + 2, y + TITLE_HEIGHT - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                    (0, 0, 0), 1, cv2.LINE_AA)
        top = y + TITLE_HEIGHT
        sheet[top:top + cell.shape[0], x:x + cell_width] = cell
        boxes.append((x, top, x + cell_width, top + cell.shape[0]))
    return sheet, boxes
