"""The store's objects as BentoML's Python API shows them: Tag, ModelInfo and Model."""
import datetime
import json
import pathlib
import pickle
import typing as t


class Tag:
    """A model's name and version; str() is "name:version"."""

    def __init__(self, name: str, version: t.Optional[str] = None):
        self.name, self.version = name, version

    @classmethod
    def from_str(cls, text: str) -> "Tag":
        name, _, version = text.partition(":")
        return cls(name, version or None)

    def __str__(self):
        return f"{self.name}:{self.version}" if self.version else self.name

    def __repr__(self):
        return f"Tag({str(self)!r})"

    def __eq__(self, other):
        if isinstance(other, str):
            other = Tag.from_str(other)
        return isinstance(other, Tag) and (self.name, self.version) == (other.name, other.version)

    def __hash__(self):
        return hash((self.name, self.version))


class ModelSignature(t.NamedTuple):
    batchable: bool = False
    batch_dim: t.Tuple[int, int] = (0, 0)


class ModelInfo:
    """model.yaml's contents: labels, metadata, signatures, module, creation time."""

    def __init__(self, raw: dict):
        self.tag = Tag(raw["name"], raw["version"])
        self.module = raw["module"]
        self.labels = dict(raw["labels"])
        self.metadata = json.loads(raw["metadata"])
        self.signatures = {name: ModelSignature(batchable, (i, o))
                           for name, (batchable, i, o) in raw["signatures"].items()}
        self.creation_time = datetime.datetime.fromtimestamp(raw["creation_time"],
                                                             datetime.timezone.utc)


class Model:
    """A stored model, as bentoml.models.get returns it: tag, path, info, custom objects."""

    def __init__(self, raw: dict):
        self.tag = Tag(raw["name"], raw["version"])
        self.path = pathlib.Path(raw["path"])
        self.info = ModelInfo(raw)
        self._custom_objects = json.loads(raw["custom_objects"])

    @property
    def custom_objects(self) -> dict:
        """The model's custom objects: custom_objects.json, or else the pickle BentoML (or
        bento, for objects JSON cannot hold) wrote, unpickled as BentoML does. Unpickling runs
        code the pickle names: load only models you trust, as with BentoML."""
        if (self.path / "custom_objects.json").exists() or \
                not (self.path / "custom_objects.pkl").exists():
            return self._custom_objects
        with open(self.path / "custom_objects.pkl", "rb") as f:
            return pickle.load(f)  # noqa: S301: the store's own file, as BentoML reads it

    def path_of(self, item: str) -> pathlib.Path:
        return self.path / item

    @property
    def metadata(self) -> dict:
        """info.metadata, under the name BentoML's ONNX guide reads it by (model_ref.metadata);
        BentoML's own Model has no such attribute."""
        return self.info.metadata

    def __repr__(self):
        return f"Model(tag={str(self.tag)!r}, path={str(self.path)!r})"
