"""The worker's warm-up: everything a call may need, imported and loaded once before the fork.

:func:`warm_up` imports the modules calls use, loads the jitted core from Numba's cache (every
compiled version the cache holds: :func:`load_cached_overloads`), parses typical command lines
once and returns the click command a call runs; :func:`cache_state` of the files
:func:`index_paths` names is what the server watches to notice that a call compiled something
new.  Used by :mod:`kernelcli.worker.server`.

Example
-------
>>> len(dispatchers()) > 20  # the jitted functions of the core it loads
True
"""

from __future__ import annotations

import os
import sys


def warm_up():
    """Import every module a call may need and load the jitted core from Numba's cache;
    return the click command of the app, built once.

    The core is loaded by running the public functions on tiny arrays, on the calling
    thread only (no thread pool exists when the worker forks).  Module state those calls
    touch (first-compile notes) is put back as a fresh process has it.
    """
    import importlib

    from ..cli import root  # noqa: F401  (the app and its command modules, imported before the fork)

    for name in (
        "numpy", "PIL.Image", "PIL.PngImagePlugin", "PIL.JpegImagePlugin", "PIL.TiffImagePlugin", "PIL.BmpImagePlugin",
        "kernelcli.api", "kernelcli.io.formats", "kernelcli.jobs", "kernelcli.batch", "kernelcli.catalog",
        "kernelcli.layers", "kernelcli.montage", "kernelcli.volumes", "kernelcli.volume_inputs", "kernelcli.learn",
        "kernelcli.netspec", "kernelcli._core.fft", "scipy.fft", "rich.console", "rich.table", "rich.progress",
        "rich._emoji_codes", "PIL.GifImagePlugin", "PIL.PpmImagePlugin", "encodings.utf_8_sig", "kernelcli.kernel_syntax",
        "kernelcli.pipes", "kernelcli.chain", "kernelcli.layout", "kernelcli.tiled.files", "kernelcli.tiled.stores", "kernelcli.tiled.nifti",
        "kernelcli._core.sgd", "kernelcli.learn_plot", "kernelcli.tiled.urls", "isal.isal_zlib", "kernelcli._core.eightbit",
        "kernelcli.bands", "kernelcli.io.pictures",
    ):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    _load_core()
    load_cached_overloads()
    try:
        from .. import catalog

        catalog.list_kernels()  # parsed once here: each call then only reads and compares the files
        catalog._NOTED.clear()  # a file skipped here is noted by each call, as in a fresh process
    except Exception:  # noqa: BLE001 - a broken catalogue is each call's to report
        pass
    from ..cli import _common, build_command
    from ..records import replace

    # The core is loaded here: where paths give the same bytes, the cheapest with it loaded
    # (elsewhere the built-in estimate decides, as in a fresh process: the same bytes).
    _common.CLI_PATHS = replace(_common.CLI_PATHS, core_loaded=True)

    command = build_command(every=True)  # what a cold call runs (converters, messages), every command built once
    _dry_parse(command)
    _quiet_numba_exit()
    return command


#: command lines parsed (never run) by :func:`_dry_parse` (an input that exists: this file)
_DRY_PARSES = (
    ["shape", "--in", "8", "--f", "3", "-q"],
    ["convolve", __file__, "-k", "sobel_v", "-o", "out.png", "--force", "-q"],
    ["pool", __file__, "-f", "2", "-o", "out.png", "-q"],
)


#: what :func:`typical_calls` runs (``probe.png``: a 64x64 8-bit PNG it writes first)
_PROBE_CALLS = (
    ["shape", "--in", "224x224", "--f", "3", "--same", "-q"],
    ["convolve", "probe.png", "-k", "sobel_v", "-o", "out.png", "-q"],
)


def typical_calls(command):
    """A function that runs :data:`_PROBE_CALLS` with ``command`` as calls run, in a new temporary
    folder, stdin, stdout and stderr on the null device: for :func:`.prefault.probe`, which runs it
    in a fork of the worker."""

    def calls() -> None:
        import shutil
        import tempfile

        import numpy as np
        from PIL import Image

        from ..cli import run

        folder = tempfile.mkdtemp(prefix="kernelcli-probe-")
        try:
            os.chdir(folder)
            Image.fromarray(np.arange(64 * 64, dtype=np.uint8).reshape(64, 64)).save("probe.png")
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            for argv in _PROBE_CALLS:
                run(list(argv), command=command, held=[])
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return calls


def _dry_parse(command) -> None:
    """Parse typical command lines without running them: what parsing imports or compiles
    lazily (Click's help option, its escaping pattern) is then loaded once, before the
    fork, instead of in every call's process (1-3 ms a call)."""
    for argv in _DRY_PARSES:
        try:
            ctx = command.make_context("kernelcli", list(argv))
            name, sub, args = command.resolve_command(ctx, [*getattr(ctx, "_protected_args", getattr(ctx, "protected_args", ())), *ctx.args])
            sub.make_context(name, args, parent=ctx)
        except Exception:  # noqa: BLE001 - only a warm-up
            pass


def _quiet_numba_exit() -> None:
    """Numba's dispatchers register exit-time finalizers that do nothing at exit (they check
    that the interpreter is shutting down and return): about 90 of them took 1.5-2 ms at the
    end of every call's process.  They no longer run at exit; everything else does."""
    import weakref

    for finalizer, info in list(weakref.finalize._registry.items()):
        func = getattr(info, "func", None)
        if getattr(func, "__module__", "") == "numba.core.dispatcher" and "_make_finalizer" in getattr(func, "__qualname__", ""):
            finalizer.atexit = False


def _load_core() -> None:
    import itertools

    import numpy as np

    from .. import api
    from .._core import threads
    from .._core.policy import Paths
    from ..jitcache import CORE_NOTE, LAYER_NOTE

    jit = Paths(force="jit")  # the jitted core even for these tiny arrays
    sobel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    gauss = np.outer([1.0, 4, 6, 4, 1], [1.0, 4, 6, 4, 1]) / 256
    with CORE_NOTE.kept(), LAYER_NOTE.kept():  # the calls after say their own notes
        try:
            for dtype in ("uint8", "uint16", "float32", "float64"):
                for shape, read_only in itertools.product(((20, 20), (20, 20, 3)), (False, True)):
                    x = np.ones(shape, dtype=dtype)
                    x.setflags(write=not read_only)  # a decoded image is read-only
                    for k in (sobel, gauss, sobel, gauss):  # twice: the second call meets remembered (read-only) maps
                        api.conv2d(x, k, paths=jit)
                        api.conv2d(x, k, stride=2, paths=jit)
                    api.pool2d(x, 2, op="max", paths=jit)
                    api.pool2d(x, 2, op="avg", paths=jit)
                    api.pool2d(x, 3, op="max", stride=1, padding=1, paths=jit)
                    api.pad2d(x, 1, pad_mode="reflect", paths=jit)
            from .._core import eightbit

            block = np.zeros((2, 6), dtype=np.float32)  # a band of an 8-bit picture's result (kernelcli.io.pictures)
            eightbit.rows_to_uint8(block, np.empty((2, 6), dtype=np.uint8), False)
            eightbit.rows_to_rgbx(block, np.empty((2, 2), dtype=np.uint32), True)
            threads.prepare()  # the helper threads' poll, loaded and measured once (the children start their own threads)
            from .._core import native

            native.prepare(entries=True)  # the native helpers' driver and the loops' C entry points, as loaded
        except Exception as exc:  # a warm-up that fails only costs speed
            print(f"kernelcli worker: warm-up incomplete: {exc}", file=sys.stderr, flush=True)


def dispatchers() -> list:
    """Every jitted function of the core (its modules imported)."""
    import importlib
    import pkgutil

    from numba.core.dispatcher import Dispatcher

    from .. import _core

    found = []
    for info in pkgutil.iter_modules(_core.__path__):
        try:
            module = importlib.import_module(f"{_core.__name__}.{info.name}")
        except ImportError:
            continue
        found += [f for f in vars(module).values() if isinstance(f, Dispatcher) and f.__module__ == module.__name__]
    return found


def index_paths() -> tuple[str, ...]:
    """The Numba cache index file of every jitted function of the core (whether it exists yet or not)."""
    if "numba" not in sys.modules:
        return ()
    paths = []
    for function in dispatchers():
        try:
            paths.append(function._cache._cache_file._index_path)
        except AttributeError:
            continue
    return tuple(sorted(paths))


def cache_state(paths: tuple[str, ...] | None = None) -> tuple:
    """(index file, size, time) of every jitted function's Numba cache index: what a call's
    compilation changes.  ``paths``: the index files to look at (:func:`index_paths`, found once:
    finding them walks every module of the core, ~1.3 ms that the worker would pay after every call).
    """
    state = []
    for path in index_paths() if paths is None else paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        state.append((path, st.st_size, st.st_mtime_ns))
    return tuple(state)


def load_cached_overloads() -> int:
    """Load every compiled version of every jitted function that Numba's cache holds; how many.

    The tiny arrays of :func:`_load_core` cannot foresee every signature a call brings (a
    read-only decoded image, a remembered read-only index map, another dtype): one it missed
    would be loaded from the cache -- or compiled -- in every call's process, and thrown away
    with it.  What this install ever compiled is loaded here once instead (never compiled:
    an entry the cache cannot give back is skipped).
    """
    loaded = 0
    for function in dispatchers():
        try:
            cache = function._cache
            magic = function.targetctx.codegen().magic_tuple()
            for key in list(cache._cache_file._load_index()):
                sig, target = key[0], key[1]  # (signature, target machine, ...): the tail varies by Numba version
                # an eagerly compiled function's entry is keyed by its signature's text: its one
                # version is loaded at import already (added again, every call would be ambiguous)
                if isinstance(sig, str) or target != magic or tuple(sig) in function.overloads:
                    continue
                compiled = cache.load_overload(sig, function.targetctx)
                if compiled is not None:
                    # as Numba's own cache hit does (Dispatcher.compile): a jitted function compiled
                    # later that calls this version must find it to lower the call
                    if not compiled.objectmode:
                        function.targetctx.insert_user_function(compiled.entry_point, compiled.fndesc, [compiled.library])
                    function.add_overload(compiled)
                    loaded += 1
        except Exception:  # noqa: BLE001 - Numba's internals moved: a call then loads what it needs
            continue
    return loaded
