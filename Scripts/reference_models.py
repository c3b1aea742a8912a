"""Reference models for speccc's parity checks: timm and torchvision networks with random
weights, randomized BatchNorm affine terms and BatchNorm statistics calibrated on random
inputs, so that their logits depend on the input (a plainly initialized net's barely do).

Used by make_fixtures.py (small committed fixtures) and check_parity.py (full-size models,
fresh checkpoints, compared through `specrun run`).
"""
import numpy as np
import torch


def timm_mobilenet_v3(size, width=1.0, classes=1000, head=None):
    """timm's MobileNetV3 ('large' or 'small'), built by timm's own generator. `head`
    replaces the 1280/1024-wide head conv, which timm keeps at every width (fixtures
    shrink it to stay small); the rest of the model is untouched."""
    import torch.nn as nn
    from timm.models import mobilenetv3
    name = {"large": "mobilenetv3_large_100", "small": "mobilenetv3_small_100"}[size]
    model = mobilenetv3._gen_mobilenet_v3(name, width, num_classes=classes)
    if head is not None:
        model.conv_head = nn.Conv2d(model.conv_head.in_channels, head, 1, bias=True)
        model.classifier = nn.Linear(head, classes)
        model.head_hidden_size = head
    return model


def timm_model(name, classes=1000, **kwargs):
    import timm
    return timm.create_model(name, num_classes=classes, **kwargs)


def timm_mobilenet_v1(width=1.0, classes=1000):
    """timm's MobileNetV1 builder at any width (timm registers only some widths)."""
    from timm.models import efficientnet
    return efficientnet._gen_mobilenet_v1("mobilenetv1_100", width, num_classes=classes)


def timm_mobilenet_v2(width=1.0, classes=1000, head=None):
    from timm.models import efficientnet
    model = efficientnet._gen_mobilenet_v2("mobilenetv2_100", width, num_classes=classes)
    return model if head is None else replace_timm_head(model, head, classes, norm=True)


def timm_lcnet(width=1.0, classes=1000, head=None):
    from timm.models import mobilenetv3
    model = mobilenetv3._gen_lcnet("lcnet_100", width, num_classes=classes)
    return model if head is None else replace_timm_head(model, head, classes)


MICRONET_CONFIGS = {
    # NET_CONFIG, STEM_CH, STEM_GROUPS, OUT_CH, INIT_A, INIT_B: scripts/eval_micronet_m*.sh
    "m0": ("msnx_dy6_exp4_4M_221", 4, (2, 2), 640, (1.0, 1.0), (0.0, 0.0)),
    "m1": ("msnx_dy6_exp6_6M_221", 6, (3, 2), 960, (1.0, 1.0), (0.0, 0.0)),
    "m2": ("msnx_dy9_exp6_12M_221", 8, (4, 2), 1024, (1.0, 1.0), (0.0, 0.0)),
    "m3": ("msnx_dy12_exp6_20M_020", 12, (4, 3), 1024, (1.0, 0.5), (0.0, 0.5)),
}


def micronet(name, classes=1000, out_ch=None):
    """The official MicroNet (github.com/liyunsheng13/micronet), configured as its eval
    scripts do. Set MICRONET_REPO to a checkout of it; its code is not part of speccc."""
    import contextlib
    import importlib
    import io
    import os
    import sys
    import types
    repo = os.environ.get("MICRONET_REPO")
    if not repo or not os.path.exists(os.path.join(repo, "backbone", "micronet.py")):
        raise SystemExit("set MICRONET_REPO to a checkout of https://github.com/liyunsheng13/micronet")
    if repo not in sys.path:
        sys.path.insert(0, repo)
    module = importlib.import_module("backbone.micronet")
    net, stem, groups, out, init_a, init_b = MICRONET_CONFIGS[name]
    ns = types.SimpleNamespace
    micro = ns(BLOCK="DYMicroBlock", NET_CONFIG=net, STEM_CH=stem, STEM_GROUPS=groups, STEM_DILATION=1,
               STEM_MODE="spatialsepsf", OUT_CH=out_ch or out, DEPTHSEP=True, POINTWISE="group", DROPOUT=0.1, SHUFFLE=True)
    act = ns(MODULE="DYShiftMax", ACT_MAX=2.0, LINEARSE_BIAS=False, INIT_A_BLOCK3=(1.0, 0.0), INIT_A=init_a,
             INIT_B=init_b, REDUCTION=8)
    with contextlib.redirect_stdout(io.StringIO()):  # the official code prints every layer
        return module.MicroNet(ns(MODEL=ns(MICRONETS=micro, ACTIVATION=act)), num_classes=classes)


def torchvision_mobilenet_v2(width=1.0, classes=1000, head=None):
    """`head` replaces the 1280-wide last conv (fixtures shrink it to stay small)."""
    import torch.nn as nn
    import torchvision
    from torchvision.ops.misc import Conv2dNormActivation
    model = torchvision.models.mobilenet_v2(width_mult=width, num_classes=classes)
    if head is not None:
        model.features[18] = Conv2dNormActivation(model.features[18][0].in_channels, head, kernel_size=1,
                                                  norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU6)
        model.classifier[1] = nn.Linear(head, classes)
    return model


def replace_timm_head(model, head, classes, norm=False):
    """A narrower timm head conv (+ BatchNorm when the model has one) and classifier."""
    import torch.nn as nn
    from timm.layers import BatchNormAct2d
    model.conv_head = nn.Conv2d(model.conv_head.in_channels, head, 1, bias=not norm)
    if norm:
        model.bn2 = BatchNormAct2d(head, act_layer=nn.ReLU6)
    model.classifier = nn.Linear(head, classes)
    model.num_features = model.head_hidden_size = head
    return model


def torchvision_mobilenet_v3(size, width=1.0, classes=1000):
    import torchvision
    build = {"large": torchvision.models.mobilenet_v3_large, "small": torchvision.models.mobilenet_v3_small}[size]
    return build(width_mult=width, num_classes=classes)


def randomize_and_calibrate(model, resolution, seed, batches=4, batch_size=8):
    """Random BatchNorm affine terms, then running statistics measured on random images."""
    torch.manual_seed(seed)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in norms:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration batches
        model.train()
        for _ in range(batches):
            model(torch.randn(batch_size, 3, resolution, resolution))
    model.eval()
    return model


def input_dependence(model, resolution, seed=1234, batch_size=8):
    """Mean |logit - mean over the batch| relative to mean |logit|: ~0 when the output
    ignores the input."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        logits = model(torch.randn(batch_size, 3, resolution, resolution, generator=g))
    return float((logits - logits.mean(0)).abs().mean() / logits.abs().mean())


def save_checkpoint(model, path, prefix=""):
    """What a user does: safetensors.torch.save_file(model.state_dict(), path). `prefix`
    mimics checkpoints saved from nn.DataParallel ('module.')."""
    from safetensors.torch import save_file
    save_file({prefix + k: v.contiguous() for k, v in model.state_dict().items()}, path)


def reference_output(model, images):
    with torch.no_grad():
        return model(torch.from_numpy(images)).numpy().astype(np.float32)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def conv_linear_macs(model, resolution):
    """Multiply-accumulates of every Conv2d and Linear for one image, measured with hooks."""
    import torch.nn as nn
    total = [0]

    def conv(module, inputs, output):
        kh, kw = module.kernel_size
        total[0] += output[0].numel() * (module.in_channels // module.groups) * kh * kw

    def linear(module, inputs, output):
        total[0] += module.in_features * module.out_features

    hooks = [m.register_forward_hook(conv if isinstance(m, nn.Conv2d) else linear)
             for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, resolution, resolution))
    for h in hooks:
        h.remove()
    return total[0]
