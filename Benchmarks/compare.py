#!/usr/bin/env python3
"""speccc against ONNX Runtime and OpenVINO, side by side on this machine.

For each network: `specrun export-weights` writes the deterministic weights `specrun bench`
uses; the reference PyTorch model loads them (strict), is exported to ONNX (opset 17), and
ONNX Runtime and OpenVINO run it. Then, for R rounds, each engine runs K timed batch-1
inferences in turn (speccc, ORT, OpenVINO, speccc, ORT, ...), and the table reports the
median over rounds of each round's median, speccc / best peer, and the median and range
of the rounds' own ratios (speccc / best peer within one round). A second table gives
throughput at batch 8 (`specrun bench --batch 8`: on one thread speccc runs the 8 images
one after another; on T threads, T side by side, each in its own arena; the peers get one
8-image tensor).

  python3 Benchmarks/compare.py --install            # pip install the peers first
  python3 Benchmarks/compare.py [--threads 1 2] [--rounds 5] [--iterations 100] [net ...]

Needs MICRONET_REPO (a checkout of github.com/liyunsheng13/micronet) for MicroNet.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Scripts"))
SPECRUN = os.path.join(ROOT, ".build", "release", "specrun")

# network: (reference builder, convention of the exported weights, peak-limited ms label)
NETWORKS = {
    "mobilenet_v1": (lambda ref: ref.timm_mobilenet_v1(1.0), "timm"),
    "mobilenet_v2": (lambda ref: ref.timm_model("mobilenetv2_100"), "timm"),
    "mobilenet_v3_large": (lambda ref: ref.timm_model("mobilenetv3_large_100"), "timm"),
    "mobilenet_v3_small": (lambda ref: ref.timm_model("mobilenetv3_small_100"), "timm"),
    "pp_lcnet": (lambda ref: ref.timm_model("lcnet_100"), "timm"),
    "micronet_m3": (lambda ref: ref.micronet("m3"), "micronet"),
}
# The single-core FMA peak the issue measured on its Zen 4 machine. On another machine pass
# --peak-gflops with its own (Benchmarks/fma_scaling.c measures it), or the limit column lies.
PEAK_GFLOPS = 110


def install():
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                           "onnxruntime", "openvino", "onnx", "torch", "torchvision", "timm", "safetensors", "numpy"])


def export(network, workdir, batch=1):
    import torch
    from safetensors.torch import load_file
    import reference_models as ref
    build, convention = NETWORKS[network]
    weights = os.path.join(workdir, network + ".safetensors")
    subprocess.check_call([SPECRUN, "export-weights", network, "--output", weights, "--convention", convention],
                          stdout=subprocess.DEVNULL)
    model = build(ref).eval()
    model.load_state_dict(load_file(weights), strict=False)
    missing = set(model.state_dict()) - set(load_file(weights))
    assert all(k.endswith("num_batches_tracked") for k in missing), f"{network}: weights missing {sorted(missing)[:3]}"
    path = os.path.join(workdir, f"{network}_b{batch}.onnx")
    torch.onnx.export(model, torch.zeros(batch, 3, 224, 224), path, opset_version=17, input_names=["x"],
                      output_names=["y"], dynamo=False)
    return path


def peers(onnx_path, threads, batch=1):
    import numpy as np
    import onnxruntime as ort
    import openvino as ov
    x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    core = ov.Core()
    # On CPUs with AVX512_BF16 or AMX, OpenVINO runs bf16 unless told otherwise; the comparison is fp32.
    compiled = core.compile_model(onnx_path, "CPU", {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
                                                       "NUM_STREAMS": 1, "INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    return {
        "ONNX Runtime": lambda: session.run(None, {"x": x}),
        "OpenVINO": lambda: request.infer({0: x}),
    }


def time_python(run, iterations, warmup=10):
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def time_speccc(network, threads, iterations, batch=1):
    out = subprocess.check_output([SPECRUN, "bench", network, "--threads", str(threads), "--iterations", str(iterations),
                                   "--batch", str(batch), "--json"])
    return json.loads(out)["median_ms"], json.loads(out)["macs"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("networks", nargs="*", default=list(NETWORKS))
    parser.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--batch", type=int, default=8, help="batch size of the throughput table (0: none)")
    parser.add_argument("--install", action="store_true")
    parser.add_argument("--peak-gflops", type=float, default=PEAK_GFLOPS,
                        help="single-core FMA peak, for the FMA-peak limit column")
    args = parser.parse_args()
    if args.install:
        install()
    if not os.path.exists(SPECRUN):
        sys.exit(f"{SPECRUN} not found: run `swift build -c release --product specrun` first")
    import onnxruntime
    import openvino
    print(f"ONNX Runtime {onnxruntime.__version__}, OpenVINO {openvino.__version__}; batch 1, 224x224, fp32; "
          f"{args.rounds} rounds of {args.iterations} runs, engines alternating; FMA peak {args.peak_gflops:g} GFLOP/s")
    rows, throughput = [], []
    with tempfile.TemporaryDirectory() as workdir:
        for network in args.networks:
            onnx_path = export(network, workdir)
            for threads in args.threads:
                ms, macs, ratios = alternate(network, onnx_path, threads, args.rounds, args.iterations, 1)
                best = min(ms["ONNX Runtime"], ms["OpenVINO"])
                rows.append((network, threads, ms["speccc"], ms["ONNX Runtime"], ms["OpenVINO"], ms["speccc"] / best,
                             2 * macs / (args.peak_gflops * 1e6), ratios))
                print(f"  {network} x{threads}: speccc {ms['speccc']:.2f} ms, ORT {ms['ONNX Runtime']:.2f}, "
                      f"OpenVINO {ms['OpenVINO']:.2f}", flush=True)
            if args.batch > 1:
                batch_path = export(network, workdir, args.batch)
                for threads in args.threads:
                    ms, _, _ = alternate(network, batch_path, threads, max(1, args.rounds // 2), max(1, args.iterations // args.batch),
                                      args.batch)
                    rate = {name: args.batch / (value / 1000) for name, value in ms.items()}
                    throughput.append((network, threads, rate["speccc"], rate["ONNX Runtime"], rate["OpenVINO"]))
                    print(f"  {network} x{threads} batch {args.batch}: speccc {rate['speccc']:.0f} images/s, "
                          f"ORT {rate['ONNX Runtime']:.0f}, OpenVINO {rate['OpenVINO']:.0f}", flush=True)
    print()
    print("| network | threads | speccc ms | ONNX Runtime ms | OpenVINO ms | speccc / best peer "
          "| per round: median (min-max) | FMA-peak limit ms |")
    print("|---|---|---|---|---|---|---|---|")
    for network, threads, ours, ort_ms, ov_ms, ratio, peak, ratios in rows:
        spread = f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"
        print(f"| {network} | {threads} | {ours:.2f} | {ort_ms:.2f} | {ov_ms:.2f} | {ratio:.2f} | {spread} "
              f"| {peak if threads == 1 else peak / 2:.1f} |")
    if throughput:
        print()
        print(f"| network | threads | speccc images/s | ONNX Runtime images/s | OpenVINO images/s | (batch {args.batch}) |")
        print("|---|---|---|---|---|---|")
        for network, threads, ours, ort_rate, ov_rate in throughput:
            print(f"| {network} | {threads} | {ours:.0f} | {ort_rate:.0f} | {ov_rate:.0f} | |")


def alternate(network, onnx_path, threads, rounds, iterations, batch):
    """Runs speccc and the peers in turn, `rounds` times; medians over rounds of each round's median."""
    engines = peers(onnx_path, threads, batch)
    results = {"speccc": [], "ONNX Runtime": [], "OpenVINO": []}
    macs = 0
    for _ in range(rounds):
        median, macs = time_speccc(network, threads, iterations, batch)
        results["speccc"].append(median)
        for name, run in engines.items():
            results[name].append(time_python(run, iterations))
    # Each round's speccc / best peer, from runs seconds apart: this VM's speed changes by
    # 20-30% within seconds, and the spread shows how much the medians above can move.
    ratios = sorted(ours / min(ort, ov) for ours, ort, ov in
                    zip(results["speccc"], results["ONNX Runtime"], results["OpenVINO"]))
    medians = {name: statistics.median(values) for name, values in results.items()}
    return medians, macs, ratios

if __name__ == "__main__":
    main()
