"""The wheel ships the kernel catalogue: every kernels/*.json is inside as kernelcli/kernels/...

Builds with the installed hatchling (``--no-isolation``: no network), then checks the archive and
runs the unpacked wheel to see that ``catalog_dir()`` finds the shipped folder, not the repository's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    wheels = list(outdir.glob("kernelcli-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_every_kernel_file_is_in_the_wheel(wheel):
    shipped = sorted((REPO / "kernels").rglob("*.json"))
    assert any(p.name == "edge.json" for p in shipped)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for path in shipped:
            inside = "kernelcli/kernels/" + path.relative_to(REPO / "kernels").as_posix()
            assert inside in names, f"{inside} missing from {wheel.name}"
            assert archive.read(inside) == path.read_bytes(), f"{inside} differs from {path}"
        assert "kernelcli/catalog.py" in names


def test_unpacked_wheel_finds_its_own_catalogue(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
    code = (
        "import kernelcli, kernelcli.catalog as c, kernelcli.resources as r; "
        "print(kernelcli.__file__); print(r.catalog_dir()); "
        "print(len(c.list_kernels())); print(c.load_kernel('sobel_v').path)"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    env.pop("KERNELCLI_KERNEL_PATH", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    package, folder, count, sobel = result.stdout.split("\n")[:4]
    site = tmp_path / "site"
    assert Path(package).is_relative_to(site)
    assert Path(folder) == site / "kernelcli" / "kernels"
    assert int(count) >= 20
    assert Path(sobel) == site / "kernelcli" / "kernels" / "edge.json"


def test_the_command_is_the_package_main_as_a_script_that_imports_nothing_first(wheel, tmp_path):
    """The wheel's ``kernelcli`` is ``kernelcli/__main__.py`` (hatchling's shared-scripts), its first line
    ``#!python`` for the installer to point at the environment's python: no generated console script,
    whose template imports ``re`` before kernelcli (a warm ``shape -q`` 47 ms with it, 32 without, on a 2-vCPU Xeon)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        scripts = [n for n in names if "/scripts/" in n and n.endswith(".data/scripts/kernelcli")]
        assert len(scripts) == 1, names
        text = archive.read(scripts[0]).decode()
        assert not any(n.endswith("entry_points.txt") and b"console_scripts" in archive.read(n) for n in names)
        archive.extractall(tmp_path / "site")
    first, rest = text.split("\n", 1)
    assert first == "#!python"
    assert rest == (REPO / "kernelcli" / "__main__.py").read_text().split("\n", 1)[1]
    assert [line for line in rest.splitlines() if line.startswith(("import", "from"))] == ["from kernelcli.cli import entry"]
    command = tmp_path / "kernelcli"
    command.write_text(f"#!{sys.executable}\n{rest}")
    command.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "KERNELCLI_WORKER": "off"}
    result = subprocess.run([str(command), "shape", "--in", "24", "--f", "5", "-q"], env=env, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (0, "20\n", "")
