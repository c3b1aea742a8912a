#!/usr/bin/env python3
"""Per block, two specrun builds (or two thread counts) against each other, alternated.

Runs `specrun bench <net> --profile` from binary A and binary B in turn (A B, then B A, ...)
for R rounds of K iterations, sums each round's per-layer medians by block (the layer
name up to its first dot), and prints per block the median over rounds for A and for B
and the median of the per-round ratios B/A. Short alternated rounds cancel most of this
VM's drift between regimes; whole runs still move by a few percent, so compare the blocks
a change touches with the blocks it does not.

  cp .build/release/specrun /tmp/specrun.old     # before the change
  swift build -c release --product specrun       # after it
  python3 Benchmarks/ab.py /tmp/specrun.old .build/release/specrun mobilenet_v2 --rounds 16
  python3 Benchmarks/ab.py .build/release/specrun .build/release/specrun mobilenet_v3_large \\
      --threads 1 --threads-b 2                  # 1 against 2 threads

Layers whose names differ between A and B (a fusion that one build makes and the other
does not) are compared by block, so a fusion that moves a layer into the next block shows
up as two blocks that move in opposite directions: compare their sum.
"""
import argparse
import statistics

from blocks import speccc_blocks


def profile(binary, network, iterations, threads):
    blocks = speccc_blocks(network, iterations, binary=binary, threads=threads)
    blocks["total"] = sum(blocks.values())
    return blocks


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("network")
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--threads-b", type=int, help="B's thread count (default: --threads)")
    args = parser.parse_args()
    runs = {"a": [], "b": []}
    sides = {"a": (args.a, args.threads), "b": (args.b, args.threads_b or args.threads)}
    for round in range(args.rounds):
        for side in ("a", "b") if round % 2 == 0 else ("b", "a"):
            binary, threads = sides[side]
            runs[side].append(profile(binary, args.network, args.iterations, threads))
    print(f"{'block':10s} {'A ms':>8s} {'B ms':>8s}  B/A (median of paired rounds)")
    names = list(runs["a"][0]) + [name for name in runs["b"][0] if name not in runs["a"][0]]
    for name in names:
        a = [run.get(name, 0.0) for run in runs["a"]]
        b = [run.get(name, 0.0) for run in runs["b"]]
        ratios = [y / x for x, y in zip(a, b) if x > 0]
        ratio = f"{statistics.median(ratios):5.3f}" if ratios else "    -"
        print(f"{name:10s} {statistics.median(a):8.3f} {statistics.median(b):8.3f}  {ratio}")


if __name__ == "__main__":
    main()
