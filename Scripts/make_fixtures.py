#!/usr/bin/env python3
"""Regenerates the parity fixtures in Tests/Fixtures from the PyTorch reference models.

Each fixture is a small network (reduced width, 10 classes, low resolution) with random
weights, randomized BatchNorm affine terms and calibrated BatchNorm statistics:
  <name>.safetensors   model.state_dict(), saved as users save it
  <name>.input.npy     float32 [2, 3, R, R] images
  <name>.output.npy    float32 [2, 10] reference logits
Tests/ParityNetworks/<name>.spec describes the same network for speccc.

  pip install torch torchvision timm safetensors numpy
  git clone https://github.com/liyunsheng13/micronet   # the MicroNet reference
  MICRONET_REPO=micronet python3 Scripts/make_fixtures.py [name ...]
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import reference_models as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures")

# name: (builder, resolution). Widths and head sizes match the .spec files.
CASES = {
    "parity_v1_timm": (lambda: ref.timm_mobilenet_v1(0.25, 10), 128),
    "parity_v2_timm": (lambda: ref.timm_mobilenet_v2(0.35, 10, head=256), 96),
    "parity_v2_torchvision": (lambda: ref.torchvision_mobilenet_v2(0.5, 10, head=256), 96),
    "parity_lcnet_timm": (lambda: ref.timm_lcnet(0.35, 10, head=256), 96),
    "parity_micronet_m0": (lambda: ref.micronet("m0", 10, out_ch=128), 96),
    "parity_micronet_m1": (lambda: ref.micronet("m1", 10, out_ch=192), 96),
    "parity_micronet_m2": (lambda: ref.micronet("m2", 10, out_ch=208), 96),
    "parity_micronet_m3": (lambda: ref.micronet("m3", 10, out_ch=208), 64),
    "parity_v3_large_timm": (lambda: ref.timm_mobilenet_v3("large", 0.35, 10, head=320), 96),
    "parity_v3_large_torchvision": (lambda: ref.torchvision_mobilenet_v3("large", 0.5, 10), 96),
    "parity_v3_small_timm": (lambda: ref.timm_mobilenet_v3("small", 0.35, 10, head=256), 112),
    "parity_v3_small_torchvision": (lambda: ref.torchvision_mobilenet_v3("small", 0.5, 10), 112),
}


def make(name, build, resolution, seed):
    model = ref.randomize_and_calibrate(build(), resolution, seed)
    dependence = ref.input_dependence(model, resolution)
    assert dependence > 0.05, f"{name}: logits barely depend on the input ({dependence:.3f})"
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((2, 3, resolution, resolution)).astype(np.float32)
    logits = ref.reference_output(model, images)
    ref.save_checkpoint(model, os.path.join(OUT, name + ".safetensors"))
    np.save(os.path.join(OUT, name + ".input.npy"), images)
    np.save(os.path.join(OUT, name + ".output.npy"), logits)
    return {"params": ref.parameter_count(model), "input_dependence": round(dependence, 4),
            "max_abs_logit": float(np.abs(logits).max()), "resolution": resolution}


def main():
    os.makedirs(OUT, exist_ok=True)
    selected = sys.argv[1:] or list(CASES)
    summary = {}
    for i, name in enumerate(sorted(CASES)):
        if name not in selected:
            continue
        build, resolution = CASES[name]
        summary[name] = make(name, build, resolution, seed=1000 + i)
        print(name, summary[name])
    path = os.path.join(OUT, "fixtures.json")
    existing = json.load(open(path)) if os.path.exists(path) else {}
    existing.update(summary)
    with open(path, "w") as f:
        json.dump(dict(sorted(existing.items())), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
