"""Audit 118: `gallery` and `convolve --montage`, round 4 (the compute dtype, the montage's memory, the default
names, `--montage -`, the help's input formats)."""

from __future__ import annotations

import json

import numpy as np
import pytest


class TestReducedDtype:
    """Finding 1: a float32 image reduced to the tiles' scale was computed in float64 (a 1000x1000 array of 3e38
    gave a sheet, exit 0, range +-4.8e39, dtype float64), where a 20x20 one and `convolve` compute in float32 and
    refuse the overflow."""

    @pytest.mark.parametrize("dtype, computed", [(np.float32, "float32"), (np.float64, "float64"),
                                                 (np.uint16, "float64"), (np.int8, "float32"), (np.uint8, "float32")])
    def test_a_large_array_is_computed_in_convolves_dtype(self, invoke, tmp_path, dtype, computed):
        rng = np.random.default_rng(5)
        for name, shape in (("small.npy", (61, 47)), ("big.npy", (1000, 800))):
            np.save(tmp_path / name, (rng.normal(size=shape) * 40 + 60).astype(dtype))
            r = invoke("gallery", name, "--family", "edge", "--out", "g.png", "--force", "--json", "-q")
            assert r.exit_code == 0, r.output
            assert json.loads(r.stdout)["dtype"] == computed, name

    def test_the_reduced_image_is_in_the_compute_dtype(self):
        from kernelcli.jobs_gallery import tile_scale_image
        from kernelcli.ndsupport import compute_dtype

        for dtype in (np.float32, np.float64, np.uint8, np.uint16, np.int16, np.int8, np.bool_):
            reduced, f = tile_scale_image(np.ones((1000, 800), dtype), 192)
            assert f == 3 and reduced.dtype == compute_dtype(np.dtype(dtype)), dtype

    def test_a_float32_overflow_is_refused_whatever_the_size(self, invoke, tmp_path):
        for shape in ((20, 20), (1000, 1000)):
            np.save(tmp_path / "huge.npy", np.full(shape, 3e38, np.float32))
            r = invoke("gallery", "huge.npy", "--family", "edge", "--out", "g.png", "--force")
            assert r.exit_code == 2 and "overflows float32" in r.stderr and "Traceback" not in r.stderr, shape
            assert not (tmp_path / "g.png").exists()

    def test_the_mean_of_float32_values_near_their_limit_is_not_an_overflow(self):
        from kernelcli.jobs_gallery import tile_scale_image

        reduced, _ = tile_scale_image(np.full((1000, 1000), 3e38, np.float32), 192)
        assert reduced.dtype == np.float32 and np.isfinite(reduced).all()


class TestDefaultName:
    """Finding 3: `--family My-Edges` wrote phantom_gallery_my-edges.png and `--family my_edges`
    phantom_gallery_my_edges.png, the same sheet twice; `convolve -k Sobel-V` writes sobel_v."""

    def test_two_spellings_of_a_family_name_one_default_sheet(self, tmp_path):
        from conftest import run_in_process

        folder = tmp_path / "uk"
        folder.mkdir()
        (folder / "mine.json").write_text(json.dumps({"family": "my_edges", "kernels": [
            {"name": "dx_one", "matrix": [[-1, 0, 1]]}, {"name": "dy_one", "matrix": [[-1], [0], [1]]}]}))
        np.save(tmp_path / "a.npy", np.random.default_rng(0).random((20, 30)))
        env = {"KERNELCLI_KERNEL_PATH": str(folder)}
        first = run_in_process("gallery", "a.npy", "--family", "My-Edges", "--tile", "32", "--json", cwd=tmp_path, env=env)
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["output"] == "a_gallery_my_edges.png"
        again = run_in_process("gallery", "a.npy", "--family", "my_edges", "--tile", "32", cwd=tmp_path, env=env)
        assert again.returncode == 4 and "a_gallery_my_edges.png: already exists" in again.stderr
        assert sorted(p.name for p in tmp_path.glob("a_gallery*")) == ["a_gallery_my_edges.png"]

    def test_the_family_name_is_the_catalogues(self):
        from kernelcli.catalog import family_name, list_kernels

        assert family_name(" My-Edges ") == "my_edges"
        assert {k.family for k in list_kernels(" EDGE ")} == {family_name(" EDGE ")} == {"edge"}


class TestInputHelp:
    """Finding 5: gallery's help said "Image (PNG, JPEG, TIFF, BMP) or .npy array", but GIF files and .csv/.txt
    matrices are read too; convolve's help names them."""

    @staticmethod
    def _argument_help(name: str) -> str:
        from typer.main import get_command

        from kernelcli.cli import app

        return next(p.help for p in get_command(app).commands[name].params if p.param_type_name == "argument")

    def test_the_help_names_what_is_read_in_convolves_words(self):
        said = self._argument_help("gallery")
        assert "GIF" in said and ".csv/.txt matrices" in said, said
        from kernelcli.cli.options import IMAGE_FORMATS_HELP  # (declared once: the two helps say it alike)

        assert IMAGE_FORMATS_HELP in said and IMAGE_FORMATS_HELP in self._argument_help("convolve")

    def test_what_the_help_names_is_read(self, invoke, tmp_path):
        from PIL import Image

        Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 30, 3), dtype=np.uint8)).save(tmp_path / "a.gif")
        np.savetxt(tmp_path / "m.csv", np.arange(25.0).reshape(5, 5), delimiter=",")
        np.savetxt(tmp_path / "m.txt", np.arange(20.0).reshape(4, 5))
        for name in ("a.gif", "m.csv", "m.txt"):
            r = invoke("gallery", name, "--family", "edge", "--out", "g.png", "--force", "-q")
            assert r.exit_code == 0, (name, r.output)


class TestMontageDash:
    """Finding 4: `convolve --montage -` was refused as "-: a montage is a picture: expected one of .png, ...", a file
    name with a wrong extension; --montage's help said .png, while .jpg/.jpeg/.bmp/.tif/.tiff are written."""

    @pytest.mark.parametrize("extra", [[], ["--out", "maps.npy"], ["--json"]])
    def test_a_montage_on_stdout_is_refused_in_words_that_say_so(self, invoke, tmp_path, extra):
        np.save(tmp_path / "a.npy", np.random.default_rng(0).random((20, 30)))
        r = invoke("convolve", "a.npy", "-k", "sobel_v", "-k", "sobel_h", "--montage", "-", *extra)
        assert r.exit_code == 2 and "Traceback" not in r.stderr, r.output
        assert "--montage -: a montage is written to a file, not to stdout" in r.stderr
        assert "expected one of" not in r.stderr
        if extra == ["--json"]:  # the failure's record, as for any refused output
            doc = json.loads(r.stdout)
            assert doc["status"] == "failed" and doc["code"] == 2 and "not to stdout" in doc["error"]
        else:
            assert r.stdout == ""
        assert not (tmp_path / "maps.npy").exists() and not (tmp_path / "-").exists()

    def test_with_stdin_or_stdout_piped_the_same_words(self, tmp_path):
        from conftest import run_in_process

        np.save(tmp_path / "a.npy", np.random.default_rng(0).random((20, 30)))
        for args, stdin in ((["a.npy", "--out", "-", "--format", "npy"], b""),
                            (["-"], (tmp_path / "a.npy").read_bytes())):
            r = run_in_process("convolve", *args, "-k", "sobel_v", "-k", "sobel_h", "--montage", "-", cwd=tmp_path,
                               input=stdin)
            assert r.returncode == 2 and "--montage -: a montage is written to a file, not to stdout" in r.stderr, r.stderr
            assert r.stdout == ""

    def test_the_api_says_the_same(self, tmp_path):
        from kernelcli.catalog import load_kernel
        from kernelcli.errors import UsageError
        from kernelcli.jobs import ConvolveOptions, convolve_bank_file

        np.save(tmp_path / "a.npy", np.random.default_rng(0).random((20, 30)))
        with pytest.raises(UsageError, match="not to stdout"):
            convolve_bank_file(tmp_path / "a.npy", [load_kernel("sobel_v"), load_kernel("sobel_h")], ConvolveOptions(),
                               out=None, montage="-")

    def test_the_help_lists_every_format_written(self, invoke, tmp_path):
        from typer.main import get_command

        from kernelcli.cli import app
        from kernelcli.jobs import MONTAGE_SUFFIXES

        helps = {name: next(p.help for p in get_command(app).commands[name].params if p.name == want)
                 for name, want in (("convolve", "montage"), ("gallery", "out"))}
        np.save(tmp_path / "a.npy", np.random.default_rng(0).random((20, 30)))
        for suffix in MONTAGE_SUFFIXES:
            assert all(suffix in said for said in helps.values()), (suffix, helps)
            r = invoke("convolve", "a.npy", "-k", "sobel_v", "-k", "sobel_h", "--montage", f"m{suffix}", "-q")
            assert r.exit_code == 0 and (tmp_path / f"m{suffix}").stat().st_size > 0, r.output
