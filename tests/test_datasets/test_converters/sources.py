"""Helpers the converter tests use to write their small fixtures in each source format."""
import json

from ..amodal_scene import HEIGHT, WIDTH, rect  # noqa: F401  (re-exported for the tests)


def box_polygon(y1: int, y2: int, x1: int, x2: int) -> list:
    """Flat polygon whose rasterisation is ``rect(y1, y2, x1, x2)`` (pixels [y1, y2) x [x1, x2))."""
    return [x1, y1, x2, y1, x2, y2, x1, y2]


def image_record(image_id: int, file_name: str = None, height: int = HEIGHT,
                 width: int = WIDTH) -> dict:
    return dict(id=image_id, file_name=file_name or f'{image_id:06d}.png', height=height,
                width=width)


def write_json(path, data) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def read_json(path) -> dict:
    with open(path) as f:
        return json.load(f)
