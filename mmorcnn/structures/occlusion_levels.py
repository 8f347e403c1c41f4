"""The occlusion levels of COCOA's official evaluation (amodalAPI ``myPyAmodalEvalDemo.py``),
shared by the metric's none / partial / heavy breakdown and the datasets' statistics."""

#: Closed ranges ``(lo, hi)`` of the stated ``occlude_rate`` per level; the metric ignores a
#: ground truth outside the level it evaluates.
OCCLUSION_LEVELS = {'none': (0., 0.00001), 'partial': (0.00001, 0.25), 'heavy': (0.25, 1.)}
#: The rate that ends the partial level and starts the heavy one (both include it).
PARTIAL_MAX = OCCLUSION_LEVELS['partial'][1]
