"""Audit 215: what ``--help`` says must be true of the command that says it.

#1: ``pool --help`` said ``--affine`` picks the reading "for the input and a NIfTI --mask", but pool has no --mask (the
shared help described convolve's).  #2: the inputs' help said "NIfTI or DICOM volumes" where MGH, NRRD and MetaImage
volumes and Zarr stores are read too.
"""

from __future__ import annotations

import re

import pytest
from typer.main import get_command

from kernelcli.cli import app


def _walk(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


COMMANDS = {" ".join(path) or "kernelcli": command for path, command in _walk(get_command(app))}
COMMAND_NAMES = {name.split()[-1] for name in COMMANDS}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_option_named_in_a_commands_help_is_one_it_has(name):
    command = COMMANDS[name]
    has = {o for p in command.params for o in (*p.opts, *getattr(p, "secondary_opts", ()))}
    for param in command.params:
        for before, said in re.findall(r"(\w*)\s?(?<![\w-])(--[a-z][a-z-]*)", param.help or ""):
            if before not in COMMAND_NAMES:  # ('convolve --kernel FILE' names another command's)
                assert said in has, f"{name} {param.opts[0]}: its help names {said}, which {name} does not take"


def _argument_help(name: str) -> str:
    return next(p.help for p in COMMANDS[name].params if p.param_type_name == "argument")


class TestTheInputsHelpNamesWhatIsRead:
    @pytest.mark.parametrize("name", ["convolve", "volume", "pool"])
    def test_every_volume_format_and_zarr_is_named(self, name):
        said = _argument_help(name)
        for words in ("NIfTI", "DICOM", "MGH", "NRRD", "MetaImage", ".mgz", ".nrrd", ".nhdr", ".mha", ".mhd", "Zarr stores"):
            assert words in said, said

    def test_pad_names_zarr_and_no_volume(self):
        said = _argument_help("pad")
        assert "Zarr stores" in said and "NIfTI" not in said and "MetaImage" not in said, said

    def test_the_lists_are_declared_once(self):
        from kernelcli.cli.options import IMAGE_FORMATS_HELP, ZARR_INPUTS_HELP
        from kernelcli.volume_inputs import VOLUME_FORMATS_HELP

        for name in ("convolve", "volume", "pool"):
            assert IMAGE_FORMATS_HELP in _argument_help(name) and VOLUME_FORMATS_HELP in _argument_help(name)
            assert ZARR_INPUTS_HELP in _argument_help(name)
        assert VOLUME_FORMATS_HELP.split(" (")[0] in COMMANDS["volume"].help

    @pytest.mark.parametrize("suffix", [".mgz", ".mgh", ".nrrd", ".nhdr", ".mha", ".mhd", ".nii", ".nii.gz", ".dcm"])
    def test_each_suffix_it_names_is_a_volume(self, suffix):
        from kernelcli.volume_inputs import VOLUME_FORMATS_HELP, VOLUME_SUFFIXES

        assert suffix in VOLUME_SUFFIXES and suffix in VOLUME_FORMATS_HELP
