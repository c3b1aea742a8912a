#!/usr/bin/env python3
"""Per layer, one thread against two: which layers hold the 2-thread speedup back.

Runs `specrun bench <net> --profile` with 1 and then 2 threads, R rounds in turn, and prints
for each layer above 0.03 ms its minimum over rounds on 1 and on 2 threads and their ratio
(the layer's speedup), then the sums. Minimums, because this VM's speed moves by 20-30%
within seconds: the fastest round of each is the closest to what the code does.

  python3 Benchmarks/threads.py mobilenet_v3_large [--rounds 3] [--iterations 60] [--binary PATH]
"""
import argparse
import collections

import compare
from blocks import speccc_layers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("network")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--binary", default=compare.SPECRUN)
    args = parser.parse_args()
    times = collections.defaultdict(lambda: {1: [], 2: []})
    for _ in range(args.rounds):
        for threads in (1, 2):
            for name, ms in speccc_layers(args.network, args.iterations, args.binary, threads).items():
                times[name][threads].append(ms)
    print(f"{'layer':22s} {'1 thread':>9s} {'2 threads':>9s} {'speedup':>8s}")
    totals = {1: 0.0, 2: 0.0}
    for name, byThreads in times.items():
        one, two = min(byThreads[1]), min(byThreads[2])
        totals[1] += one
        totals[2] += two
        if one > 0.03:
            print(f"{name:22s} {one:9.3f} {two:9.3f} {one / two:8.2f}")
    print(f"{'sum of layers':22s} {totals[1]:9.3f} {totals[2]:9.3f} {totals[1] / totals[2]:8.2f}")


if __name__ == "__main__":
    main()
