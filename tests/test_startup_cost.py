"""The measured start-up cost of the jitted core (issue 17): stored once per install, passed to
the core as ``Paths.jit_start``, and never able to change a result -- it moves the choice only
between paths that give the same bytes."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernelcli import conv2d, pad2d, pool2d, startup
from kernelcli._core import costs, dispatch
from kernelcli._core.policy import COLD, Paths
from kernelcli.errors import UsageError
from kernelcli.records import replace
from conftest import run_cli

QUICK, SLOW = Paths(process="cold", jit_start=0.02), Paths(process="cold", jit_start=30.0)
SOBEL = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


class TestRecord:
    def test_saved_value_is_read_back(self, tmp_path):
        path = startup.record_path(tmp_path)
        assert startup.stored(path) is None
        assert startup.save(path, 0.8123, costs.NUMPY_SECONDS_PER_TAP) == pytest.approx(0.8123)
        assert startup.stored(path) == 0.8123
        assert startup.cli_paths(tmp_path) == Paths(process="cold", jit_start=0.8123)
        assert not list(tmp_path.glob(".*.tmp"))  # written whole, renamed into place

    def test_a_machine_slower_at_everything_moves_nothing(self, tmp_path):
        """Three times the load time with numpy three times slower too: the model's start-up is the same."""
        path = startup.record_path(tmp_path)
        startup.save(path, 3 * 0.45, 3 * costs.NUMPY_SECONDS_PER_TAP)
        assert startup.stored(path) == pytest.approx(0.45)
        startup.save(path, 3 * 0.45, costs.NUMPY_SECONDS_PER_TAP)  # only the core loads slowly
        assert startup.stored(path) == pytest.approx(1.35)

    @pytest.mark.parametrize("content", ["not json", '{"jit_start_model_seconds": -1}', '{"jit_start_model_seconds": 1e9}',
                                         '{"jit_start_model_seconds": "1"}', "[1]"])
    def test_a_broken_or_implausible_record_means_the_built_in_estimate(self, tmp_path, content):
        path = startup.record_path(tmp_path)
        path.write_text(content)
        assert startup.stored(path) is None
        assert startup.cli_paths(tmp_path) == COLD

    def test_paths_refuses_a_negative_cost(self):
        with pytest.raises(UsageError, match="start-up cost"):
            Paths(process="cold", jit_start=-1.0)

    def test_one_background_measurement_at_a_time(self, tmp_path, monkeypatch):
        started = []
        monkeypatch.delenv("KERNELCLI_MEASURE_STARTUP", raising=False)
        monkeypatch.setattr("subprocess.Popen", lambda *a, **k: started.append(a[0]))
        path = startup.record_path(tmp_path)
        assert startup.start_measuring(path)
        assert not startup.start_measuring(path)  # the marker holds the second one off
        assert len(started) == 1 and started[0][-1] == str(path)

    def test_a_call_deciding_holds_the_others_off_a_stale_marker(self, tmp_path, monkeypatch):
        """Two calls that both found an hour-old marker each replaced it and started a measurement:
        the check and the replacement are one step under a lock."""
        import fcntl
        import os

        started = []
        monkeypatch.delenv("KERNELCLI_MEASURE_STARTUP", raising=False)
        monkeypatch.setattr("subprocess.Popen", lambda *a, **k: started.append(a[0]))
        path = startup.record_path(tmp_path)
        marker = path.with_suffix(".measuring")
        marker.touch()
        os.utime(marker, (0, 0))  # a measurement that failed long ago
        fd = os.open(path.with_suffix(".lock"), os.O_CREAT | os.O_WRONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # another call is between its check and its start
            assert not startup.start_measuring(path)
        finally:
            os.close(fd)
        assert started == [] and marker.stat().st_mtime == 0
        assert startup.start_measuring(path) and len(started) == 1

    @pytest.mark.parametrize("value", ["off", "0", "OFF", "false"])
    def test_the_opt_out_starts_nothing_and_writes_nothing(self, tmp_path, monkeypatch, value):
        monkeypatch.setenv("KERNELCLI_MEASURE_STARTUP", value)
        monkeypatch.setattr("subprocess.Popen", lambda *a, **k: pytest.fail("a measurement started"))
        assert not startup.start_measuring(startup.record_path(tmp_path / "cache"))
        assert not (tmp_path / "cache").exists()

    def test_no_cache_folder_means_no_write(self, tmp_path, monkeypatch):
        """A relative folder (an unset home) or one that cannot be made: nothing written, the built-in estimate."""
        monkeypatch.delenv("KERNELCLI_MEASURE_STARTUP", raising=False)
        monkeypatch.setattr("subprocess.Popen", lambda *a, **k: pytest.fail("a measurement started"))
        monkeypatch.chdir(tmp_path)
        assert not startup.start_measuring(startup.record_path("~/.cache/kernelcli"))
        (tmp_path / "file").write_text("")
        assert not startup.start_measuring(startup.record_path(tmp_path / "file" / "kernelcli"))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
        assert startup.cli_paths(tmp_path / "file" / "kernelcli", measure=True) == COLD

    def test_the_test_suite_measures_nothing_in_the_users_cache(self, tmp_path):
        """A CLI call that loaded the jitted core, as the suite's own calls do: no background
        measurement, nothing in the developer's cache folder (conftest opts out)."""
        import os
        import subprocess
        import sys

        code = ("import numba, kernelcli.cli as c, kernelcli.startup as s; c._measure_start_up();"
                "print(s.record_path())")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(Path(startup.__file__).parent.parent)})
        assert done.returncode == 0, done.stderr
        record = Path(done.stdout.strip())
        assert not record.with_suffix(".measuring").exists() and not record.exists()
        assert not record.is_relative_to(Path.home() / ".cache")

    def test_the_probe_measures_and_stores(self, tmp_path, monkeypatch):
        monkeypatch.setattr(startup, "REPEAT", 1)
        monkeypatch.setattr(startup, "measure", lambda repeat=1, real=startup.measure: real(1))
        path = startup.record_path(tmp_path)
        path.with_suffix(".measuring").touch()
        startup.main([str(path)])
        record = json.loads(path.read_text())
        assert startup.PLAUSIBLE[0] <= record["jit_load_seconds"] <= startup.PLAUSIBLE[1]
        assert 1e-11 < record["numpy_seconds_per_tap"] < 1e-7
        assert startup.stored(path) == record["jit_start_model_seconds"]
        assert not path.with_suffix(".measuring").exists()


class TestOnlyInterchangeablePathsMove:
    def test_an_exact_call_follows_the_measurement(self):
        k, n = SOBEL, 1200 * 1200 * 3  # a 12 MP-ish RGB sobel
        same = costs.same_bytes_on_every_path(np.dtype("uint8"), k, np.dtype("float32"), True, 0.0)
        assert same
        assert dispatch.front(QUICK, 9 * n, n, k, (1, 1), np.dtype("float32"), same_bytes=same) == "jit"
        assert dispatch.front(SLOW, 9 * n, n, k, (1, 1), np.dtype("float32"), same_bytes=same) == "numpy"

    # (ones / 9 is exact now: every path sums the ones and divides by 9 once; 3 * 0.1 is no whole number over one)
    @pytest.mark.parametrize("x_dtype, k, fill", [("float32", SOBEL, 0.0), ("uint8", np.full((3, 3), 3 * 0.1), 0.0),
                                                   ("uint8", SOBEL, 0.5), ("uint16", np.full((15, 15), 3.0), 0.0),
                                                   ("uint8", np.ones((11, 11)) / 128, 0.0)])
    def test_an_inexact_call_ignores_it(self, x_dtype, k, fill):
        assert not costs.same_bytes_on_every_path(np.dtype(x_dtype), k, np.dtype("float32"), True, fill)
        for n in (10**5, 10**6, 10**7, 10**8):
            want = dispatch.front(COLD, 9 * n, n, k, (1, 1), np.dtype("float32"))
            for measured in (QUICK, SLOW):
                assert dispatch.front(measured, 9 * n, n, k, (1, 1), np.dtype("float32"), same_bytes=False) == want

    def test_an_fft_candidate_keeps_the_built_in_estimate(self):
        """The FFT's exact sums (rounded) held -0.0 where the loops write 0.0 (other bytes in a float
        output); the exact form now gives the loops' zeros (tests/test_exactness.py TestSignedZeros),
        and kernels that make the FFT a candidate still keep the built-in estimate (a margin)."""
        x = np.zeros((64, 64), np.uint8)
        x[20:40, 20:40] = 200
        k = np.outer([1, -2, 3, -2, 1, 1, 1, -2, 3, -2, 1], [1, 2, 1, 1, 1, 2, 1, 1, 1, 2, 1]) / 64.0  # 121 taps
        fft, loops = conv2d(x, k, paths=Paths(force="fft")), conv2d(x, k, paths=Paths(force="dense"))
        assert fft.tobytes() == loops.tobytes()  # the sign of every zero too
        assert not costs.same_bytes_on_every_path(np.dtype("uint8"), k, np.dtype("float32"), True, 0.0)

    def test_a_loaded_core_costs_nothing_where_the_bytes_are_the_same(self):
        """The resident worker's policy: its core is loaded, whatever was measured."""
        k, n = SOBEL, 512 * 512
        loaded = Paths(process="cold", core_loaded=True)
        assert loaded.start_cost_known and not COLD.start_cost_known
        assert costs.jit_start_seconds(loaded, same_bytes=True) == 0.0
        assert costs.jit_start_seconds(loaded) == costs.jit_start_seconds(COLD)  # other bytes: the built-in estimate
        assert dispatch.front(loaded, 9 * n, n, k, (1, 1), np.dtype("float32"), same_bytes=True) == "jit"
        assert dispatch.front(COLD, 9 * n, n, k, (1, 1), np.dtype("float32"), same_bytes=True) == "numpy"

    def test_a_copy_in_another_process_forgets_the_loaded_core(self):
        """A batch's worker processes start fresh: the policy pickled to them must not say the core is
        loaded (it did, as ``jit_start=0.0``: each of them loaded the core for its first 512x512 file,
        1.4 s, and a batch through the resident worker took 2.4-2.8 s against 1.5 without)."""
        policy = Paths(process="cold", small_work=7, force=None, jit_start=0.25, fft_form="plain", origin=(3, 4), core_loaded=True)
        sent = pickle.loads(pickle.dumps(policy))
        assert sent == replace(policy, core_loaded=False)
        assert pickle.loads(pickle.dumps(COLD)) == COLD
        assert copy.copy(policy).core_loaded and copy.deepcopy({"paths": policy})["paths"].core_loaded  # in this process

    @settings(max_examples=20, deadline=None)
    @given(data=st.data())
    def test_any_measurement_gives_the_same_bytes(self, data):
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
        exact = data.draw(st.booleans())
        shape = (data.draw(st.integers(180, 260)), data.draw(st.integers(180, 260)), data.draw(st.sampled_from([1, 3])))
        x = rng.integers(0, 256, shape).astype(np.uint8 if exact else np.float32)
        kh, kw = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
        k = rng.integers(-8, 9, (kh, kw)) / data.draw(st.sampled_from([1, 16, 3] if not exact else [1, 16]))
        mode = data.draw(st.sampled_from(["constant", "replicate", "reflect"]))
        small = dict(small_work=1000)  # so that these sizes reach the cost rule
        quick, slow = (Paths(process="cold", jit_start=t, **small) for t in (0.0, 30.0))
        if data.draw(st.booleans()):
            quick = Paths(process="cold", core_loaded=True, **small)  # the resident worker's
        np.testing.assert_array_equal(conv2d(x, k, pad_mode=mode, paths=quick), conv2d(x, k, pad_mode=mode, paths=slow))
        np.testing.assert_array_equal(pad2d(x, 2, mode=mode, paths=quick), pad2d(x, 2, mode=mode, paths=slow))
        for op in ("max", "avg"):
            np.testing.assert_array_equal(pool2d(x, 2, op=op, paths=quick), pool2d(x, 2, op=op, paths=slow))


class TestCli:
    def test_the_cli_writes_the_same_bytes_whatever_was_measured(self, tmp_path):
        from PIL import Image

        rng = np.random.default_rng(3)
        src = tmp_path / "rgb.png"
        Image.fromarray(rng.integers(0, 256, (700, 800, 3), dtype=np.uint8)).save(src)
        outputs = []
        for seconds in (0.02, 30.0):
            cache = tmp_path / f"cache{seconds}"
            startup.save(startup.record_path(cache / "kernelcli"), seconds, costs.NUMPY_SECONDS_PER_TAP)
            out = tmp_path / f"out{seconds}.npy"
            r = run_cli("convolve", str(src), "-k", "sobel_v", "--out", str(out), "-q",
                        env={"XDG_CACHE_HOME": str(cache), "KERNELCLI_WORKER": "off"})
            assert r.returncode == 0, r.stderr
            outputs.append(out.read_bytes())
        assert outputs[0] == outputs[1]
