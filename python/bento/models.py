"""bento.models: BentoML's bentoml.models over the shared store, for models of any framework."""
import os
import typing as t

from . import _core
from ._types import Model, Tag


def list(name: t.Optional[str] = None) -> t.List[Model]:  # noqa: A001: BentoML's name
    """Every model, or every version of `name`, newest first."""
    return [Model(raw) for raw in _core.list(str(name or ""))]


def get(tag: t.Union[str, Tag]) -> Model:
    """The model a tag names: "name", "name:latest", "name:version" or a version prefix."""
    return Model(_core.get(str(tag), False))


def delete(tag: t.Union[str, Tag]) -> None:
    """Removes one version; `latest` then names the newest remaining one."""
    _core.delete(str(tag))


def export_model(tag: t.Union[str, Tag], path: t.Union[str, os.PathLike]) -> str:
    """Writes a .bentomodel archive that BentoML imports; returns its path."""
    return _core.export_model(str(tag), os.fspath(path))


def import_model(path: t.Union[str, os.PathLike]) -> Model:
    """Imports a .bentomodel archive, BentoML's or bento's."""
    return get(_core.import_model(os.fspath(path)))
