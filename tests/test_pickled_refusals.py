"""Refusals cross a batch's process pool pickled.  Exception's own pickling calls the class with its message alone,
so a refusal whose ``__init__`` takes its parts (KernelTextRefused: spec, why; FloatOutputNeeded: out, bits) could
not be unpickled: 'convolve vols -k gaussian:1.5mm --out-dir out2' over two NIfTI volumes and a PNG (the image's
refusal, a VolumeKernelRefused since 1a0cadf) said "the batch's process pool broke (its server process ended)" for
all three files, exit 1, after minutes ('TypeError: KernelTextRefused.__init__() missing 1 required positional
argument: 'why'' from the pool's forkserver)."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil

import pytest

import kernelcli
from kernelcli.io.not_held import FloatOutputNeeded, ValuesNotHeld
from kernelcli.kernel_syntax import KernelTextRefused, VolumeKernelRefused, _kernel_list_advice


@pytest.mark.parametrize("refusal", [
    KernelTextRefused("1x1: x", "expected a number"),
    KernelTextRefused("k", "one", option="--then", on_command_line=_kernel_list_advice, named="k.csv"),
    VolumeKernelRefused("gaussian:1.5mm", "a (Z, Y, X) array takes gaussian_mm(1.5, spacing)", on_command_line="for a volume"),
    FloatOutputNeeded("o.png", 8, ndim=3, zarr=True),
    FloatOutputNeeded("o.png", 16, keep="keep these words"),
    ValuesNotHeld("o.png: PNG cannot hold them", "pad's advice", image="an 8-bit image", kinds=("npy",), said="write .npy"),
], ids=lambda e: type(e).__name__)
def test_a_refusal_comes_back_from_pickle_as_it_was(refusal):
    again = pickle.loads(pickle.dumps(refusal))
    assert (type(again), str(again), vars(again)) == (type(refusal), str(refusal), vars(refusal))


def test_every_exception_whose_init_takes_parts_pickles_by_them():
    """An exception class of kernelcli whose ``__init__`` needs more than the message has a ``__reduce__`` of its own
    or from :class:`kernelcli.errors.KernelcliError` (which rebuilds it from its message and attributes)."""
    unpicklable = []
    for module in pkgutil.walk_packages(kernelcli.__path__, "kernelcli."):
        if module.name.startswith(("kernelcli._core", "kernelcli.__main__")):
            continue
        try:
            mod = importlib.import_module(module.name)
        except ImportError:  # (an optional extra missing)
            continue
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if not issubclass(cls, BaseException) or cls.__module__ != mod.__name__ or "__init__" not in vars(cls):
                continue
            needed = [p for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
                      if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
            if len(needed) > 1 and not any("__reduce__" in vars(c) or "__reduce_ex__" in vars(c) for c in cls.__mro__[:-2]):
                unpicklable.append(f"{cls.__module__}.{cls.__qualname__}")
    assert unpicklable == []


def test_the_batch_of_volumes_and_an_image_with_a_mm_kernel(tmp_path):
    nib = pytest.importorskip("nibabel")
    import json

    import numpy as np

    from conftest import SAMPLES, run_in_process

    vols = tmp_path / "vols"
    vols.mkdir()
    for name in ("p1", "p2"):
        nib.save(nib.Nifti1Image(np.random.default_rng(0).random((12, 12, 12)).astype(np.float32), np.eye(4)),
                 str(vols / f"{name}.nii.gz"))
    (vols / "slice.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
    r = run_in_process("convolve", "vols", "-k", "gaussian:1.5mm", "--out-dir", "out", "--json", "-j", "2", cwd=tmp_path)
    records = {i["input"].rsplit("/", 1)[-1]: i for i in json.loads(r.stdout)["items"]}
    assert r.returncode == 1, r.stderr
    assert records["p1.nii.gz"]["status"] == records["p2.nii.gz"]["status"] == "ok", r.stderr
    assert "process pool broke" not in records["slice.png"]["error"]
