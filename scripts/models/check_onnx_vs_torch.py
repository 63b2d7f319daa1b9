"""The model-build check that ONNX Runtime computes what torch computed: the exporters run
under Debian's python (python3-torch), which has no onnxruntime, so they leave the input and
torch's output in an .npz beside the model, and this script, run by the .venv's python (the
onnxruntime that the tests pin), compares. Exits 1 when they differ by more than --tolerance.

    .venv/bin/python check_onnx_vs_torch.py MODEL.onnx REFERENCE.npz --input NAME --tolerance 1e-3
"""
import argparse
import sys

import numpy as np
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("reference", help=".npz with arrays 'input' and 'output' (torch's)")
    ap.add_argument("--input", required=True, help="the model's input name")
    ap.add_argument("--tolerance", type=float, required=True)
    args = ap.parse_args()
    reference = np.load(args.reference)
    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    got = session.run(None, {args.input: reference["input"]})[0]
    if got.shape != reference["output"].shape:
        sys.exit(f"check: onnxruntime's output shape {got.shape} is not torch's "
                 f"{reference['output'].shape}")
    diff = float(np.abs(got - reference["output"]).max())
    print(f"check: onnxruntime {ort.__version__} vs torch max |diff| {diff:.2e}", file=sys.stderr)
    if diff > args.tolerance:
        sys.exit(f"check: onnxruntime differs from torch by {diff} > {args.tolerance}")


if __name__ == "__main__":
    main()
