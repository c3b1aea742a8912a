#!/usr/bin/env python3
"""Prints params and conv+linear MACs of each shipped spec's reference model, as PyTorch
counts them: the numbers Tests/SpecIRTests/NetworkSizeTests.swift asserts.

  MICRONET_REPO=<checkout of liyunsheng13/micronet> python3 Scripts/measure_sizes.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import reference_models as ref  # noqa: E402

MODELS = [
    ("mobilenet_v1.spec", lambda: ref.timm_mobilenet_v1(1.0)),
    ("mobilenet_v1_075.spec", lambda: ref.timm_mobilenet_v1(0.75)),
    ("mobilenet_v1_050.spec", lambda: ref.timm_mobilenet_v1(0.5)),
    ("mobilenet_v1_025.spec", lambda: ref.timm_mobilenet_v1(0.25)),
    ("mobilenet_v2.spec", lambda: ref.timm_model("mobilenetv2_100")),
    ("mobilenet_v3_large.spec", lambda: ref.timm_model("mobilenetv3_large_100")),
    ("mobilenet_v3_large_075.spec", lambda: ref.timm_model("mobilenetv3_large_075")),
    ("mobilenet_v3_small.spec", lambda: ref.timm_model("mobilenetv3_small_100")),
    ("pp_lcnet.spec", lambda: ref.timm_model("lcnet_100")),
    ("pp_lcnet_050.spec", lambda: ref.timm_model("lcnet_050")),
    ("pp_lcnet_075.spec", lambda: ref.timm_model("lcnet_075")),
    ("pp_lcnet_150.spec", lambda: ref.timm_model("lcnet_150")),
    ("micronet_m0.spec", lambda: ref.micronet("m0")),
    ("micronet_m1.spec", lambda: ref.micronet("m1")),
    ("micronet_m2.spec", lambda: ref.micronet("m2")),
    ("micronet_m3.spec", lambda: ref.micronet("m3")),
]

if __name__ == "__main__":
    for spec, build in MODELS:
        model = build()
        print(f'("{spec}", {ref.parameter_count(model):_}, {ref.conv_linear_macs(model, 224):_}),')
