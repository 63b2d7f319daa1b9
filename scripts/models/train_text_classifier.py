#!/usr/bin/python3
"""Trains a small language identifier on Debian's fortune cookies and exports it to ONNX.

The data are the quotes of Debian's fortunes (English), fortunes-de, fortunes-es and
fortunes-it: real sentences, filed by language. The tokenization is the guide's
ONNXTextProcessor.tokenize_text exactly: text.lower().split(), vocab.get(token, 0), padded
with 0 or truncated to max_length. The model is a bag of embeddings: the mean of the
embeddings of the known tokens (id 0, padding and unknown words, is left out), then a linear
layer to one logit per language.

Run with Debian's interpreter (/usr/bin/python3), which has python3-torch:

    /usr/bin/python3 train_text_classifier.py --out DIR

Writes into DIR:
    text_classifier.onnx  input "input_ids" [batch, max_length] int64, output "logits"
                          [batch, classes] float32; dynamic batch axis
    custom_objects.json   {"vocab": {token: id}, "class_names": [...]}
    metadata.json         max_length, held-out accuracy, data sizes, provenance
    heldout.json          the held-out quotes [{"text": ..., "label": ...}], never trained on

Everything is seeded, so the same packages give the same model. Exits non-zero when the
held-out accuracy is under 0.9 or ONNX Runtime disagrees with torch.
"""
import argparse
import collections
import json
import os
import pathlib
import random
import sys
import time

import numpy as np
import torch
from torch import nn

FORTUNES = pathlib.Path("/usr/share/games/fortunes")
# Language → fortune files (Debian packages fortunes, fortunes-de, fortunes-es, fortunes-it).
ENGLISH = ["art", "computers", "cookie", "definitions", "drugs", "education", "food", "goedel",
           "humorists", "kids", "law", "literature", "love", "magic", "medicine", "men-women",
           "miscellaneous", "news", "people", "pets", "platitudes", "politics", "science",
           "songs-poems", "sports", "wisdom", "work", "zippy"]
SOURCES = {
    "English": [FORTUNES / f for f in ENGLISH],
    "German": sorted(p for p in (FORTUNES / "de").iterdir()
                     if p.suffix == "" and p.name != "asciiart"),
    "Spanish": sorted((FORTUNES / "es").glob("*.fortunes")),
    "Italian": [FORTUNES / "it" / f for f in ("computer", "definizioni", "formiche", "italia",
                                              "itatrek", "leggi", "luke", "luttazzi", "norm",
                                              "paolotedeschi", "zuse")],
}
MAX_LENGTH = 64
PER_LANGUAGE = 3000   # quotes drawn per language (balanced classes)
HELDOUT = 0.15        # share of each language's quotes kept for evaluation
MIN_COUNT = 2         # a word enters the vocabulary when seen this often in training
EMBEDDING_DIM = 32
EPOCHS = 8
SEED = 20240501
OPSET = 13


def tokenize(text):
    """The guide's tokenization, before the vocabulary lookup."""
    return text.lower().split()


def read_quotes(path):
    """A fortune file's quotes: blocks between lines holding '%', whitespace collapsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError):
        return []
    quotes = []
    for block in text.split("\n%\n"):
        quote = " ".join(block.replace("\n%", "").split())
        if len(quote.split()) >= 3:
            quotes.append(quote)
    return quotes


def load_data(rng):
    train, heldout = [], []
    for label, files in enumerate(SOURCES.values()):
        quotes = sorted({q for f in files for q in read_quotes(f)})
        rng.shuffle(quotes)
        quotes = quotes[:PER_LANGUAGE]
        cut = int(len(quotes) * HELDOUT)
        heldout += [(q, label) for q in quotes[:cut]]
        train += [(q, label) for q in quotes[cut:]]
    rng.shuffle(train)
    return train, heldout


def build_vocab(texts):
    counts = collections.Counter(t for text in texts for t in tokenize(text))
    words = sorted((w for w, c in counts.items() if c >= MIN_COUNT), key=lambda w: (-counts[w], w))
    return {w: i + 1 for i, w in enumerate(words)}  # 0: padding and unknown words


def encode(texts, vocab):
    ids = np.zeros((len(texts), MAX_LENGTH), dtype=np.int64)
    for row, text in enumerate(texts):
        tokens = [vocab.get(t, 0) for t in tokenize(text)][:MAX_LENGTH]
        ids[row, : len(tokens)] = tokens
    return ids


class BagOfEmbeddings(nn.Module):
    def __init__(self, vocab_size, classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, EMBEDDING_DIM, padding_idx=0)
        self.classifier = nn.Linear(EMBEDDING_DIM, classes)

    def forward(self, input_ids):
        known = (input_ids != 0).to(torch.float32).sum(dim=1, keepdim=True).clamp(min=1.0)
        return self.classifier(self.embedding(input_ids).sum(dim=1) / known)


def write_json(path, value, indent=None):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=indent, ensure_ascii=False)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    train, heldout = load_data(rng)
    vocab = build_vocab(q for q, _ in train)
    class_names = list(SOURCES)
    x_train = torch.from_numpy(encode([q for q, _ in train], vocab))
    y_train = torch.tensor([label for _, label in train])
    x_held = torch.from_numpy(encode([q for q, _ in heldout], vocab))
    y_held = np.array([label for _, label in heldout])
    print(f"train: {len(train)} quotes, held out: {len(heldout)}, vocabulary: {len(vocab)} words",
          file=sys.stderr)

    model = BagOfEmbeddings(len(vocab) + 1, len(class_names))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    start = time.monotonic()
    for epoch in range(EPOCHS):
        order = torch.randperm(len(train))
        for i in range(0, len(train), 64):
            batch = order[i : i + 64]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}", file=sys.stderr)
    model.eval()
    with torch.no_grad():
        held_logits = model(x_held).numpy()
    accuracy = float((held_logits.argmax(axis=1) == y_held).mean())
    print(f"trained in {time.monotonic() - start:.1f} s; held-out accuracy {accuracy:.4f}",
          file=sys.stderr)

    onnx_path = os.path.join(args.out, "text_classifier.onnx")
    torch.onnx.export(model, x_held[:1], onnx_path, input_names=["input_ids"],
                      output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=OPSET)
    write_json(os.path.join(args.out, "custom_objects.json"),
               {"vocab": vocab, "class_names": class_names})
    write_json(os.path.join(args.out, "metadata.json"), {
        "max_length": MAX_LENGTH,
        "heldout_accuracy": round(accuracy, 4),
        "train_examples": len(train),
        "heldout_examples": len(heldout),
        "vocab_size": len(vocab),
        "source": "Debian fortunes, fortunes-de, fortunes-es, fortunes-it",
        "converted_from": "pytorch",
    }, indent=1)
    write_json(os.path.join(args.out, "heldout.json"),
               [{"text": q, "label": class_names[label]} for q, label in heldout], indent=0)

    failed = []
    if accuracy < 0.9:
        failed.append(f"held-out accuracy {accuracy:.3f} < 0.9")
    # ONNX Runtime is compared with torch by check_onnx_vs_torch.py under the .venv's python
    # (Debian's has no onnxruntime): build-text-classifier runs it on this reference.
    np.savez(os.path.join(args.out, "torch_reference.npz"), input=x_held.numpy(),
             output=np.asarray(held_logits))
    if failed:
        sys.exit("train: check failed: " + "; ".join(failed))
    print(f"train: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
