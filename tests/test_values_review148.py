"""Audit 148 (values): write_output's result checked as an input is, one reader of long doubles, one rule for a
value float64 reads as 0, the spec-name rule of Kernel names, the 3-D kernel names where text kernels are refused."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import kernelcli as K
from kernelcli.errors import InvalidKernel, ShapeError, UsageError


class TestWriteOutputResult:
    def test_masked_result_refused_naming_filled_and_data(self, tmp_path):
        m = np.ma.array([[1.0, 2.0], [3.0, 4.0]], mask=[[0, 1], [0, 0]])
        with pytest.raises(UsageError, match=r"result: a masked array.*result\.filled\(value\).*result\.data"):
            K.write_output(tmp_path / "m.npy", m)
        assert not (tmp_path / "m.npy").exists()

    def test_ragged_result_is_a_shape_error(self, tmp_path):
        with pytest.raises(ShapeError, match="result: rows of different lengths"):
            K.write_output(tmp_path / "r.npy", [[1, 2], [3]])

    @pytest.mark.parametrize("make, said", [
        (lambda torch: torch.eye(3).to_sparse(), "numpy cannot read this Tensor: .*to_dense"),
        (lambda torch: torch.ones(3, 3, requires_grad=True), r"a torch tensor that requires grad.*result\.detach\(\)"),
        (lambda torch: torch.empty(3, 3, device="meta"), r"a torch tensor on the meta device, which holds no values \(a shape only\); give one that holds them, on the cpu"),
    ])
    def test_torch_result_named(self, tmp_path, make, said):
        torch = pytest.importorskip("torch")
        with pytest.raises(UsageError, match="^result: " + said):
            K.write_output(tmp_path / "t.npy", make(torch))
        assert not (tmp_path / "t.npy").exists()

    def test_plain_tensor_and_list_still_written(self, tmp_path):
        K.write_output(tmp_path / "l.npy", [[1.0, 2.0]])
        assert np.load(tmp_path / "l.npy").tolist() == [[1.0, 2.0]]


long_double_only = pytest.mark.skipif(np.finfo(np.longdouble).nmant <= 52, reason="long double is float64 here")


@pytest.fixture
def notes():
    """The "kernelcli" logger's records, taken at the logger itself: an in-process command line run earlier in this
    worker holds it with its own handler (propagation off), so caplog, at the root, saw nothing after one."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("kernelcli")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def _outcome(call, notes):
    """('refused', message) or ('noted', notes) of ``call``, each with its source (file or argument) cut off."""
    notes.clear()
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - compared, whatever it is
        return "refused", type(exc).__name__, str(exc).split(": ", 1)[1]
    return "noted", [r.getMessage().split(": ", 1)[1] for r in notes]


@long_double_only
class TestOneReaderOfLongDoubles:
    @pytest.mark.parametrize("value", ["0.1", "1e-400", "1e400", "9007199254740993"])
    def test_kernel_in_memory_read_as_its_file(self, tmp_path, notes, value):
        from kernelcli.kernel_syntax import read_npy_kernel

        k = np.zeros((3, 3), np.longdouble)
        k[1, 1] = np.longdouble(value)
        np.save(tmp_path / "k.npy", k)
        from_file = _outcome(lambda: read_npy_kernel(tmp_path / "k.npy"), notes)
        in_memory = _outcome(lambda: K.conv2d(np.ones((5, 5)), k), notes)
        assert in_memory == from_file and from_file != ("noted", [])  # (each value is refused or noted)

    @pytest.mark.parametrize("value", ["0.1", "1e-400", "1e400"])
    def test_weights_in_memory_read_as_their_file(self, tmp_path, notes, value):
        from kernelcli.layer_files import read_weights

        w = np.ones((1, 1, 3, 3), np.longdouble)
        w.flat[0] = np.longdouble(value)
        np.save(tmp_path / "w.npy", w)
        from_file = _outcome(lambda: read_weights(tmp_path / "w.npy"), notes)
        in_memory = _outcome(lambda: K.conv_layer(np.ones((5, 5, 1)), w), notes)
        assert in_memory[0] == from_file[0] and in_memory[-1] == from_file[-1]  # (UsageError in memory, as conv_layer's)
        assert from_file != ("noted", [])

    def test_1e400_named_short(self):
        with pytest.raises(Exception, match=r"^kernel: the weight at \(0, 0\) is 1e\+400, beyond float64's range") as got:
            K.conv2d(np.ones((5, 5)), np.array([[np.longdouble("1e400")]]))
        assert len(str(got.value)) < 120

    def test_kernel_class_takes_a_long_double_matrix(self, notes):
        k = K.Kernel("a", np.full((3, 3), np.longdouble(1) / 10))
        assert k.matrix[0] == (0.1, 0.1, 0.1)
        said = " ".join(r.getMessage() for r in notes)
        assert "Kernel 'a': matrix: a" in said and "9 of its 9 weights rounded" in said


@long_double_only
class TestOneRuleForAValueReadAsZero:
    """1e-400 typed was refused (--bias, -k '1x1: 1e-400') and 1e-400L stored was used as 0 with a note (--bias-file,
    a kernel .npy): both refused now, in one sentence naming one bound."""

    BELOW = "(below the float range), expected a number float64 holds (at least 4.9e-324 in magnitude, or 0)"

    @pytest.fixture
    def files(self, tmp_path):
        np.save(tmp_path / "one.npy", np.arange(25.0).reshape(5, 5))
        np.save(tmp_path / "w1.npy", np.full((1, 1, 3, 3), 0.1))
        np.save(tmp_path / "b01.npy", np.array([np.longdouble("1e-400")]))
        k = np.zeros((3, 3), np.longdouble)
        k[1, 1] = np.longdouble("1e-400")
        np.save(tmp_path / "kld.npy", k)
        w = np.ones((1, 1, 3, 3), np.longdouble)
        w.flat[4] = np.longdouble("-1e-400")
        np.save(tmp_path / "wld.npy", w)
        return tmp_path

    @pytest.mark.parametrize("args, said", [
        (["-k", "kld.npy"], "kld.npy: the weight at (1, 1) is 1e-400 "),
        (["--weights", "wld.npy"], "wld.npy: the value at (0, 0, 1, 1) is -1e-400 "),
        (["--weights", "w1.npy", "--bias-file", "b01.npy"], "b01.npy: the value at (0,) is 1e-400 "),
        (["-k", "1x1: 1e-400"], "row 1, column 1 is 1e-400 "),
    ])
    def test_stored_or_typed_refused_in_one_sentence(self, files, args, said):
        from conftest import run_in_process

        r = run_in_process("convolve", "one.npy", *args, "-o", "o.npy", cwd=files)
        assert r.returncode == 3, r.stderr
        assert said + self.BELOW in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert not (files / "o.npy").exists()

    def test_in_memory_refused_too(self):
        k = np.zeros((3, 3), np.longdouble)
        k[1, 1] = np.longdouble("1e-400")
        with pytest.raises(InvalidKernel,
                           match=r"^kernel: the weight at \(1, 1\) is 1e-400 \(below the float range\)"):
            K.conv2d(np.ones((5, 5)), k)

    def test_a_stored_zero_and_a_subnormal_taken(self, tmp_path):
        k = np.zeros((3, 3), np.longdouble)
        k[1, 1], k[0, 0] = np.longdouble("1e-320"), np.longdouble("-0.0")
        assert K.conv2d(np.ones((5, 5)), k)[2, 2] == 1e-320


def test_one_bound_named():
    from kernelcli import numtext

    assert "5e-324" not in numtext.out_of_range("1e-400", 0, above=True, read=0.0)
    assert numtext.SMALLEST_HELD in numtext.out_of_range("1e-400", 0, above=True, read=0.0)
    assert numtext.SMALLEST_HELD in numtext.HELD_NUMBER


def test_kernel_scale_below_range_said_so(tmp_path):
    from conftest import run_in_process

    np.save(tmp_path / "one.npy", np.ones((5, 5)))
    r = run_in_process("convolve", "one.npy", "-k", "box:3", "--kernel-scale", "1e-400", "-o", "o.npy", cwd=tmp_path)
    assert r.returncode == 2 and "1e-400 (below the float range)" in r.stderr, r.stderr


class TestSpecNames:
    """Kernel took gaussian:43 (no spec makes it: larger than 255 per side) and box:03 (no spec is named so) and
    refused box:3.0: one rule now, the names specs give."""

    @pytest.mark.parametrize("name", ["gaussian:43", "gaussian:1e300", "box:03", "box:3.0", "box:0", "gaussian:1e+"])
    def test_names_no_spec_gives_refused(self, name):
        with pytest.raises(InvalidKernel, match=r"is not a valid name: .*; or a spec's own"):
            K.Kernel(name, [[1.0]])

    @pytest.mark.parametrize("name", ["gaussian:42", "gaussian:1.5", "gaussian:1e-10", "box:3", "box:255"])
    def test_names_specs_give_taken(self, name):
        assert K.Kernel(name, [[1.0]]).name == name

    def test_the_hint_names_what_the_spec_makes(self):
        with pytest.raises(InvalidKernel, match=r"the spec box:3\.0 makes box:3$"):
            K.Kernel("box:3.0", [[1.0]])

    @pytest.mark.parametrize("spec", ["gaussian:1.50", "gaussian:2.0", "gaussian:42.33", "gaussian:42.34", "gaussian:43",
                                      "gaussian:1e-10", "gaussian:0.1", "box:03", "box:3.0", "box:2.55e2", "box:256",
                                      "box:0", "gaussian:-1"])
    def test_spec_name_is_the_name_its_kernel_gets(self, spec):
        from kernelcli.kernel_names import spec_name

        try:
            made = K.load_kernel(spec).name
        except InvalidKernel:
            made = None
        assert spec_name(*spec.split(":")) == made


class TestNamed3D:
    """The 3-D kernel names were known to one of refuse_text_kernel's two calls (volumes.conv3d's); the other
    (kernel_values, reached by kernelcli.tiled.arrays.conv3d) did not know them."""

    def test_declared_once_and_equal_to_the_catalogues(self):
        from kernelcli.given_values import NAMED_3D
        from kernelcli.kernel_build import KERNELS_3D

        assert sorted(NAMED_3D) == sorted(KERNELS_3D) and len(set(NAMED_3D)) == len(NAMED_3D)

    def test_tiled_conv3d_points_to_kernel_3d(self):
        da = pytest.importorskip("dask.array")
        from kernelcli.tiled import arrays

        with pytest.raises(UsageError, match=r"pass kernel_3d\('box_3d'\) \(from kernelcli\.volumes\)$"):
            arrays.conv3d(da.from_array(np.random.rand(5, 6, 6), chunks=3), "box_3d")

    def test_unknown_text_lists_the_names(self):
        from kernelcli.volumes import conv3d

        with pytest.raises(UsageError, match=r"NAME one of box_3d, gaussian_3d, sobel_3d, sobel_3d_x"):
            conv3d(np.ones((3, 3, 3)), "blur_3d")

    def test_refused_by_one_call(self, monkeypatch):
        from kernelcli import given_values, ndsupport
        from kernelcli.volumes import conv3d

        calls = []
        real = given_values.refuse_text_kernel
        for module in (given_values, ndsupport):  # (volumes called it through ndsupport)
            monkeypatch.setattr(module, "refuse_text_kernel", lambda *a, **k: calls.append(a) or real(*a, **k))
        conv3d(np.ones((3, 3, 3)), np.ones((1, 1, 1)))
        assert len(calls) == 1
