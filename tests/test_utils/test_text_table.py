"""The one text-table writer: the three layouts the tools print, log and write."""
import warnings

import pytest

from mmorcnn.utils.text_table import format_table

ROWS = [('images', 12), ('occluded instances', 3)]


def test_plain_pads_the_first_column_left_the_others_right_with_a_rule():
    assert format_table(ROWS, header=('', 'count')).splitlines() == [
        '                    count',
        '------------------  -----',
        'images                 12',
        'occluded instances      3',
    ]


def test_plain_without_header_has_no_rule_and_align_sets_each_column():
    assert format_table([('a', 'bb'), ('ccc', 'd')], align='r') == '  a  bb\nccc   d'
    assert format_table([('a', 'bb'), ('ccc', 'd')], align='lr') == 'a    bb\nccc   d'
    assert format_table([]) == ''


def test_grid_is_the_boxed_layout_of_mmdet_logs():
    table = format_table([('all', '0.500')], header=('subset', 'AP'), style='grid', align='l')
    assert table.splitlines() == [
        '+--------+-------+',
        '| subset | AP    |',
        '+--------+-------+',
        '| all    | 0.500 |',
        '+--------+-------+',
    ]
    right = format_table([('all', '0.5')], header=('subset', 'AP'), style='grid')
    assert right.splitlines()[3] == '| all    | 0.5 |'


def test_markdown_has_unpadded_cells_and_right_aligned_value_columns():
    table = format_table([('ORCNN', '30.1', '-')], header=('model', 'AP_A', 'AP_V'),
                         style='markdown')
    assert table == '| model | AP_A | AP_V |\n| --- | ---: | ---: |\n| ORCNN | 30.1 | - |'


@pytest.mark.parametrize('kwargs, match', [
    (dict(rows=ROWS, style='html'), 'style must be one of'),
    (dict(rows=ROWS, align='lrl'), 'align must be'),
    (dict(rows=ROWS, align='c'), 'align must be'),
    (dict(rows=[('a', 'b'), ('c', )]), 'every row of a table needs 2 cells'),
    (dict(rows=ROWS, style='markdown'), 'needs a header'),
])
def test_bad_arguments_are_named_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        format_table(**kwargs)


def test_the_converters_name_is_deprecated_and_writes_the_same_table():
    from mmorcnn.datasets.converters import common
    with pytest.warns(DeprecationWarning, match='mmorcnn.utils.text_table.format_table'):
        old = common.format_table(ROWS, header=('', 'count'))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert old == format_table(ROWS, header=('', 'count'))
