#!/usr/bin/python3
"""Exports torchvision's ImageNet MobileNetV2 (IMAGENET1K_V1 weights) to ONNX.

Run with Debian's interpreter (/usr/bin/python3), which has python3-torch 1.13 and
python3-torchvision 0.14 (see requirements-apt.txt):

    /usr/bin/python3 export_mobilenet_v2.py --weights mobilenet_v2-b0353104.pth --out DIR

Writes into DIR:
    mobilenet_v2.onnx    input "input" [batch,3,224,224] float32 (normalized), output "output"
                         [batch,1000] logits; dynamic batch axis
    class_names.json     the 1000 ImageNet class names, index-aligned with the output
    custom_objects.json  {"class_names": [...], "preprocessing_params": {"mean": [...], "std": [...]}}
    metadata.json        input shape, classes, opset, provenance

and checks the result: the ONNX checker (python3-onnx), ONNX Runtime against torch when it can be
imported, and the predictions on two known images from python3-skimage (a cat, a coffee cup).
Exits non-zero when a check fails.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

OPSET = 13
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
INPUT_SHAPE = [1, 3, 224, 224]
SOURCE = "torchvision mobilenet_v2 IMAGENET1K_V1"

# ImageNet indices the sanity check expects.
CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian cat, Siamese cat, Egyptian cat
COFFEE_CLASSES = {967, 968}  # espresso, cup


def class_names():
    """torchvision's own list: the one its ImageNet weights are index-aligned with."""
    from torchvision.models._meta import _IMAGENET_CATEGORIES

    names = list(_IMAGENET_CATEGORIES)
    if len(names) != 1000 or names[281] != "tabby" or names[967] != "espresso":
        sys.exit("export: unexpected torchvision ImageNet category list")
    return names


def preprocess(image):
    """The guide's preprocessing: RGB, 224x224 (Pillow's default filter), /255, (x-mean)/std, NCHW."""
    x = np.asarray(image.convert("RGB").resize((224, 224)), dtype=np.float32) / 255.0
    x = (x - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    return x.transpose(2, 0, 1)[np.newaxis].astype(np.float32)


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", required=True, help="path to mobilenet_v2-b0353104.pth")
    ap.add_argument("--out", required=True, help="output folder")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    print(f"export: torch {torch.__version__}, torchvision {torchvision.__version__}", file=sys.stderr)

    torch.set_grad_enabled(False)
    model = torchvision.models.mobilenet_v2()
    model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    model.eval()

    onnx_path = os.path.join(args.out, "mobilenet_v2.onnx")
    torch.onnx.export(
        model,
        torch.zeros(INPUT_SHAPE),
        onnx_path,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        opset_version=OPSET,
        do_constant_folding=True,
    )

    names = class_names()
    write_json(os.path.join(args.out, "class_names.json"), names)
    write_json(
        os.path.join(args.out, "custom_objects.json"),
        {"class_names": names, "preprocessing_params": {"mean": MEAN, "std": STD}},
    )
    write_json(
        os.path.join(args.out, "metadata.json"),
        {
            "input_shape": INPUT_SHAPE,
            "output_classes": len(names),
            "opset_version": OPSET,
            "converted_from": "pytorch",
            "source": SOURCE,
        },
    )

    # --- checks ------------------------------------------------------------------------------
    failed = []
    try:
        import onnx
    except ImportError:
        print("check: onnx not importable, checker skipped", file=sys.stderr)
    else:
        m = onnx.load(onnx_path)
        onnx.checker.check_model(m)
        ins = [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in m.graph.input]
        outs = [(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]) for o in m.graph.output]
        print(f"check: onnx checker ok; inputs {ins}, outputs {outs}")

    from skimage import data

    images = {"chelsea": data.chelsea(), "coffee": data.coffee()}
    batch = np.concatenate([preprocess(Image.fromarray(a)) for a in images.values()])
    logits = model(torch.from_numpy(batch)).numpy()
    if logits.shape != (len(images), 1000):
        failed.append(f"torch output shape {logits.shape}")

    for (name, _), row in zip(images.items(), logits):
        e = np.exp(row - row.max())
        probs = e / e.sum()
        top5 = np.argsort(-row)[:5]
        print(f"check: {name} top-5: " + "; ".join(f"{i} {names[i]} {probs[i]:.3f}" for i in top5))
        if name == "chelsea" and top5[0] not in CAT_CLASSES:
            failed.append(f"chelsea top-1 is {top5[0]} ({names[top5[0]]}), not a cat")
        if name == "coffee" and not COFFEE_CLASSES & set(top5.tolist()):
            failed.append("coffee top-5 has neither espresso nor cup")

    # ONNX Runtime is compared with torch by check_onnx_vs_torch.py under the .venv's python
    # (Debian's has no onnxruntime): build-mobilenet-v2 runs it on this reference.
    np.savez(os.path.join(args.out, "torch_reference.npz"), input=batch, output=logits)

    if failed:
        sys.exit("export: check failed: " + "; ".join(failed))
    print(f"export: wrote {args.out}")


if __name__ == "__main__":
    main()
