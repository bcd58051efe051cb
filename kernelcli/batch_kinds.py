"""Batches of volumes, and of volumes beside images: which kinds a batch's inputs are, and the job that
runs each input as a call of its own would (:func:`by_kind`).

A volume file (NIfTI, MGH, NRRD, MetaImage) in a batch is one volume, convolved or pooled in 3-D into a
volume (``<stem>_<suffix>.nii.gz``); an image or array file takes the image job.  A DICOM series
folder is one volume and goes alone (without ``--out-dir``), so a batch refuses one.

>>> from pathlib import Path
>>> input_kinds([Path("samples/phantom.png")])
Kinds(images=True, volumes=False, first_image='samples/phantom.png', first_volume=None)
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
    #: the first input of each kind, on which a check of the options is made once (:func:`refuse_what_no_kind_takes`)
    first_image: str | None = None
    first_volume: str | None = None


def input_kinds(inputs: list[Path], recursive: bool = False) -> Kinds:
    """The kinds of the files ``inputs`` (files, folders, patterns) stand for; a DICOM series folder among
    them is refused (exit 2)."""
    from .batch_plan import discover
    from .volume_inputs import is_volume_input

    series = [str(p) for p in inputs if str(p) != "-" and Path(p).is_dir() and is_volume_input(p)]
    if series:
        raise UsageError(f"{series[0]}: a DICOM series folder is one volume: give it alone, without --out-dir "
                         "(a batch takes volume files: .nii, .nii.gz, .mgz, .nrrd, .mha)")
    sources = discover(inputs, recursive=recursive).sources
    volumes = [is_volume_input(s.path) for s in sources]
    first = {kind: next((str(s.path) for s, v in zip(sources, volumes) if v == kind), None) for kind in (False, True)}
    return Kinds(images=not all(volumes), volumes=any(volumes), first_image=first[False], first_volume=first[True])


def refuse_what_no_kind_takes(kinds: Kinds, *, images: Callable[[str], None] | None = None,
                              volumes: Callable[[str], None] | None = None) -> None:
    """Refuse once, before any file, options that no kind of input among a batch's can take (exit 2, or the code of
    the refusal), where each input would fail alone with the same words.  ``images`` and ``volumes``: the checks that
    need no pixel, which a call of its own makes on one input of that kind, made here on the batch's first (None: the
    kind takes everything).  Where one kind present passes, nothing is raised: the inputs of the other fail alone.

    >>> def no_stride(src):
    ...     raise UsageError(f"{src}: --stride not supported for volumes")
    >>> refuse_what_no_kind_takes(Kinds(False, True, None, "a.nii.gz"), volumes=no_stride)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: a.nii.gz: --stride not supported for volumes; every input of the batch is refused alike: nothing was done
    >>> refuse_what_no_kind_takes(Kinds(True, True, "a.png", "a.nii.gz"), volumes=no_stride)  # the images take it
    """
    from .errors import InvalidKernel, KernelcliError

    refusals: list[KernelcliError] = []
    for present, first, check in ((kinds.images, kinds.first_image, images), (kinds.volumes, kinds.first_volume, volumes)):
        if not present:
            continue
        if check is None:
            return
        try:
            check(first)
        except KernelcliError as exc:
            refusals.append(exc)
        else:
            return
    if not refusals:
        return
    said = str(refusals[0]) + (f"; and the volumes among the inputs: {refusals[1]}" if len(refusals) > 1 and str(refusals[1]) != str(refusals[0]) else "")
    # the refusal's plain kind (UsageError, InvalidKernel...): a subclass may take more than a message (ValuesNotHeld)
    kind = next(c for c in type(refusals[0]).__mro__ if c.__module__ == KernelcliError.__module__)
    if not issubclass(kind, InvalidKernel):  # (a kernel's refusal is a file's, as any batch's report words it: audit 233 #1)
        said += "; every input of the batch is refused alike: nothing was done"
    refused = kind(said)
    refused.exit_code = refusals[0].exit_code
    raise refused from None


def by_kind(input_path: Path, *, out: Path, image_job: Callable[..., Any] | None, volume_job: Callable[..., Any],
            image_refusal: Exception | None = None, image_options: dict[str, Any] | None = None,
            volume_options: dict[str, Any] | None = None, command: str | None = None, volume_notes: tuple[str, ...] = ()) -> Any:
    """Run ``volume_job`` on a volume file and ``image_job`` on any other input, as ``job(input, out=...)``; with
    no image job (the options suit volumes only: a kernel sized in mm), an image fails alone with
    ``image_refusal``, the error (and exit code) building the image job gave.  ``image_options``: the
    options for images alone (name: value, None when not given); a volume given one fails alone, naming it
    and ``command``, the command run; ``volume_options`` likewise for volumes alone (``--window``), which an image fails on;
    ``volume_notes``: what a volume's record says first, as the call's notes of one volume alone (a ``--pad-value``
    its default mode does not use, where the images' mode does)."""
    from .volume_inputs import is_volume_input, refuse_image_options, refuse_volume_options

    if is_volume_input(input_path):
        refuse_image_options(input_path, image_options or {}, command=command)
        result = volume_job(input_path, out=out)
        if volume_notes:
            result.notes = list(volume_notes) + [n for n in result.notes if n not in volume_notes]
        return result
    refuse_volume_options([input_path], volume_options or {})
    if image_job is None:
        raise image_refusal or UsageError(f"{input_path}: not a volume")
    return image_job(input_path, out=out)
