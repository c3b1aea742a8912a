#!/usr/bin/env python3
"""Per block, speccc against ONNX Runtime at 1 thread: where the time goes in each engine.

speccc's side is `specrun bench <net> --profile`; ONNX Runtime's is its node profile
(`enable_profiling`), on the model `compare.py` exports with the same weights. Nodes are
grouped by the timm module they come from (blocks.i.j in order of appearance is block0,
block1, ...; what comes before the first block is the stem, what comes after the last
block speccc has is the head). The engines alternate for R rounds; each block's figure is
its minimum over rounds (of speccc's per-layer medians, of ORT's per-node medians).

  python3 Benchmarks/blocks.py mobilenet_v3_large [--rounds 4]

timm networks only (MicroNet's official model has other module names).
"""
import argparse
import collections
import json
import os
import re
import subprocess
import tempfile

import compare


def speccc_layers(network, iterations, binary=compare.SPECRUN, threads=1):
    """specrun's per-layer medians, in network order."""
    out = subprocess.check_output([binary, "bench", network, "--profile", "--json", "--iterations", str(iterations),
                                   "--threads", str(threads)])
    return collections.OrderedDict((layer["layer"], layer["ms"]) for layer in json.loads(out[out.index(b"{"):])["layers"])


def speccc_blocks(network, iterations, binary=compare.SPECRUN, threads=1):
    """specrun's per-layer medians summed by block (the layer name up to its first dot)."""
    times = collections.OrderedDict()
    for name, ms in speccc_layers(network, iterations, binary, threads).items():
        group = name.split(".")[0]
        group = "stem" if group == "input" else group
        times[group] = times.get(group, 0) + ms
    return times


def ort_blocks(onnx_path, blocks, iterations, prefix):
    import numpy as np
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.enable_profiling = True
    options.profile_file_prefix = prefix
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    for _ in range(iterations + 20):
        session.run(None, {"x": x})
    with open(session.end_profiling()) as f:
        events = json.load(f)
    durations, order = collections.defaultdict(list), []
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            durations[event["name"]].append(event["dur"])
            if event["name"] not in order:
                order.append(event["name"])
    index, times, group = {}, collections.defaultdict(float), "stem"
    for name in order:
        match = re.search(r"blocks\.(\d+)\.(\d+)", name)
        if match:
            index.setdefault(match.groups(), len(index))
            group = f"block{index[match.groups()]}"
        elif index:
            group = "head"
        if group not in blocks:
            group = "head"
        warm = sorted(durations[name][20:])
        times[group] += warm[len(warm) // 2] / 1000
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("network", choices=[n for n, (_, convention) in compare.NETWORKS.items() if convention == "timm"])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        onnx_path = compare.export(args.network, workdir)
        best = {"speccc": {}, "ort": {}}
        for round in range(args.rounds):
            mine = speccc_blocks(args.network, args.iterations)
            theirs = ort_blocks(onnx_path, set(mine), args.iterations, os.path.join(workdir, f"ort_{round}"))
            for engine, times in (("speccc", mine), ("ort", theirs)):
                for group, ms in times.items():
                    best[engine][group] = min(best[engine].get(group, float("inf")), ms)
    print(f"{'block':10s} {'speccc ms':>10s} {'ORT ms':>10s} {'ratio':>6s}")
    for group, ms in best["speccc"].items():
        peer = best["ort"].get(group, float("nan"))
        print(f"{group:10s} {ms:10.3f} {peer:10.3f} {ms / peer:6.2f}")
    total, peer_total = sum(best["speccc"].values()), sum(best["ort"].values())
    print(f"{'total':10s} {total:10.3f} {peer_total:10.3f} {total / peer_total:6.2f}")


if __name__ == "__main__":
    main()
