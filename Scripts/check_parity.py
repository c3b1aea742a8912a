#!/usr/bin/env python3
"""Checks shipped networks against fresh, full-size PyTorch reference models end to end:
builds each reference (random weights, calibrated BatchNorm), saves its state_dict with
safetensors, runs `specrun run` on it with a batch of random images, and compares logits.

  swift build -c release --product specrun
  python3 Scripts/check_parity.py [network ...]

Needs torch, torchvision, timm, safetensors (pip), and for MicroNet MICRONET_REPO set to a
checkout of github.com/liyunsheng13/micronet. Nothing here is committed or used by
`swift test`; the committed fixtures are made by make_fixtures.py.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import reference_models as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECRUN = os.path.join(ROOT, ".build", "release", "specrun")

# (specrun network, reference label, builder, resolution[, key prefix])
CASES = [
    ("micronet_m0", "official MicroNet-M0", lambda: ref.micronet("m0"), 224),
    ("micronet_m1", "official MicroNet-M1", lambda: ref.micronet("m1"), 224),
    ("micronet_m2", "official MicroNet-M2", lambda: ref.micronet("m2"), 224),
    ("micronet_m3", "official MicroNet-M3", lambda: ref.micronet("m3"), 224),
    ("micronet_m3", "official MicroNet-M3, 'module.' keys", lambda: ref.micronet("m3"), 224, "module."),
    ("mobilenet_v1", "timm mobilenetv1_100", lambda: ref.timm_mobilenet_v1(1.0), 224),
    ("mobilenet_v1_075", "timm MobileNetV1 x0.75", lambda: ref.timm_mobilenet_v1(0.75), 224),
    ("mobilenet_v1_050", "timm MobileNetV1 x0.5", lambda: ref.timm_mobilenet_v1(0.5), 224),
    ("mobilenet_v1_025", "timm MobileNetV1 x0.25", lambda: ref.timm_mobilenet_v1(0.25), 224),
    ("mobilenet_v2", "timm mobilenetv2_100", lambda: ref.timm_model("mobilenetv2_100"), 224),
    ("mobilenet_v2", "torchvision mobilenet_v2", lambda: ref.torchvision_mobilenet_v2(), 224),
    ("mobilenet_v3_large_075", "timm mobilenetv3_large_075", lambda: ref.timm_model("mobilenetv3_large_075"), 224),
    ("pp_lcnet", "timm lcnet_100", lambda: ref.timm_model("lcnet_100"), 224),
    ("pp_lcnet_050", "timm lcnet_050", lambda: ref.timm_model("lcnet_050"), 224),
    ("pp_lcnet_075", "timm lcnet_075", lambda: ref.timm_model("lcnet_075"), 224),
    ("pp_lcnet_150", "timm lcnet_150", lambda: ref.timm_model("lcnet_150"), 224),
    ("mobilenet_v3_large", "timm mobilenetv3_large_100", lambda: ref.timm_mobilenet_v3("large"), 224),
    ("mobilenet_v3_large", "torchvision mobilenet_v3_large", lambda: ref.torchvision_mobilenet_v3("large"), 224),
    ("mobilenet_v3_small", "timm mobilenetv3_small_100", lambda: ref.timm_mobilenet_v3("small"), 224),
    ("mobilenet_v3_small", "torchvision mobilenet_v3_small", lambda: ref.torchvision_mobilenet_v3("small"), 224),
]


def check(network, label, build, resolution, workdir, seed, prefix="", batch=3):
    model = ref.randomize_and_calibrate(build(), resolution, seed)
    dependence = ref.input_dependence(model, resolution)
    weights = os.path.join(workdir, f"{network}-{seed}.safetensors")
    inputs = os.path.join(workdir, f"{network}-{seed}.input.npy")
    outputs = os.path.join(workdir, f"{network}-{seed}.output.npy")
    ref.save_checkpoint(model, weights, prefix)
    images = np.random.default_rng(seed).standard_normal((batch, 3, resolution, resolution)).astype(np.float32)
    np.save(inputs, images)
    expected = ref.reference_output(model, images)
    run = subprocess.run([SPECRUN, "run", network, "--weights", weights, "--input", inputs, "--output", outputs],
                         capture_output=True, text=True)
    if run.returncode != 0:
        return dict(network=network, reference=label, error=run.stderr.strip())
    actual = np.load(outputs)
    scale = float(np.abs(expected).max())
    delta = float(np.abs(actual - expected).max())
    return dict(network=network, reference=label, params=ref.parameter_count(model), batch=batch,
                dependence=dependence, max_delta=delta, max_ref=scale, relative=delta / scale,
                ok=delta <= 1e-4 * scale, top1_agree=bool((actual.argmax(1) == expected.argmax(1)).all()))


def main():
    if not os.path.exists(SPECRUN):
        sys.exit(f"{SPECRUN} not found: run `swift build -c release --product specrun` first")
    selected = set(sys.argv[1:])
    failures = 0
    print(f"{'network':24} {'reference':34} {'params':>10} {'max |Δ|':>10} {'max |ref|':>10} {'relative':>9}  result")
    with tempfile.TemporaryDirectory() as workdir:
        for i, (network, label, build, resolution, *prefix) in enumerate(CASES):
            if selected and network not in selected:
                continue
            r = check(network, label, build, resolution, workdir, seed=2000 + i, prefix=prefix[0] if prefix else "")
            if "error" in r:
                failures += 1
                print(f"{network:24} {label:34} specrun failed: {r['error']}")
                continue
            failures += 0 if r["ok"] else 1
            print(f"{network:24} {label:34} {r['params']:>10,} {r['max_delta']:>10.2e} {r['max_ref']:>10.3f} "
                  f"{r['relative']:>9.1e}  {'ok' if r['ok'] else 'FAIL'} (top-1 {'agrees' if r['top1_agree'] else 'differs'}, "
                  f"input dependence {r['dependence']:.2f})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
