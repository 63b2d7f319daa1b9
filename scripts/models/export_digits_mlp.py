#!/usr/bin/python3
"""Trains a small MLP on scikit-learn's handwritten digits and exports it to ONNX.

The digits dataset (1,797 8x8 images, 64 pixel intensities 0..16, 10 classes) ships with
Debian's python3-sklearn, so nothing is downloaded. Run with Debian's interpreter, which has
python3-torch and python3-sklearn (see requirements-apt.txt):

    /usr/bin/python3 export_digits_mlp.py --out DIR

Everything is seeded, so the same packages give the same model. Writes into DIR:
    digits_mlp.onnx   input "input" [batch, 64] float32 (raw pixel values 0..16), output
                      "probabilities" [batch, 10] float32 (softmax); dynamic batch axis "batch"
    metadata.json     held-out accuracy, split, architecture, provenance
    heldout.json      the dataset row indices held out from training (for tests)

and checks the result: the ONNX checker (python3-onnx), the symbolic batch dim, and the
held-out accuracy (at least 0.9). Exits non-zero when a check fails. (The end-to-end tests
check that ONNX Runtime reaches the same accuracy.)
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
from sklearn.datasets import load_digits

OPSET = 13
SEED = 0
HIDDEN = 64
EPOCHS = 300
TEST_FRACTION = 0.25
MIN_ACCURACY = 0.9


def split(n):
    """A seeded permutation: the first 75% train, the rest is held out."""
    order = np.random.default_rng(SEED).permutation(n)
    n_test = int(round(n * TEST_FRACTION))
    return order[n_test:], order[:n_test]


def build_model():
    """Pixels 0..16 are scaled inside the model, so clients send the dataset's raw rows."""
    return torch.nn.Sequential(
        torch.nn.Linear(64, HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, 10),
    )


class WithScalingAndSoftmax(torch.nn.Module):
    def __init__(self, mlp):
        super().__init__()
        self.mlp = mlp

    def forward(self, x):
        return torch.softmax(self.mlp(x / 16.0), dim=1)


def train(x, y):
    torch.manual_seed(SEED)
    mlp = build_model()
    optimizer = torch.optim.Adam(mlp.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x / 16.0), torch.from_numpy(y)
    for _ in range(EPOCHS):  # full batch: 1,348 rows
        optimizer.zero_grad()
        loss = loss_fn(mlp(xt), yt)
        loss.backward()
        optimizer.step()
    print(f"train: final loss {loss.item():.4f}", file=sys.stderr)
    return WithScalingAndSoftmax(mlp).eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    digits = load_digits()
    x = digits.data.astype(np.float32)
    y = digits.target.astype(np.int64)
    train_idx, test_idx = split(len(x))
    model = train(x[train_idx], y[train_idx])

    with torch.no_grad():
        probs = model(torch.from_numpy(x[test_idx])).numpy()
    accuracy = float((probs.argmax(axis=1) == y[test_idx]).mean())
    print(f"check: held-out accuracy {accuracy:.4f} on {len(test_idx)} rows")

    onnx_path = os.path.join(args.out, "digits_mlp.onnx")
    torch.onnx.export(
        model,
        torch.zeros(1, 64),
        onnx_path,
        input_names=["input"],
        output_names=["probabilities"],
        dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}},
        opset_version=OPSET,
        do_constant_folding=True,
    )
    with open(os.path.join(args.out, "metadata.json"), "w") as f:
        json.dump({
            "accuracy": round(accuracy, 4),
            "test_rows": len(test_idx),
            "train_rows": len(train_idx),
            "split_seed": SEED,
            "dataset": "scikit-learn load_digits (8x8 handwritten digits, pixel values 0..16)",
            "input_shape": ["batch", 64],
            "output_classes": 10,
            "architecture": f"64 -> {HIDDEN} ReLU -> 10, softmax",
            "opset_version": OPSET,
            "converted_from": "pytorch",
        }, f, indent=1)
        f.write("\n")

    with open(os.path.join(args.out, "heldout.json"), "w") as f:
        json.dump(sorted(test_idx.tolist()), f)
        f.write("\n")

    # --- checks ------------------------------------------------------------------------------
    failed = []
    if accuracy < MIN_ACCURACY:
        failed.append(f"held-out accuracy {accuracy:.3f} < {MIN_ACCURACY}")
    model_proto = onnx.load(onnx_path)
    onnx.checker.check_model(model_proto)
    dims = [d.dim_param or d.dim_value for d in model_proto.graph.input[0].type.tensor_type.shape.dim]
    print(f"check: onnx checker ok; input dims {dims}")
    if dims != ["batch", 64]:
        failed.append(f"input dims {dims}, expected ['batch', 64]")

    if failed:
        sys.exit("export: check failed: " + "; ".join(failed))
    print(f"export: wrote {args.out}")


if __name__ == "__main__":
    main()
