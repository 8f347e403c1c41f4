"""The one writer of the text tables that mmorcnn's tools print, log and write.

Three layouts, each for where its table is read:

* ``'plain'``: columns padded and separated by two spaces, a rule of dashes under the header;
  for a terminal (the converters' summaries, the dataset statistics, the synthetic dataset's
  splits).
* ``'grid'``: the boxed table of ``terminaltables.AsciiTable``, the layout mmdet's CocoMetric
  logs its summaries in; for the metric's tables in the logs.
* ``'markdown'``: a GitHub pipe table with unpadded cells; for the ablation tables written into
  Markdown files.
"""
from typing import Optional, Sequence

from terminaltables import AsciiTable

STYLES = ('plain', 'grid', 'markdown')


def _alignment(align: Optional[str], num_columns: int) -> str:
    """One of ``'l'`` / ``'r'`` per column: ``align`` as given, one letter repeated for every
    column, or by default the first column left and the others right."""
    if align is None:
        align = 'l' + 'r' * (num_columns - 1)
    elif len(align) == 1:
        align = align * num_columns
    if len(align) != num_columns or set(align) - {'l', 'r'}:
        raise ValueError(f"align must be 'l' or 'r', once or once per column ({num_columns}), "
                         f'not {align!r}')
    return align


def format_table(rows: Sequence[Sequence],
                 header: Optional[Sequence] = None,
                 style: str = 'plain',
                 align: Optional[str] = None) -> str:
    """A text table of ``rows`` under ``header``.

    Args:
        rows (Sequence[Sequence]): The rows; every cell is written as ``str(cell)``.
        header (Sequence, optional): The column names. Required by ``'markdown'``. Defaults to
            None: no header (and in ``'plain'`` no rule).
        style (str): ``'plain'``, ``'grid'`` or ``'markdown'`` (module docstring). Defaults to
            ``'plain'``.
        align (str, optional): ``'l'`` (left) or ``'r'`` (right), one letter for every column or
            one per column. Defaults to None: the first column left, the others right.

    Returns:
        str: The table's lines joined by newlines, without a final newline; ``''`` for a
        ``'plain'`` table without header and rows.
    """
    if style not in STYLES:
        raise ValueError(f'style must be one of {STYLES}, not {style!r}')
    table = ([[str(c) for c in header]] if header is not None else []) + \
        [[str(c) for c in row] for row in rows]
    if not table:
        if style == 'plain':
            return ''
        raise ValueError(f"a '{style}' table needs a header or rows")
    num_columns = len(table[0])
    if any(len(row) != num_columns for row in table):
        raise ValueError(f'every row of a table needs {num_columns} cells: '
                         f'{[len(row) for row in table]}')
    align = _alignment(align, num_columns)

    if style == 'grid':
        grid = AsciiTable(table)
        grid.inner_heading_row_border = header is not None
        grid.justify_columns = {i: 'right' for i, a in enumerate(align) if a == 'r'}
        return grid.table
    if style == 'markdown':
        if header is None:
            raise ValueError('a Markdown table needs a header')
        rule = ['---' if a == 'l' else '---:' for a in align]
        return '\n'.join('| ' + ' | '.join(row) + ' |'
                         for row in [table[0], rule, *table[1:]])
    widths = [max(len(row[i]) for row in table) for i in range(num_columns)]
    lines = ['  '.join(c.ljust(w) if a == 'l' else c.rjust(w)
                       for c, w, a in zip(row, widths, align)) for row in table]
    if header is not None:
        lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)
