"""The image and occlusion statistics of canonical amodal files side by side, as the paper's
Table 5 (the definitions are in :mod:`mmorcnn.datasets.statistics`)."""
import json
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

from mmengine.utils import track_iter_progress

from mmorcnn.datasets.statistics import OcclusionStatistics, dataset_statistics, table5_rows
from mmorcnn.utils.text_table import format_table


def dataset_stats_table(ann_files: Sequence[str], names: Optional[Sequence[str]] = None,
                        on_error: str = 'raise', out_file: Optional[str] = None
                        ) -> Tuple[Dict[str, OcclusionStatistics], str]:
    """The statistics of each file (a column each, named ``names`` or after the files) and
    the table of them; ``out_file`` also gets them as JSON."""
    names = list(names or [osp.basename(f) for f in ann_files])
    if len(names) != len(ann_files):
        raise ValueError(f'{len(names)} names for {len(ann_files)} files')
    columns = {}
    for ann_file, name in zip(track_iter_progress(list(ann_files)), names):
        columns[name] = dataset_statistics(ann_file, on_error=on_error)
    if out_file:
        with open(out_file, 'w') as f:
            json.dump({name: stats.to_dict() for name, stats in columns.items()}, f, indent=2)
    return columns, format_table(table5_rows(columns), header=('split name', *columns))
