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
        from kernelcli.maps_outputs import MONTAGE_SUFFIXES

        helps = {name: next(p.help for p in get_command(app).commands[name].params if p.name == want)
                 for name, want in (("convolve", "montage"), ("gallery", "out"))}
        np.save(tmp_path / "a.npy", np.random.default_rng(0).random((20, 30)))
        for suffix in MONTAGE_SUFFIXES:
            assert all(suffix in said for said in helps.values()), (suffix, helps)
            r = invoke("convolve", "a.npy", "-k", "sobel_v", "-k", "sobel_h", "--montage", f"m{suffix}", "-q")
            assert r.exit_code == 0 and (tmp_path / f"m{suffix}").stat().st_size > 0, r.output


class TestMontageMemory:
    """Finding 2: `convolve --montage` on a 12 MP photo held every full-size map (0.9-1.2 GB for 3-4 kernels), and
    to_display made a float64 copy of each; a montage written alone is now drawn one kernel at a time."""

    @staticmethod
    def _inputs(tmp_path):
        from PIL import Image

        rng = np.random.default_rng(3)
        Image.fromarray(rng.integers(0, 256, (70, 90), dtype=np.uint8)).save(tmp_path / "g.png")
        Image.fromarray(rng.integers(0, 256, (60, 50, 3), dtype=np.uint8)).save(tmp_path / "c.png")
        np.save(tmp_path / "z.npy", rng.normal(size=(3, 40, 30)).astype(np.float32))
        np.save(tmp_path / "w.npy", rng.normal(size=(3, 3, 3, 3)))
        return ("g.png", "c.png")

    @pytest.mark.parametrize("args", [
        ["-k", "sobel_v", "-k", "sobel_h", "-k", "laplacian_4"],
        ["-k", "sobel_v", "-k", "gaussian_5x5", "--bias", "1,-2", "--activation", "relu"],
        ["-k", "sobel_v", "-k", "sobel_h", "--combine", "sum", "--stride", "2", "--pad-mode", "reflect"],
        ["-k", "prewitt_v", "-k", "prewitt_h", "--padding", "valid", "--flip"],
        ["--weights", "w.npy", "--bias", "0.5,1,-1"],
        ["--weights", "w.npy", "--bias", "0.5"],  # one bias for every filter (review 49 #1: exit 70)
        ["-k", "sobel_v", "-k", "sobel_h", "--bias", "2"],
    ])
    def test_the_sheet_alone_is_the_sheet_drawn_beside_the_maps(self, invoke, tmp_path, args):
        # the montage alone (one kernel at a time) against the montage beside --out (the whole bank): the same bytes
        for name in self._inputs(tmp_path):
            if args[0] == "--weights" and name == "g.png":
                continue
            alone = invoke("convolve", name, *args, "--montage", "alone.png", "--force", "--json")
            beside = invoke("convolve", name, *args, "--out", "maps.npy", "--montage", "beside.png", "--force", "--json")
            assert alone.exit_code == 0 and beside.exit_code == 0, (alone.output, beside.output)
            assert (tmp_path / "alone.png").read_bytes() == (tmp_path / "beside.png").read_bytes(), (name, args)
            one, two = json.loads(alone.stdout), json.loads(beside.stdout)
            for key in ("minimum", "maximum", "dtype", "maps", "operation", "input_shape"):
                assert one[key] == two[key], (key, name, args)
            assert one["output"] == one["montage"] == "alone.png"

    def test_slices_of_a_volume_alone_and_beside(self, invoke, tmp_path):
        self._inputs(tmp_path)
        args = ["z.npy", "--layout", "zyx", "-k", "sobel_v", "-k", "sobel_h"]
        alone = invoke("convolve", *args, "--montage", "alone.png", "--json")
        beside = invoke("convolve", *args, "--out", "maps.npy", "--montage", "beside.png", "--json")
        assert alone.exit_code == 0 and beside.exit_code == 0, (alone.output, beside.output)
        assert (tmp_path / "alone.png").read_bytes() == (tmp_path / "beside.png").read_bytes()
        assert json.loads(alone.stdout)["maps"] == json.loads(beside.stdout)["maps"]

    def test_a_montage_alone_computes_one_kernel_at_a_time(self, invoke, tmp_path, monkeypatch):
        from kernelcli import banks

        self._inputs(tmp_path)
        seen, real = [], banks.filter_bank
        monkeypatch.setattr(banks, "filter_bank", lambda x, kernels, *a, **k: seen.append(len(kernels)) or real(x, kernels, *a, **k))
        r = invoke("convolve", "c.png", "-k", "sobel_v", "-k", "sobel_h", "-k", "laplacian_4", "--montage", "m.png")
        assert r.exit_code == 0, r.output
        assert seen == [1, 1, 1]

    def test_an_overflow_is_refused_as_for_the_whole_bank(self, invoke, tmp_path):
        np.save(tmp_path / "huge.npy", np.full((20, 20), 3e38, np.float32))
        for extra in ([], ["--out", "maps.npy"]):
            r = invoke("convolve", "huge.npy", "-k", "sobel_v", "-k", "box_3x3", "--montage", "m.png", *extra)
            assert r.exit_code == 2 and "overflows float32" in r.stderr and "Traceback" not in r.stderr
            assert not (tmp_path / "m.png").exists()

    def test_stretching_a_float32_map_makes_no_float64_copy(self):
        import tracemalloc

        from kernelcli.montage import to_display

        values = np.random.default_rng(0).normal(size=(1000, 1000)).astype(np.float32)
        expected = to_display(values.astype(np.float64))
        tracemalloc.start()
        try:
            shown = to_display(values)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        np.testing.assert_array_equal(shown, expected)
        assert peak < values.size * 4, peak  # (a float64 copy alone is 8 bytes a value)

    def test_the_sheet_holds_one_full_size_map_at_a_time(self):
        import tracemalloc

        from kernelcli.montage import render_montage

        rng = np.random.default_rng(1)
        source = rng.integers(0, 256, (800, 800, 3), dtype=np.uint8)
        maps = rng.normal(size=(800, 800, 12)).astype(np.float32)
        tiles = [(f"m{i}", maps[:, :, 3 * i : 3 * i + 3]) for i in range(4)]
        tracemalloc.start()
        try:
            render_montage(source, tiles)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 3 * source.nbytes, peak  # (4 full-size colour tiles were held, and a float64 copy of each)
