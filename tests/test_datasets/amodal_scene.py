"""Geometry of the tiny amodal test scene shared by the dataset tests (fixtures: conftest.py)."""
import numpy as np

HEIGHT, WIDTH = 40, 60
CATEGORIES = [dict(id=3, name='box'), dict(id=7, name='bar')]


def rect(y1: int, y2: int, x1: int, x2: int) -> np.ndarray:
    """Binary ``HEIGHT x WIDTH`` mask of the pixels ``[y1, y2) x [x1, x2)``."""
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    mask[y1:y2, x1:x2] = 1
    return mask
