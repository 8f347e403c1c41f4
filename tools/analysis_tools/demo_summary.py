"""Summarise a `make demo` run: how the training loss fell, the test metrics and the time.

    python tools/analysis_tools/demo_summary.py WORK_DIR [--started-at EPOCH_SECONDS]

The summary is :func:`mmorcnn.analysis.demo_summary.demo_summary`; the exit status is 1 when the
training loss did not fall.
"""
import argparse
import sys

from mmorcnn.analysis.demo_summary import demo_summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='the --work-dir of the demo training')
    parser.add_argument('--test-dir', help='work dir of mim test (default WORK_DIR/test)')
    parser.add_argument('--started-at', type=float,
                        help='when the demo started (seconds since the epoch, `date +%%s`); '
                        'the summary then ends with the time it took')
    args = parser.parse_args()
    summary, loss_fell = demo_summary(args.work_dir, args.test_dir, args.started_at)
    print(summary)
    return 0 if loss_fell else 1


if __name__ == '__main__':
    sys.exit(main())
