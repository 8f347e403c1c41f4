"""The summary of repeated timings every benchmark prints: median, extremes and quartiles."""
import statistics
from dataclasses import dataclass
from typing import Sequence


@dataclass
class Spread:
    """Median, extremes and quartiles of repeated measurements."""
    median: float
    low: float
    high: float
    q1: float
    q3: float

    @classmethod
    def of(cls, values: Sequence[float]) -> 'Spread':
        values = sorted(values)
        if not values:
            raise ValueError('no measurements to summarise')
        q1, _, q3 = statistics.quantiles(values, n=4, method='inclusive') \
            if len(values) > 1 else (values[0],) * 3
        return cls(statistics.median(values), values[0], values[-1], q1, q3)

    def format(self, digits: int = 3, sign: bool = False) -> str:
        fmt = f'{{:{"+" if sign else ""}.{digits}f}}'
        return (f'{fmt.format(self.median)} (min-max {fmt.format(self.low)}..'
                f'{fmt.format(self.high)}, IQR {fmt.format(self.q1)}..{fmt.format(self.q3)})')
