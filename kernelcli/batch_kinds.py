"""Batches of volumes, and of volumes beside images: which kinds a batch's inputs are, and the job that
runs each input as a call of its own would (:func:`by_kind`).

A volume file (NIfTI, MGH, NRRD, MetaImage) in a batch is one volume, convolved or pooled in 3-D into a
volume (``<stem>_<suffix>.nii.gz``); an image or array file takes the image job.  A DICOM series
folder is one volume and goes alone (without ``--out-dir``), so a batch refuses one.

>>> from pathlib import Path
>>> input_kinds([Path("samples/phantom.png")])
Kinds(images=True, volumes=False)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .errors import UsageError
from .records import record


@record(frozen=True)
class Kinds:
    """Whether a batch's inputs hold images (or arrays) and whether they hold volumes."""

    images: bool
    volumes: bool


def input_kinds(inputs: list[Path], recursive: bool = False) -> Kinds:
    """The kinds of the files ``inputs`` (files, folders, patterns) stand for; a DICOM series folder among
    them is refused (exit 2)."""
    from .batch_plan import discover
    from .volume_inputs import is_volume_input

    series = [str(p) for p in inputs if str(p) != "-" and Path(p).is_dir() and is_volume_input(p)]
    if series:
        raise UsageError(f"{series[0]}: a DICOM series folder is one volume: give it alone, without --out-dir "
                         "(a batch takes volume files: .nii, .nii.gz, .mgz, .nrrd, .mha)")
    volumes = [is_volume_input(s.path) for s in discover(inputs, recursive=recursive).sources]
    return Kinds(images=not all(volumes), volumes=any(volumes))


def by_kind(input_path: Path, *, out: Path, image_job: Callable[..., Any] | None, volume_job: Callable[..., Any],
            image_refusal: Exception | None = None, image_options: dict[str, Any] | None = None,
            volume_options: dict[str, Any] | None = None, command: str | None = None) -> Any:
    """Run ``volume_job`` on a volume file and ``image_job`` on any other input, as ``job(input, out=...)``; with
    no image job (the options suit volumes only: a kernel sized in mm), an image fails alone with
    ``image_refusal``, the error (and exit code) building the image job gave.  ``image_options``: the
    options for images alone (name: value, None when not given); a volume given one fails alone, naming it
    and ``command``, the command run; ``volume_options`` likewise for volumes alone (``--window``), which an image fails on."""
    from .volume_inputs import is_volume_input, refuse_image_options, refuse_volume_options

    if is_volume_input(input_path):
        refuse_image_options(input_path, image_options or {}, command=command)
        return volume_job(input_path, out=out)
    refuse_volume_options([input_path], volume_options or {})
    if image_job is None:
        raise image_refusal or UsageError(f"{input_path}: not a volume")
    return image_job(input_path, out=out)
