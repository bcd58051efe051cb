"""A finished call of the ``kernelcli`` command (:func:`kernelcli.cli.entry`) ends without
the interpreter's teardown (:func:`kernelcli.cli.leave`), and nothing an exit owes is lost: ``atexit`` functions run, stdout and stderr are flushed
(a pipe gets every byte), a thread still running is waited for (then the normal exit runs),
and a closed stdout exits as it always did.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import SAMPLES, SIGNALLING, interruptible, put_back_signal_handlers, signal_handlers

import kernelcli

HERE = str(Path(kernelcli.__file__).resolve().parent.parent)

#: a script that runs ``kernelcli ARGV`` as the console script does, with an object whose
#: finaliser says when the interpreter tore ``__main__`` down (``{before}``: more set-up)
SCRIPT = """
import os, sys
class Torn:
    def __del__(self):
        os.write(2, b"torn down\\n")
keep = Torn()
{before}
sys.argv = ["kernelcli", *sys.argv[1:]]
from kernelcli.cli import entry
entry()
"""


def run(args: list[str], before: str = "", **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": HERE, "KERNELCLI_WORKER": "off"}
    code = SCRIPT.format(before=textwrap.dedent(before))
    return subprocess.run([sys.executable, "-c", code, *args], check=False, env=env, timeout=120, **kwargs)


MATRIX = ["convolve", str(SAMPLES / "example1.csv"), "-k", "prewitt_v", "--padding", "valid"]
PRINTED = " 6 -9 -8\n-3 -2 -3\n-3  0 -2\n"


def test_a_plain_call_ends_without_the_teardown_and_its_piped_output_whole():
    done = run(MATRIX, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == PRINTED  # block-buffered into a pipe: flushed before the exit
    assert "3x3" in done.stderr and "torn down" not in done.stderr


def test_a_call_typer_parses_ends_without_the_teardown_too():
    done = run(["--debug", *MATRIX], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == PRINTED and "torn down" not in done.stderr


@pytest.mark.parametrize("spelt", [["-qo", "o.png"], ["-q", "-o", "o.png"]], ids=["typer", "plain"])
def test_a_sigterm_as_a_finished_call_exits_does_not_kill_it(tmp_path, spelt):
    """Audit 199 #4: the interpreter's teardown resets the stop signals to their defaults before it frees the
    modules, and a SIGTERM then killed a finished call (exit -15, the outputs written): one typer parses
    (``-qo``) took the teardown, the same call spelt ``-q -o`` did not."""
    before = """
    import signal
    class TerminatedInTeardown:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
    terminated = TerminatedInTeardown()
    """
    done = run(["convolve", str(SAMPLES / "phantom.png"), "-k", "box:3", *spelt], before=before, cwd=tmp_path,
               capture_output=True, text=True)
    assert done.returncode == 0 and (tmp_path / "o.png").exists(), done


@pytest.mark.parametrize("where", ["_end_as_signalled", "leave"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["TERM", "HUP", "INT"])
def test_a_stop_once_the_call_has_returned_is_said_after_its_record(tmp_path, where, sig):
    """A stop that landed once the call had returned, in entry()'s last lines before the process ended (under a
    millisecond, which the fixed delays of test_early_stops_audit150 can hit under load) gave a traceback and exit 1
    (-2 for Ctrl-C) after the "ok" record; it is said as one a line earlier (in _call) is: the record stands, alone,
    then the stop's line and its exit code."""
    from test_early_stops_audit150 import CODES, WORDS

    before = f"{SIGNALLING}\nimport kernelcli.cli as cli\ncli.{where} = before(cli.{where}, {int(sig)})\n"
    done = run(["convolve", str(SAMPLES / "phantom.png"), "-k", "box:3", "-o", "o.png", "--json"], before=before,
               cwd=tmp_path, capture_output=True, text=True, preexec_fn=interruptible)
    said = [line for line in done.stderr.splitlines() if line != "torn down"]  # (SCRIPT's: a stop takes the teardown)
    assert done.returncode == CODES[sig] and said[-1] == WORDS[sig], done
    assert "Traceback" not in done.stderr and "ignored" not in done.stderr, done.stderr
    record = json.loads(done.stdout)  # (one record: two would not load)
    assert record["status"] == "ok" and (tmp_path / "o.png").stat().st_size > 0, record


def test_atexit_functions_run(tmp_path):
    mark = tmp_path / "atexit.txt"
    done = run(MATRIX, before=f"import atexit; atexit.register(lambda: open({str(mark)!r}, 'w').write('ran'))",
               capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert mark.read_text() == "ran" and "torn down" not in done.stderr


def test_a_running_thread_is_waited_for(tmp_path):
    mark = tmp_path / "thread.txt"
    before = f"""
    import threading, time
    def late():  # runs until the interpreter's exit stops the main thread
        while threading.main_thread().is_alive():
            time.sleep(0.01)
        open({str(mark)!r}, "w").write("done")
    threading.Thread(target=late).start()
    """
    done = run(MATRIX, before=before, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert mark.read_text() == "done" and "torn down" in done.stderr  # the normal exit, after the thread


def test_an_image_output_is_whole(tmp_path):
    out = tmp_path / "edges.png"
    done = run(["convolve", str(SAMPLES / "phantom.png"), "-k", "sobel_v", "-o", str(out), "-q"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "" and "torn down" not in done.stderr
    from kernelcli.cli import run as in_process

    again = tmp_path / "again.png"
    assert in_process(["convolve", str(SAMPLES / "phantom.png"), "-k", "sobel_v", "-o", str(again), "-q"]) == 0
    assert out.read_bytes() == again.read_bytes()


def test_a_closed_stdout_fails_quietly_with_exit_1():
    read, write = os.pipe()
    os.close(read)
    try:
        done = run(MATRIX, stdout=write, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_ctrl_c_while_a_plain_call_still_imports_says_interrupted(monkeypatch, capsys):
    """Regression (a traceback under load, test_signals' random moments): a Ctrl-C that lands while the
    plain parser's modules are still being imported, before any command's handler, exits 130 with one line."""
    import pytest

    from kernelcli import cli
    from kernelcli.cli import _fast

    def importing(_argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(_fast, "run_plain", importing)
    monkeypatch.setattr(sys, "argv", ["kernelcli", *MATRIX])
    monkeypatch.setenv("KERNELCLI_WORKER", "off")
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    handlers = signal_handlers()
    try:
        with pytest.raises(SystemExit) as done:
            cli.entry()
        ignored = [sig for sig in stops if signal.getsignal(sig) is signal.SIG_IGN]
    finally:  # (entry() ignores the stops, SIGALRM, SIGUSR1 ... too, once one ended its call, as its process ends
        put_back_signal_handlers(handlers)  # next: this process's are its own again, or every later child ignores them)
    assert done.value.code == 130 and capsys.readouterr().err == "error: interrupted\n"
    assert ignored == list(stops)  # (a second stop, to the process's end: test_early_stops_review155)


def test_a_call_started_with_stdout_closed_exits_as_before(tmp_path):
    """Regression: started with no stdout at all (``>&-``: sys.stdout is None), a quiet call that writes
    only its file exited 0; leave() then raised AttributeError on sys.stdout.flush(), a traceback, exit 1."""
    out = tmp_path / "edges.png"
    args = ["convolve", str(SAMPLES / "phantom.png"), "-k", "sobel_v", "-o", str(out), "-q"]
    env = {**os.environ, "PYTHONPATH": HERE, "KERNELCLI_WORKER": "off"}
    code = SCRIPT.format(before="")
    # the shell closes descriptor 1 before Python starts (no preexec_fn: a fork in a threaded process)
    done = subprocess.run(["sh", "-c", 'exec "$0" "$@" >&-', sys.executable, "-c", code, *args], check=False, env=env,
                          timeout=120, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 0 and out.exists(), done.stderr
    assert "Traceback" not in done.stderr and "torn down" not in done.stderr


#: calls whose answer goes to stdout: text through typer and without it, JSON, an image through a pipe
TO_STDOUT = {
    "shape": ["shape", "--in", "24", "--f", "5"],
    "shape --json": ["shape", "--in", "24", "--f", "5", "--json"],
    "params": ["params", "--f", "3", "--in-ch", "3", "--filters", "8"],
    "kernels": ["kernels"],
    "summary (rich)": ["summary", "alexnet"],
    "matrix": MATRIX,
    "--help": ["--help"],
    "-V": ["-V"],
    "image to stdout": ["convolve", str(SAMPLES / "phantom.png"), "-k", "sobel_v", "-o", "-", "--format", "png"],
}


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("name", list(TO_STDOUT))
def test_a_full_stdout_is_an_output_that_cannot_be_written(name):
    """Regression: ``>/dev/full`` gave exit 70, "internal error: OSError ... This is a bug"; an output
    that cannot be written exits 1 (the fault catalogue, the README), one line, no traceback."""
    with open("/dev/full", "w") as full:
        done = run(TO_STDOUT[name], stdout=full, stderr=subprocess.PIPE, text=True)
    said = [line for line in done.stderr.splitlines() if line != "torn down"]  # (SCRIPT's, after a call typer ran)
    # the one line alone: no note, no summary of an output that never arrived (`-o -` said "-> stdout" first)
    assert (done.returncode, said) == (1, ["error: stdout: cannot write: No space left on device"]), done.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("redirect", ["2>/dev/full", "2>&-"])
def test_a_stderr_that_cannot_be_written_loses_the_notes_not_the_result(tmp_path, redirect):
    # the result was written in full, and the call exited 1 ("lost sys.stderr"): a note (of the clipping) could not go out
    env = {**os.environ, "PYTHONPATH": HERE, "KERNELCLI_WORKER": "off"}
    line = f"{sys.executable} -m kernelcli convolve {SAMPLES / 'phantom.png'} -k sobel_v -o {tmp_path / 'e.png'} {redirect}"
    done = subprocess.run(["bash", "-c", line], env=env, stdout=subprocess.PIPE, timeout=120, check=False)
    assert done.returncode == 0 and (tmp_path / "e.png").stat().st_size > 0


BIG_MATRIX = ["convolve", "big.csv", "-k", "sobel_v"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="sets a file-size limit in the child")
@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["PYTHONUNBUFFERED", "buffered"])
@pytest.mark.parametrize("args", [BIG_MATRIX, [*BIG_MATRIX, "--json"], ["kernels"], ["summary", "resnet50"],
                                  [*BIG_MATRIX, "-o", "-", "--format", "csv"]], ids=["matrix", "json", "kernels", "summary", "pipe"])
def test_a_stdout_that_takes_part_of_the_output_is_an_error(tmp_path, unbuffered, args):
    # under PYTHONUNBUFFERED the matrix and --json were cut to the file-size limit, exit 0 and a success summary:
    # sys.stdout drops what a short write leaves over
    np = pytest.importorskip("numpy")
    np.savetxt(tmp_path / "big.csv", np.random.default_rng(3).integers(0, 9, (200, 200)), delimiter=",", fmt="%d")
    env = {**os.environ, "PYTHONPATH": HERE, "KERNELCLI_WORKER": "off", "PYTHONUNBUFFERED": unbuffered}
    limit = 4096
    code = f"import resource, os, sys; resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); " \
           f"os.execv(sys.executable, [sys.executable, '-m', 'kernelcli', *sys.argv[1:]])"
    with open(tmp_path / "out", "wb") as out:
        done = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert (tmp_path / "out").stat().st_size <= limit
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 1 and len(errors) == 1 and "File too large" in errors[0], done.stderr


@pytest.mark.parametrize("name", list(TO_STDOUT))
def test_a_stdout_closed_at_start_is_an_output_that_cannot_be_written(name):
    """Regression: started with descriptor 1 closed (``>&-``, sys.stdout None), ``kernels`` exited 70
    ("internal error: AttributeError") and ``shape`` 0 with its answer lost; now as a full stdout:
    one line naming stdout and the reason, exit 1."""
    env = {**os.environ, "PYTHONPATH": HERE, "KERNELCLI_WORKER": "off"}
    code = SCRIPT.format(before="")
    done = subprocess.run(["sh", "-c", 'exec "$0" "$@" >&-', sys.executable, "-c", code, *TO_STDOUT[name]], check=False,
                          env=env, timeout=120, stderr=subprocess.PIPE, text=True)
    said = [line for line in done.stderr.splitlines() if line != "torn down"]  # (SCRIPT's, after a call typer ran)
    assert (done.returncode, said) == (1, ["error: stdout: cannot write: Bad file descriptor"]), done.stderr


@pytest.mark.parametrize("where", ["kernelcli.cli._fast.parse", "kernelcli.cli.build_command"])
def test_a_signal_before_a_command_body_still_prints_json(tmp_path, monkeypatch, where):
    # batch audit F4: SIGTERM 0.3 s into 'convolve big -d out --json' (while the call parsed or imported) left stdout
    # empty in about half the runs, exit 143; '--json' promises one document on stdout
    import importlib
    import json

    from conftest import SAMPLES, run_in_process

    module, name = where.rsplit(".", 1)

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module(module), name, stopped)
    if where.endswith("build_command"):  # the plain parser passes the call on to typer's, which is stopped
        monkeypatch.setattr(importlib.import_module("kernelcli.cli._fast"), "parse", lambda *a: None)
    result = run_in_process("convolve", str(SAMPLES / "phantom.png"), "-k", "box:3", "-o", "o.png", "--json", cwd=tmp_path)
    assert result.returncode == 130 and result.stderr.startswith("error: interrupted")
    record = json.loads(result.stdout)
    assert (record["status"], record["code"]) == ("not run", 130)
    plain = run_in_process("convolve", str(SAMPLES / "phantom.png"), "-k", "box:3", "-o", "o.png", cwd=tmp_path)
    assert plain.returncode == 130 and plain.stdout == ""


def test_debug_after_the_command_is_taken(tmp_path):
    # vocabulary audit 7: 'convolve x.csv -k box:3 --debug' said 'No such option: --debug (Possible options: --mode)'
    from conftest import run_in_process

    result = run_in_process("shape", "--in", "24", "--f", "30", "--debug", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" in result.stderr and "No such option" not in result.stderr
    argument = run_in_process("shape", "--in", "24", "--f", "3", "-q", "--", "--debug", cwd=tmp_path)
    assert argument.returncode == 2 and "--debug" in argument.stderr


def test_a_current_folder_removed_under_the_call_is_a_usage_error(tmp_path):
    # the batch audit: 'cd g && rmdir ../g && kernelcli convolve /abs/phantom.png -k sobel_v' was exit 70 (os.path.abspath)
    env = {**os.environ, "PYTHONPATH": HERE, "KERNELCLI_WORKER": "off", "PYTHONSAFEPATH": "1"}
    line = (f"mkdir gone && cd gone && rmdir ../gone && {sys.executable} -m kernelcli convolve {SAMPLES / 'phantom.png'} "
            "-k sobel_v -o out.png")
    done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "the current folder no longer exists" in done.stderr, done.stderr
