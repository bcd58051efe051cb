"""The imports show the layers: no import loop, nothing imported from a higher layer, one owner per vocabulary.

The layer table below is the design note of the README's Development section, checked:
a module may import its own layer and the layers below it, never one above.  Imports
inside functions count too (they are how commands stay fast to start, not a way around
the layers).  Module-level imports may not form a loop at all; the few deliberate
function-level loops inside one layer are listed, so that a new one fails here.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kernelcli

PACKAGE = Path(kernelcli.__file__).resolve().parent
REPO = PACKAGE.parent

#: Lowest first.  A name matches a module and everything below it (``kernelcli._core`` is the package).
LAYERS = {
    "base": ["kernelcli", "kernelcli.errors", "kernelcli.modes", "kernelcli.result_names", "kernelcli.shapes", "kernelcli.whole_numbers", "kernelcli.resources",
             "kernelcli.layout", "kernelcli.ndsupport", "kernelcli.given_values", "kernelcli.long_doubles", "kernelcli.limits", "kernelcli.records"],
    "core": ["kernelcli._core"],
    "arrays": ["kernelcli.api", "kernelcli.conv_args", "kernelcli.pool_args", "kernelcli.layers", "kernelcli.layer_sums", "kernelcli.out_buffers", "kernelcli.layer_jit", "kernelcli.banks", "kernelcli.volumes", "kernelcli.volume_args", "kernelcli.volume_filters", "kernelcli.learn",
               "kernelcli.learn_options", "kernelcli.learn_checks", "kernelcli.learn_system", "kernelcli.learn_gd", "kernelcli.learn_report", "kernelcli.learn_judge",
               "kernelcli.tiled", "kernelcli.jitcache", "kernelcli.kernel_build", "kernelcli.volume_grammar", "kernelcli.bands"],
    "files": ["kernelcli.io", "kernelcli.images", "kernelcli.catalog", "kernelcli.catalog_format", "kernelcli.kernel_names", "kernelcli.kernel_json", "kernelcli.catalog_files", "kernelcli.kernel_shown", "kernelcli.kernel_paths", "kernelcli.catalog_parametric", "kernelcli.kernel_syntax", "kernelcli.medical",
              "kernelcli.netspec", "kernelcli.montage", "kernelcli.pipes", "kernelcli.volume_inputs", "kernelcli.learn_plot",
              "kernelcli.tiled.stores", "kernelcli.tiled.writers", "kernelcli.tiled.tiff", "kernelcli.tiled.urls", "kernelcli.startup"],
    "jobs": ["kernelcli.jobs", "kernelcli.jobs_common", "kernelcli.job_checks", "kernelcli.jobs_maps", "kernelcli.maps_outputs", "kernelcli.layer_files", "kernelcli.jobs_montage", "kernelcli.jobs_gallery", "kernelcli.batch", "kernelcli.batch_pool", "kernelcli.batch_watch", "kernelcli.batch_plan", "kernelcli.batch_patterns", "kernelcli.batch_targets", "kernelcli.batch_rereads", "kernelcli.batch_records", "kernelcli.batch_kinds", "kernelcli.chain", "kernelcli.medical.jobs", "kernelcli.medical.pooling", "kernelcli.medical.volume_calls", "kernelcli.tiled.files", "kernelcli.tiled.outputs", "kernelcli.tiled.nifti",
             "kernelcli.tiled.cluster"],
    "cli": ["kernelcli.cli", "kernelcli.worker", "kernelcli.__main__"],
}
#: Packages whose ``__init__`` re-exports a higher layer than their submodules (a facade).
FACADES = {"kernelcli.medical": "jobs"}
ORDER = list(LAYERS)
#: Function-level import loops inside one layer, each on purpose (lazy in one direction).
ALLOWED_LOOPS = {
    frozenset({"kernelcli.api", "kernelcli.tiled.arrays"}),  # api hands dask arrays to tiled; tiled runs api per tile
    frozenset({"kernelcli.volumes", "kernelcli.tiled.arrays"}),
    frozenset({"kernelcli.catalog", "kernelcli.kernel_syntax"}),  # --kernel grammar <-> the catalogue it names
    frozenset({"kernelcli.cli", "kernelcli.cli.root"}),  # the entry point builds the Typer app only when needed
    # medical.volume picks a reader when a file is read; each reader builds a Volume
    frozenset({"kernelcli.medical.volume", "kernelcli.medical.dicom"}),
    frozenset({"kernelcli.medical.volume", "kernelcli.medical.itk"}),
    frozenset({"kernelcli.medical.volume", "kernelcli.medical.nifti"}),
    frozenset({"kernelcli.medical.dicom", "kernelcli.medical.series"}),
}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def layer_of(name: str) -> str:
    if name in FACADES:
        return FACADES[name]
    best, best_len = None, -1
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = layer, len(prefix)
    assert best is not None, f"{name} is in no layer: add it to LAYERS in tests/test_layering.py (and to the README's design note)"
    return best


def imports(mods: dict[str, Path]) -> dict[str, set[tuple[str, bool]]]:
    """module -> {(imported kernelcli module, at module level?)}."""
    edges: dict[str, set[tuple[str, bool]]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        top = {id(node) for node in tree.body}
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target for a in node.names]
            for target in targets:
                if not target.startswith("kernelcli"):
                    continue
                while target not in mods and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target != name:
                    edges.setdefault(name, set()).add((target, id(node) in top))
    return edges


MODS = modules()
EDGES = imports(MODS)


def test_every_module_has_a_layer():
    for name in MODS:
        layer_of(name)


def test_no_import_from_a_higher_layer():
    wrong = []
    for name, targets in EDGES.items():
        for target, _top in targets:
            if ORDER.index(layer_of(target)) > ORDER.index(layer_of(name)):
                wrong.append(f"{name} ({layer_of(name)}) imports {target} ({layer_of(target)})")
    assert not wrong, "\n".join(sorted(wrong))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_loop_at_module_level():
    top = {name: {t for t, at_top in targets if at_top} for name, targets in EDGES.items()}
    assert _cycles(top) == []


def test_function_level_loops_are_the_listed_ones():
    every = {name: {t for t, _ in targets} for name, targets in EDGES.items()}
    for comp in _cycles(every):
        pairs = {frozenset({a, b}) for a in comp for b in comp if a != b and b in every.get(a, ()) and a in every.get(b, ())}
        assert pairs and pairs <= ALLOWED_LOOPS, f"import loop {comp}"


def test_the_core_reads_no_environment_no_files_no_terminal():
    for path in (PACKAGE / "_core").glob("*.py"):
        text = path.read_text()
        assert "KERNELCLI_" not in text, path.name
        for module in ("typer", "rich", "PIL", "click", "pathlib", "pickle", "subprocess"):
            assert not re.search(rf"^\s*(import|from) {module}\b", text, re.M), (path.name, module)
    for name in ("api", "layers", "layer_jit", "volumes", "volume_args", "ndsupport"):
        assert "KERNELCLI_" not in (PACKAGE / f"{name}.py").read_text(), name


def test_the_cli_passes_the_policy_and_debug_through_no_environment():
    for path in (PACKAGE / "cli").glob("*.py"):
        text = path.read_text()
        if path.name == "_early.py":  # the one exception: numpy's OpenBLAS starts with one thread, a third-party
            # library's start-up setting, not kernelcli's policy, and removed again when the command returns
            text = text.replace('os.environ["OPENBLAS_NUM_THREADS"] = "1"', "", 1)
        assert not re.search(r"os\.environ\[[^]]+\]\s*=|os\.environ\.setdefault|putenv", text), path.name


def test_each_numeric_code_is_defined_once():
    """The jitted loops take codes; only kernelcli.modes numbers a vocabulary."""
    code_names = r"(CONSTANT|REPLICATE|REFLECT|SYMMETRIC|CIRCULAR|MAX|MIN|AVG|NONE|RELU|LEAKY_RELU|SIGMOID|TANH)"
    literal = re.compile(rf"^\s*{code_names}(\s*,\s*\w+)*\s*=\s*(range\(|\d)", re.M)
    tables = re.compile(r"^\s*(PAD_CODES|POOL_CODES|ACTIVATION_CODES)\s*=", re.M)
    for name, path in MODS.items():
        text = path.read_text()
        assert not literal.search(text), f"{name} numbers a vocabulary itself; take the codes from kernelcli.modes"
        if name != "kernelcli.modes":
            assert not tables.search(text), name


#: the generator ships with the source (sdist, checkout), not in the wheel: look beside these tests,
#: and check the taps.py of the kernelcli these tests imported (the installed copy under plain pytest)
GENERATOR = Path(__file__).resolve().parents[1] / "tools" / "gen_taps.py"


@pytest.mark.parametrize("generator, module", [("gen_taps.py", "taps.py"), ("gen_native_rows.py", "native_rows.py"),
                                               ("gen_layer_blocks.py", "layer_blocks.py")])
def test_generated_modules_match_their_generators(generator, module):
    generator = GENERATOR.parent / generator
    if not generator.exists():
        pytest.skip("tools/ is not shipped with this copy")
    done = subprocess.run([sys.executable, str(generator), "--check", str(PACKAGE / "_core" / module)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_drifted_taps_module_is_caught(tmp_path):
    generator = GENERATOR
    if not generator.exists():
        pytest.skip("tools/ is not shipped with this copy")
    drifted = tmp_path / "taps.py"
    drifted.write_text((PACKAGE / "_core" / "taps.py").read_text().replace("w0 * s0[j]", "w0 * s0[j] * 1", 1))
    done = subprocess.run([sys.executable, str(generator), "--check", str(drifted)], capture_output=True, text=True)
    assert done.returncode == 1 and "python tools/gen_taps.py" in done.stderr


def test_an_edited_loop_module_changes_the_native_entry_points_hash(tmp_path):
    """Numba keys a native entry point's cache on native_rows.py alone: the hash of the loops' modules it holds
    changes with any of them (the generator check then fails until the file is written again)."""
    import importlib.util
    import shutil

    path = GENERATOR.parent / "gen_native_rows.py"
    if not path.exists():
        pytest.skip("tools/ is not shipped with this copy")
    spec = importlib.util.spec_from_file_location("gen_native_rows_under_test", path)
    generator = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(generator)
    finally:
        sys.path.remove(str(path.parent))
    copy = tmp_path / "kernelcli"
    shutil.copytree(generator.TARGET.parent.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = generator.loop_sources_hash(copy / "_core")
    assert {p.name for p in generator.loop_modules(copy / "_core")} >= {"pool.py", "conv.py", "sep8.py", "taps.py"}
    for name in ("pool.py", "taps.py"):
        with (copy / "_core" / name).open("a") as f:
            f.write("# edited\n")
        after = generator.loop_sources_hash(copy / "_core")
        assert after != before
        before = after


def test_every_public_name_still_resolves():
    """Names that moved (kernels to kernel_build, dtype rules to ndsupport) stay importable from their old homes."""
    import importlib

    for name in kernelcli.__all__:
        assert getattr(kernelcli, name) is not None, name
    old_homes = {
        "kernelcli.volumes": ["gaussian_mm", "box_mm", "gaussian_vox", "gaussian_1d", "radius_for", "Kernel3D", "KERNELS_3D",
                              "kernel_3d", "TRUNCATE", "MAX_TAPS", "AXES", "volume_dtype", "resolve_padding3d", "as_volume"],
        "kernelcli.api": ["compute_dtype", "as_image_array", "as_kernel_array", "SMALL_WORK", "conv2d", "pad2d", "pool2d"],
        "kernelcli.medical.kernels": ["FWHM_PER_SIGMA", "resolve_volume_kernel", "VolumeKernel", "SMOOTHING", "DERIVATIVES"],
        "kernelcli.volume_filters": ["gaussian_second_derivative_1d"],
        "kernelcli.shapes": ["resolve_padding", "same_padding"],
        # readers and writers moved into kernelcli.io; the old module re-exports them
        "kernelcli.images": ["read_input", "write_output", "check_input_path", "check_output_path", "stat_input", "Loaded",
                             "Written", "Encoding", "to_integer_range", "sniff_format", "estimate_bytes", "format_matrix_csv",
                             "format_matrix_table", "format_number", "DEFAULT_MAX_PIXELS", "PILLOW_FORMATS", "MAX_MATRIX_BYTES",
                             "INPUT_SUFFIXES", "OUTPUT_SUFFIXES", "atomic_write", "write_bytes_atomic", "same_file",
                             "default_max_bytes", "MEMORY_ENV", "_SIGNATURES", "_read_image", "_read_npy", "_read_matrix",
                             "_one_line", "_same_file", "_atomic_write", "_size_text", "_check_memory"],
        "kernelcli.pipes": ["Pipes", "is_stdio", "sniff_bytes", "STDIO", "PIPE_FORMATS"],
    }
    for module, names in old_homes.items():
        loaded = importlib.import_module(module)
        for name in names:
            assert hasattr(loaded, name), f"{module}.{name}"
    from kernelcli import images, io, kernel_build, pipes, volumes
    from kernelcli.io import formats
    from kernelcli.io import pipes as io_pipes

    assert volumes.gaussian_mm is kernel_build.gaussian_mm and volumes.KERNELS_3D is kernel_build.KERNELS_3D
    assert images.read_input is formats.read_input is io.read_input is kernelcli.read_input
    assert images.Encoding is io.Encoding and pipes.Pipes is io_pipes.Pipes
    from kernelcli import volume_filters
    from kernelcli.medical import kernels as medical_kernels

    from kernelcli import volume_grammar

    assert medical_kernels.VolumeKernel is volume_grammar.VolumeKernel
    assert volume_filters.gaussian_second_derivative_1d is kernel_build.gaussian_second_derivative_1d


def test_the_io_package_names_only_modules_of_its_layer_or_below():
    """``kernelcli.io`` loads its names lazily (strings the import walk cannot see): each from a module no higher than files."""
    import kernelcli.io as io

    wrong = [f"{name} from {module} ({layer_of(module)})" for name, module in io._LAZY.items()
             if ORDER.index(layer_of(module)) > ORDER.index("files")]
    assert not wrong, wrong
    for name in io.__all__:
        assert getattr(io, name) is not None, name


def test_files_enter_and_leave_through_the_io_package():
    """``kernelcli.images`` and ``kernelcli.pipes`` are only former homes: no module of the package imports them."""
    shims = {"kernelcli.images", "kernelcli.pipes"}
    users = sorted(f"{name} imports {target}" for name, targets in EDGES.items() for target, _ in targets
                   if target in shims and name not in shims)
    assert not users, "\n".join(users)
    for shim in shims:
        assert {t for t, _ in EDGES.get(shim, ())} <= {name for name in MODS if name.startswith("kernelcli.io")} | {"kernelcli.limits"}


def test_the_volume_kernel_grammar_is_built_below_the_files_layer():
    """volume_grammar resolves the volume grammar; the 2-D catalogue (which reads files) is passed in."""
    from kernelcli import volume_grammar
    from kernelcli.catalog import load_kernel
    from kernelcli.errors import KernelNotFound
    from kernelcli.medical import resolve_volume_kernel

    assert volume_grammar.resolve_volume_kernel("fwhm:4mm") == resolve_volume_kernel("fwhm:4mm")
    assert volume_grammar.resolve_volume_kernel("sobel_3d_z").kind == "3d"
    with pytest.raises(KernelNotFound, match="not a volume kernel"):
        volume_grammar.resolve_volume_kernel("sobel_v")
    assert volume_grammar.resolve_volume_kernel("sobel_v", load_kernel) == resolve_volume_kernel("sobel_v")


def test_the_old_small_work_switch_is_deprecated_but_works(monkeypatch):
    from kernelcli import api
    from kernelcli._core import policy

    monkeypatch.setattr(policy, "DEFAULT", policy.DEFAULT)  # restored afterwards
    old = api.SMALL_WORK
    try:
        with pytest.warns(DeprecationWarning, match="paths="):
            api.SMALL_WORK = -1
        assert policy.DEFAULT.force == "jit"
    finally:
        with pytest.warns(DeprecationWarning):
            api.SMALL_WORK = old


def test_the_api_module_pickles_by_name_so_closures_reach_dask_workers():
    """Regression: the module's own class (kept for SMALL_WORK) made ``pickle`` and
    cloudpickle refuse any user closure that held ``kernelcli.api``."""
    import pickle

    import numpy as np

    from kernelcli import api

    assert pickle.loads(pickle.dumps(api)) is api
    cloudpickle = pytest.importorskip("cloudpickle")
    double = pickle.loads(cloudpickle.dumps(lambda x: api.conv2d(x, [[2.0]])))
    assert np.array_equal(double(np.ones((2, 3))), np.full((2, 3), 2.0))

