"""Per-call overhead (issue 17): what a call on a small image prepares once, and when it starts threads.

A program convolving many patches of one shape pays the preparation of every call: the padding
maps, the tap offsets and weights, the kernel's rank-1 factors (an SVD), the output size.  These
are remembered per geometry (:mod:`kernelcli._core.memo`); the tests here check that they are
built once (the defect: every call rebuilt them), that remembering never changes an answer
(a call gives the bytes it gives with empty tables, whatever came before), and that a small job
runs on the calling thread while the serial and threaded loops agree byte for byte.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernelcli.api as api
from kernelcli import conv2d, conv_args, pool2d, pool_args
from kernelcli._core import costs, engine, forms, policy, threads
from kernelcli.errors import UsageError

JIT = policy.Paths(force="jit")


def forget() -> None:
    """Empty every memo table (a fresh process, as far as the preparations go)."""
    for table in (forms._RANK1, engine._PLANS, engine._FACTS, conv_args._CALLS, pool_args._CALLS):
        table.clear()


class TestPreparedOnce:
    def test_a_repeated_call_builds_nothing_again(self, monkeypatch):
        """The defect: pad maps, taps and the SVD were computed anew on every call."""
        forget()
        built = {"plan": 0, "svd": 0, "geometry": 0}
        for name, attr, target in (("plan", "_build_direct", engine), ("svd", "_rank1_factors", forms),
                                   ("geometry", "conv_geometry", conv_args)):
            original = getattr(target, attr)

            def counting(*a, _original=original, _name=name, **kw):
                built[_name] += 1
                return _original(*a, **kw)

            monkeypatch.setattr(target, attr, counting)
        x = np.random.default_rng(0).random((40, 50), dtype=np.float32)
        g = np.outer([1.0, 4, 6, 4, 1], [1.0, 4, 6, 4, 1]) / 256
        first = conv2d(x, g, paths=JIT)
        counts = dict(built)
        assert counts["plan"] == 1 and counts["svd"] >= 1 and counts["geometry"] == 1
        for _ in range(3):
            np.testing.assert_array_equal(conv2d(x, g, paths=JIT), first)
        assert built == counts

    @pytest.mark.parametrize("args", [{"pad_value": np.float32(0.5)}, {"stride": np.int64(1)}, {"dilation": [1, 1]},
                                      {"kernel": np.ones((33, 33)) / 1089}])
    def test_a_call_not_remembered_still_finds_its_plan(self, args):
        """Regression: arguments the call memo does not key (numpy scalars, lists, a kernel over
        conv_args.MEMO_KERNEL_VALUES values) gave a fresh ConvCall each call, which the engine took as
        the plan's key: a plan and the kernel's facts were built anew on every call (5 calls, 5 plans)."""
        forget()
        x = np.random.default_rng(3).random((40, 50), dtype=np.float32)
        args = {"kernel": np.outer([1.0, 2, 1], [1.0, 0, -1]), **args}
        first = conv2d(x, paths=policy.Paths(force="dense"), **args)
        for _ in range(3):
            np.testing.assert_array_equal(conv2d(x, paths=policy.Paths(force="dense"), **args), first)
        assert len(engine._PLANS.table) == 1 and len(engine._FACTS.table) <= 1

    def test_the_kernel_values_are_part_of_the_key(self):
        """Two kernels of one shape, and a kernel changed in place, each give their own answer."""
        rng = np.random.default_rng(1)
        x = rng.random((30, 31))
        k = rng.normal(size=(3, 3))
        a = conv2d(x, k, paths=JIT)
        k2 = k.copy()
        k2[1, 1] += 1.0
        b = conv2d(x, k2, paths=JIT)
        np.testing.assert_allclose(b - a, x, atol=1e-12)
        k[1, 1] += 1.0  # the same array object, mutated
        np.testing.assert_array_equal(conv2d(x, k, paths=JIT), b)

    @pytest.mark.parametrize("force", ["numpy", "dense", "separable", "fft", "jit"])
    def test_a_kernel_changed_in_place_between_calls_is_the_new_kernel(self, force):
        """The API remembers each call's resolved arguments under the kernel's bytes, never the
        array: the same array object changed in place, on every path, gives what a fresh process gives."""
        paths = policy.Paths(force=force)
        x = np.random.default_rng(7).random((24, 21, 2), dtype=np.float32)
        k = np.outer([1.0, 2, 1], [1.0, 0, -1])
        before = conv2d(x, k, paths=paths, flip=True)
        k[0, 0] = 3.0  # no longer rank 1: another path may be chosen too
        after = conv2d(x, k, paths=paths, flip=True)
        forget()
        assert after.tobytes() == conv2d(x, k.copy(), paths=paths, flip=True).tobytes()
        assert after.tobytes() != before.tobytes()
        np.testing.assert_allclose(after, conv2d(x, k[::-1, ::-1].copy(), paths=paths), rtol=1e-6)

    def test_the_remembered_kernel_is_a_read_only_copy(self):
        k = np.ones((3, 3))
        call = conv_args.resolve((9, 9), np.dtype("float32"), k, 1, "same", "constant", 0.0, 1, False)
        assert call is conv_args.resolve((9, 9), np.dtype("float32"), k, 1, "same", "constant", 0.0, 1, False)
        assert call.k is not k and not call.k.flags.writeable and k.flags.writeable
        k[1, 1] = 5.0
        assert call.k[1, 1] == 1.0
        assert conv_args.resolve((9, 9), np.dtype("float32"), k, 1, "same", "constant", 0.0, 1, False).k[1, 1] == 5.0

    def test_flip_and_argument_types_are_part_of_the_key(self):
        x = np.random.default_rng(8).random((10, 12))
        k = np.arange(9.0).reshape(3, 3)
        plain = conv2d(x, k, paths=JIT)
        flipped = conv2d(x, k, flip=True, paths=JIT)
        np.testing.assert_array_equal(flipped, conv2d(x, k[::-1, ::-1].copy(), paths=JIT))
        assert plain.tobytes() != flipped.tobytes()
        # numpy integers and other spellings are resolved anew each call, with the same answer
        np.testing.assert_array_equal(conv2d(x, k, stride=np.int64(2), paths=JIT), conv2d(x, k, stride=2, paths=JIT))
        np.testing.assert_array_equal(conv2d(x, k, pad_value=1, paths=JIT), conv2d(x, k, pad_value=1.0, paths=JIT))
        np.testing.assert_array_equal(conv2d(x, k, padding=(1, 1), paths=JIT), plain)

    def test_a_refused_call_is_refused_again(self):
        x = np.ones((6, 6), np.uint8)
        k = np.ones((3, 3))
        conv2d(x, k, padding=1, stride=1, paths=JIT)
        for padding in (1.0, True, None):  # equal to 1 as keys, or not a padding at all: refused by name
            with pytest.raises(UsageError, match=f"invalid padding {padding}"):
                conv2d(x, k, padding=padding, paths=JIT)
        with pytest.raises(UsageError, match="stride"):
            conv2d(x, k, stride=True, paths=JIT)
        k[0, 0] = np.nan
        for _ in range(2):
            with pytest.raises(UsageError, match="finite"):
                conv2d(x, k, paths=JIT)
        for _ in range(2):
            with pytest.raises(UsageError):
                conv2d(x, np.ones((3, 3)), pad_value=1e39, paths=JIT)  # beyond float32, the compute dtype

    def test_remembered_factors_are_read_only(self):
        col, row = forms.rank1_factors(np.ones((3, 3)), np.dtype("float32"))
        with pytest.raises(ValueError):
            row[0] = 5.0

    def test_validation_still_runs_every_call(self):
        x = np.ones((20, 20), np.float32)
        conv2d(x, np.ones((3, 3)), paths=JIT)
        x[3, 4] = np.nan
        with pytest.raises(UsageError, match="NaN"):
            conv2d(x, np.ones((3, 3)), paths=JIT)

    def test_the_path_is_decided_every_call(self, monkeypatch):
        """Only pure preparations are remembered: a changed crossover takes effect at once."""
        x = np.random.default_rng(2).random((30, 30))
        g = np.outer([1.0, 2, 1], [1.0, 2, 1])
        seen = []
        original = engine.direct_plan

        def spy(*args, **kw):
            seen.append(args[11])
            return original(*args, **kw)

        monkeypatch.setattr(engine, "direct_plan", spy)
        conv2d(x, g, paths=JIT)
        monkeypatch.setattr(costs, "SEPARABLE_MIN_TAPS", 1)
        conv2d(x, g, paths=JIT)
        assert seen == ["dense", "separable"]

    def test_bool_and_int_arguments_are_told_apart(self):
        """True == 1 in a dict key: the geometry key carries the type, so a refused value stays refused."""
        x = np.ones((8, 8))
        conv2d(x, np.ones((3, 3)), padding=1)
        with pytest.raises(UsageError):
            conv2d(x, np.ones((3, 3)), padding=True)



class TestPoolCall:
    """pool2d resolves its arguments once per signature (:mod:`kernelcli.pool_args`), as conv2d does."""

    def test_a_repeated_call_resolves_once(self, monkeypatch):
        forget()
        resolved = []
        original = pool_args._resolve
        monkeypatch.setattr(pool_args, "_resolve", lambda *a: resolved.append(a) or original(*a))
        x = np.random.default_rng(4).random((20, 30), dtype=np.float32)
        first = pool2d(x, 2, op="avg")
        for _ in range(3):
            assert pool2d(x, 2, op="avg").tobytes() == first.tobytes()
        assert len(resolved) == 1
        pool2d(x, 2, op="avg", dtype="uint8")
        pool2d(x[:10], 2, op="avg")
        assert len(resolved) == 3  # another dtype=, another shape: other keys
        for _ in range(2):  # a numpy integer: resolved anew each call, to the same answer
            assert pool2d(x, np.int64(2), op="avg").tobytes() == first.tobytes()
        assert len(resolved) == 5

    def test_a_refused_call_is_refused_again(self):
        x = np.ones((6, 6))
        pool2d(x, 2, padding=1)
        for _ in range(2):
            with pytest.raises(UsageError, match="padding must be an integer"):
                pool2d(x, 2, padding=True)  # True == 1 as a key
            with pytest.raises(UsageError, match="must be an integer"):
                pool2d(x, 2.0)
            with pytest.raises(UsageError, match="float16"):
                pool2d(x, 2, op="avg", dtype="float16")

    def test_a_call_every_path_gives_the_same_bytes_takes_the_loaded_loops(self, monkeypatch):
        """The default policy keeps a small pool on plain numpy while the jitted loops are not loaded
        (no start-up for tiny work); once they are, every call takes them (every path gives a pool the
        same bytes), except a cold policy's, which stays on numpy as a cold process does."""
        taken = []
        original = engine.pool
        monkeypatch.setattr(engine, "pool", lambda *a, **kw: taken.append(a[1:5]) or original(*a, **kw))
        monkeypatch.setattr(engine, "_POOL_LOOPS", None)  # not loaded yet, as far as the API can tell
        rng = np.random.default_rng(6)
        x = rng.normal(size=(16, 18, 3)).astype(np.float32)
        ints = (x * 50).astype(np.int16)
        numpy = policy.Paths(force="numpy")
        plain = pool2d(x, 2, op="avg")
        assert taken == [] and plain.tobytes() == pool2d(x, 2, op="avg", paths=numpy).tobytes()
        pool2d(x, 2, op="avg", paths=JIT)  # loads them
        taken.clear()
        assert pool2d(x, 2, op="avg").tobytes() == plain.tobytes()
        assert pool2d(ints, 3, stride=1, op="max").tobytes() == pool2d(ints, 3, stride=1, op="max", paths=numpy).tobytes()
        assert pool2d(x[:5, :5, 0], 2, op="avg", dtype="uint8").tobytes() == \
            pool2d(x[:5, :5, 0], 2, op="avg", dtype="uint8", paths=numpy).tobytes()
        three = pool2d(x, 3, stride=2, padding=1, op="avg")  # any average: torch's sums on every path
        assert three.tobytes() == pool2d(x, 3, stride=2, padding=1, op="avg", paths=numpy).tobytes()
        zeros = np.where(x > 0, 0.0, -0.0).astype(np.float32)  # a max of a float: the first of +0.0 and -0.0 on every path
        assert pool2d(zeros, 2, op="max").tobytes() == pool2d(zeros, 2, op="max", paths=numpy).tobytes()
        assert len(taken) == 5
        pool2d(x, 2, op="avg", paths="cold")
        assert len(taken) == 5


CALLS = st.tuples(
    st.sampled_from([(9, 11), (12, 7, 3), (33, 20), (16, 16, 2)]),
    st.sampled_from(["jit", "jit", "numpy", "dense", "separable"]),
    st.booleans(),
    st.sampled_from(["dense3", "gauss5", "box2", "int3"]),
    st.sampled_from([1, 2]),
    st.sampled_from(["same", "valid", 1]),
    st.sampled_from(["constant", "reflect", "replicate"]),
    st.sampled_from([0.0, -0.0, 0.5]),
    st.sampled_from(["float32", "float64", "uint8"]),
)


def _kernel(name: str) -> np.ndarray:
    if name == "dense3":
        return np.random.default_rng(5).normal(size=(3, 3))
    if name == "gauss5":
        g = np.array([1.0, 4, 6, 4, 1])
        return np.outer(g, g) / 256
    if name == "box2":
        return np.ones((2, 2)) / 4
    return np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


def _call(case):
    shape, force, flip, kname, stride, padding, mode, value, dtype = case
    x = (np.random.default_rng(len(shape) * 7 + shape[0]).random(shape) * 200).astype(dtype)
    return conv2d(x, _kernel(kname), stride=stride, padding=padding, pad_mode=mode, pad_value=value, flip=flip,
                  paths=policy.Paths(force=force))


@settings(max_examples=40, deadline=None)
@given(calls=st.lists(CALLS, min_size=2, max_size=5))
def test_remembering_never_changes_an_answer(calls):
    """Any sequence of calls gives, call by call, the bytes each gives with empty tables."""
    got = [_call(c).tobytes() for c in calls]
    for c, g in zip(calls, got):
        forget()
        assert _call(c).tobytes() == g


class TestThreads:
    def test_a_small_job_stays_on_the_calling_thread(self, monkeypatch):
        """The defect: a 256x256 3x3 was cut into blocks for two threads, whose hand-off cost
        more than the arithmetic (measured 1.3x slower than one thread)."""
        def no_pool(*_workers):
            raise AssertionError("a thread was started for a small job")

        monkeypatch.setattr(threads, "_helpers", no_pool)
        from kernelcli._core import native

        monkeypatch.setattr(native, "_helpers", no_pool)
        x = np.random.default_rng(3).random((256, 256), dtype=np.float32)
        conv2d(x, np.random.default_rng(4).normal(size=(3, 3)), paths=JIT)
        pool2d(x, 2, op="avg", paths=JIT)
        pool2d(x, 3, stride=2, paths=JIT)

    def test_a_large_job_still_uses_threads(self, monkeypatch):
        started = []
        original = threads._helpers

        def spy(workers):
            started.append(workers)
            return original(workers)

        monkeypatch.setattr(threads, "_helpers", spy)
        threads.run_rows(lambda i0, i1: None, 1024, threads=2, work=10 * threads.MIN_WORK_PER_THREAD)
        assert started

    @pytest.mark.parametrize("kernel", ["dense3", "gauss5", "int3"])
    @pytest.mark.parametrize("shape", [(300, 200), (150, 170, 3)])
    def test_serial_and_threaded_loops_give_the_same_bytes(self, monkeypatch, kernel, shape):
        x = np.random.default_rng(6).random(shape, dtype=np.float32)
        k = _kernel(kernel)
        from kernelcli._core import native

        monkeypatch.setattr(threads, "MIN_WORK_PER_THREAD", 10**15)
        monkeypatch.setattr(native, "MIN_WORK_PER_THREAD", 10**15)
        serial = conv2d(x, k, paths=JIT), pool2d(x, 2, op="avg", paths=JIT), pool2d(x, 3, stride=2, paths=JIT)
        monkeypatch.setattr(threads, "MIN_WORK_PER_THREAD", 1)
        monkeypatch.setattr(native, "MIN_WORK_PER_THREAD", 1)
        monkeypatch.setattr(threads, "count", lambda: 2)
        threaded = conv2d(x, k, paths=JIT), pool2d(x, 2, op="avg", paths=JIT), pool2d(x, 3, stride=2, paths=JIT)
        for a, b in zip(serial, threaded):
            assert a.tobytes() == b.tobytes()


PATHS = ["dense", "separable", "fft", "numpy", "jit"]


@st.composite
def screen_cases(draw):
    h, w, c = draw(st.integers(1, 14)), draw(st.integers(1, 14)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["dense", "rank1", "one tap", "sparse"]))
    if kind == "rank1":
        k = np.outer(rng.normal(size=kh), rng.normal(size=kw))
    else:
        k = rng.normal(size=(kh, kw))
        if kind != "dense":
            k *= rng.random((kh, kw)) < (0.0 if kind == "one tap" else 0.3)
            k[draw(st.integers(0, kh - 1)), draw(st.integers(0, kw - 1))] = 1.5
    stride = draw(st.sampled_from([(1, 1), (1, 1), (2, 1), (1, 3)]))
    dilation = draw(st.sampled_from([(1, 1), (1, 1), (2, 1)]))
    padding = draw(st.sampled_from(["same", "valid", 0, 1, (0, 2, 3, 0)]))
    where = (draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1)), draw(st.integers(0, c - 1)))
    mode = draw(st.sampled_from(["constant", "reflect", "circular", "replicate"]))
    return ((h, w, c), k, stride, dilation, padding, where, draw(st.sampled_from([np.nan, np.inf, -np.inf])),
            draw(st.sampled_from(PATHS)), mode)


class TestFiniteScreen:
    """The direct loops screen their outputs for NaN/infinity instead of a separate pass over the
    input (issue 17: that pass cost a third of a 3x3 on a large image); every non-finite input value
    is still refused, wherever it stands and whichever taps read it, on every path."""

    @settings(max_examples=150, deadline=None)
    @given(case=screen_cases(), dtype=st.sampled_from(["float32", "float64"]))
    def test_a_non_finite_value_anywhere_is_refused(self, case, dtype):
        shape, k, stride, dilation, padding, where, bad, path, mode = case
        x = np.random.default_rng(1).random(shape).astype(dtype)
        kw = dict(stride=stride, dilation=dilation, padding=padding, pad_mode=mode, paths=policy.Paths(force=path))
        try:
            conv2d(x, k, **kw)
        except Exception:  # a geometry the input cannot hold: nothing to screen
            return
        x[where] = bad
        with pytest.raises(UsageError, match="1 value"):
            conv2d(x, k, **kw)

    def test_the_full_check_is_skipped_when_the_screen_vouches(self, monkeypatch):
        from kernelcli import ndsupport

        calls = []
        original = ndsupport.check_finite
        monkeypatch.setattr(ndsupport, "check_finite", lambda *a: (calls.append(a[0].shape), original(*a)))
        x = np.random.default_rng(2).random((40, 30, 3), dtype=np.float32)
        conv2d(x, np.random.default_rng(3).normal(size=(3, 3)), paths=JIT)
        conv2d(x, np.outer([1.0, 2, 1], [1.0, 0, -1]), padding="valid", paths=policy.Paths(force="separable"))
        assert calls == []
        conv2d(x, np.ones((3, 3)), stride=2, paths=JIT)  # every other window overlaps the last: every cell read
        assert calls == []
        x[2, 5, 1] = np.nan  # stride 4: row 2 lies between windows, read by no output
        with pytest.raises(UsageError, match="1 value"):
            conv2d(x, np.ones((3, 3)), stride=4, paths=JIT)
        assert calls == [x.shape]

    @pytest.mark.parametrize("kernel, cover, stride", [
        (np.ones((3, 3)), (0, 40, 0, 30), 1),  # "valid": every cell is read by some tap
        (np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]), (0, 40, 0, 30), 1),  # a grid of taps with a zero column
        (np.eye(1, 25, 0) + np.eye(1, 25, 24), (0, 40, 0, 6), 1),  # two taps too far apart to join: one of them
        (np.array([[1.0, 0], [0, 1]]), (0, 39, 0, 29), 1),  # a diagonal is no grid: one tap's cells
        (np.ones((3, 3)), (0, 39, 0, 29), 2),  # stride 2: the windows overlap (the last row and column: no window)
        (np.ones((2, 2)), (0, 40, 0, 30), 2),  # stride 2: the windows tile the input
        (np.array([[1.0, 0], [0, 1]]), None, 2),  # a diagonal at stride 2: no tap reads a rectangle
        (np.ones((2, 2)), (0, 2, 0, 2), 3),  # stride 3: a column and a row between windows go unread
    ])
    def test_the_screen_covers_what_the_taps_read_together(self, kernel, cover, stride, monkeypatch):
        """Regression (speed): with "valid" padding the screen vouched for one tap's cells only, and the
        border strips beside them took a Python pass of their own (15-30 us on 256x256); at a stride it
        vouched for none, and the whole input was checked again (2048x2048 3x3 at stride 2: 4.3 against 1.9 ms)."""
        from kernelcli._core import engine

        plans = []
        original = engine.direct_plan
        monkeypatch.setattr(engine, "direct_plan", lambda *a, **k: plans.append(original(*a, **k)) or plans[-1])
        x = np.random.default_rng(4).random((40, 30), dtype=np.float32)
        conv2d(x, kernel, padding="valid", stride=stride, paths=policy.Paths(force="dense"))
        assert plans[0].cover == cover

    def test_an_overflow_of_finite_values_is_no_error(self):
        x = np.full((6, 6), 3e38, np.float32)
        out = conv2d(x, np.ones((3, 3)), paths=JIT)
        assert np.isinf(out).all()


class TestOneCompiledVersionPerDtype:
    """Numba compiles a loop once per writability of each argument: a decoded image is read-only,
    an array from numpy is not.  The defect: every loop and dtype was compiled twice (seconds each
    in a fresh install, most of the fresh CI run's compiling) into the same machine code.  Every
    input now reaches the loops read-only, the caller's array untouched."""

    @pytest.mark.parametrize("call", [
        lambda x: conv2d(x, np.ones((3, 3)), paths=policy.Paths(force="dense")),  # in place
        lambda x: conv2d(x, np.ones((7, 7)), paths=policy.Paths(force="dense")),  # through the ring
        lambda x: conv2d(x, np.ones((3, 3)), stride=2, paths=policy.Paths(force="dense")),
        lambda x: conv2d(x, np.outer([1.0, 2, 1], [1.0, 0, -1]), paths=policy.Paths(force="separable")),
        lambda x: conv2d(x.astype(np.uint8), np.outer([1.0, 2, 1], [1.0, 0, -1]), paths=policy.Paths(force="separable")),
        lambda x: conv2d(x.astype(np.uint8), np.ones((3, 3)), paths=policy.Paths(force="dense")),  # cast in the ring
        lambda x: pool2d(x, 2, op="avg", paths=JIT),
        lambda x: pool2d(x, 2, op="max", paths=JIT),
        lambda x: pool2d(x, 3, op="max", stride=1, padding=1, paths=JIT),
        lambda x: api.pad2d(x, 2, mode="reflect", paths=JIT),
    ], ids=["dense-in-place", "dense-ring", "dense-stride-2", "separable", "separable-uint8", "dense-uint8",
            "avg-2x2", "max-2x2", "max-general", "pad"])
    def test_the_loops_take_an_input_read_only(self, monkeypatch, call):
        from kernelcli._core import native

        seen = []

        def spying(module):
            original = module.run_rows

            def spy(fn, n_rows, *args, **kwargs):
                seen.append(args[0])
                return original(fn, n_rows, *args, **kwargs)

            monkeypatch.setattr(module, "run_rows", spy)

        spying(threads)
        spying(native)  # (the loops with a C entry point: kernelcli._core.native_rows)
        x = np.arange(400, dtype=np.float32).reshape(20, 20)
        call(x)
        assert seen and not any(src.flags.writeable for src in seen)
        assert x.flags.writeable

    def test_no_jitted_call_passes_a_number_written_out(self):
        """A jitted function calling another with ``0`` or ``1`` written out compiles the callee for
        that literal, besides the version for a variable: dense_rows (stride 1 spelled ``1``),
        the edge strips (``0``) and pad_into (``0``) were each compiled twice per dtype, the strips
        four times.  Inlined callees are exempt (they are no separate version)."""
        import ast
        from pathlib import Path

        core = Path(engine.__file__).parent
        trees = {f.name: ast.parse(f.read_text()) for f in core.glob("*.py")}

        def jit_decorator(node):
            return next((d for d in node.decorator_list if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "njit"), None)

        jitted = {node.name for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                  and (d := jit_decorator(node)) is not None and not any(k.arg == "inline" for k in d.keywords)}
        found = [(name, call.lineno, call.func.id) for name, tree in trees.items() for fn in ast.walk(tree)
                 if isinstance(fn, ast.FunctionDef) and jit_decorator(fn) is not None
                 for call in ast.walk(fn) if isinstance(call, ast.Call) and getattr(call.func, "id", None) in jitted
                 and any(isinstance(a, ast.Constant) and type(a.value) in (int, float) for a in call.args)]
        assert len(jitted) > 20 and not found

    def test_the_volume_passes_take_their_kernel_read_only(self, monkeypatch):
        """A 1-D kernel reached the 3-D passes read-only when remembered and writable when made for
        the call: two versions of each pass."""
        from kernelcli.volumes import correlate_separable

        seen = []
        original = threads.run_rows

        def spy(fn, n_rows, *args, **kwargs):
            seen.append(args[1])
            return original(fn, n_rows, *args, **kwargs)

        monkeypatch.setattr(threads, "run_rows", spy)
        vol = np.arange(6 * 7 * 8, dtype=np.float64).reshape(6, 7, 8)
        kernel = np.array([1.0, 2.0, 1.0])
        correlate_separable(vol, [kernel, kernel, kernel], paths=JIT)
        assert len(seen) == 3 and not any(k.flags.writeable for k in seen) and kernel.flags.writeable

    def test_padding_and_convolution_share_their_row_loop(self, monkeypatch):
        """pad2d handed the row loop (pad.pad_into, inside pad_rows) writable padding maps where the
        convolution loops hand it their remembered, read-only ones: two versions of it per dtype."""
        seen = []
        original = threads.run_rows

        def spy(fn, n_rows, *args, **kwargs):
            seen.append([a for a in args if isinstance(a, np.ndarray) and a.dtype == np.int64])
            return original(fn, n_rows, *args, **kwargs)

        monkeypatch.setattr(threads, "run_rows", spy)
        api.pad2d(np.zeros((6, 7), np.float32), 2, mode="reflect", paths=JIT)
        assert seen and seen[0] and not any(a.flags.writeable for a in seen[0])

    def test_the_tap_passes_have_one_version_per_dtype_pair(self):
        """The tap passes read three arrays that callers hand over writable (a ring, scratch weights)
        or read-only (the input, remembered taps): eleven versions of each pass were compiled in a
        fresh run of the suite, where two dtype pairs and their flags made three."""
        from numba import njit

        from kernelcli._core import taps

        @njit
        def both(dst, src, starts, ws, src_ro, starts_ro, ws_ro):  # a caller of each kind
            taps.apply_taps(dst[0], src, 0, starts, ws)
            taps.apply_taps(dst[1], src_ro, dst.shape[1] - dst.shape[1], starts_ro, ws_ro)

        src = np.arange(40.0)
        starts, ws = np.arange(25, dtype=np.int64), np.linspace(-1.0, 1.0, 25)  # passes of 16 and 9
        frozen = [a.copy() for a in (src, starts, ws)]
        for a in frozen:
            a.flags.writeable = False
        dst = np.empty((2, 10))
        both(dst, src, starts, ws, *frozen)
        expected = [sum(ws[t] * src[starts[t] + j] for t in range(25)) for j in range(10)]
        np.testing.assert_allclose(dst, [expected, expected], rtol=1e-12)
        # the passes are compiled with their driver (and cached in its library): its versions are theirs
        signatures = taps._apply_taps.signatures
        pairs = [(str(s[0].dtype), str(s[1].dtype)) for s in signatures]
        assert ("float64", "float64") in pairs and len(pairs) == len(set(pairs)), signatures
        assert not any(s[1].mutable or s[3].mutable or s[4].mutable for s in signatures), signatures
