"""Inputs are regular files only; outputs are atomic and never an input of the run."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from autodeploy_netpol import files
from autodeploy_netpol.errors import InputError
from autodeploy_netpol.masking import forget_secrets, register_secret


@pytest.fixture(autouse=True)
def _fresh_run() -> None:
    files.start_run()
    forget_secrets()
    yield
    files.start_run()
    forget_secrets()


def _special_inputs(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name → (path, words the error must contain): every kind of path that is not a readable file."""
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    (tmp_path / "loop-a").symlink_to(tmp_path / "loop-b")
    (tmp_path / "loop-b").symlink_to(tmp_path / "loop-a")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "file").write_text("x")
    cases = {
        "fifo": (str(fifo), "named pipe"),
        "char-device": ("/dev/zero", "character device"),
        "null-device": ("/dev/null", "character device"),
        "symlink-loop": (str(tmp_path / "loop-a"), "symbolic-link loop"),
        "dangling": (str(tmp_path / "dangling.yaml"), "does not exist"),
        "directory": (str(tmp_path / "dir.yaml"), "directory"),
        "missing": (str(tmp_path / "missing.yaml"), "no such file"),
        "not-a-directory": (str(tmp_path / "file" / "x.yaml"), "not a directory"),
    }
    if os.path.exists("/dev/log") and stat.S_ISSOCK(os.stat("/dev/log").st_mode):
        cases["socket"] = ("/dev/log", "socket")
    return cases


@pytest.mark.parametrize(
    "case",
    ["fifo", "char-device", "null-device", "symlink-loop", "dangling", "directory", "missing", "not-a-directory"],
)
def test_every_non_file_input_is_an_input_error_naming_the_path(tmp_path: Path, case: str) -> None:
    path, words = _special_inputs(tmp_path)[case]
    with pytest.raises(InputError) as caught:
        files.read_input(path, max_bytes=1024)
    assert caught.value.location is not None and caught.value.location.file == path
    assert words in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1")
    path.chmod(0)
    with pytest.raises(InputError, match="permission denied"):
        files.read_input(str(path), max_bytes=1024)


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * 2000)
    with pytest.raises(InputError, match="2,000 bytes, over the 1,000-byte limit"):
        files.read_input(str(path), max_bytes=1000)


def _inputs(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    values = tmp_path / "values.yaml"
    values.write_text("networkPolicy: {}\n")
    (tmp_path / "sym.json").symlink_to(values)
    os.link(values, tmp_path / "hard.json")
    return values, {"same": values, "symlink": tmp_path / "sym.json", "hardlink": tmp_path / "hard.json"}


@pytest.mark.parametrize("alias", ["same", "symlink", "hardlink"])
@pytest.mark.parametrize("how", ["declared", "read"])
def test_an_output_never_overwrites_an_input(tmp_path: Path, alias: str, how: str) -> None:
    values, aliases = _inputs(tmp_path)
    if how == "declared":
        files.declare_inputs([str(values)])
    else:
        files.read_input(str(values), max_bytes=1024)
    with pytest.raises(InputError, match="over an input of this run"):
        files.write_output(str(aliases[alias]), "report")
    assert values.read_text() == "networkPolicy: {}\n"


@pytest.mark.parametrize("target", ["fifo", "char-device", "directory"])
def test_an_output_that_is_not_a_regular_file_is_refused(tmp_path: Path, target: str) -> None:
    path = {"fifo": tmp_path / "out.fifo", "char-device": Path("/dev/null"), "directory": tmp_path}[target]
    if target == "fifo":
        os.mkfifo(path)
    with pytest.raises(InputError, match=r"not a regular file|directory"):
        files.write_output(str(path), "report")


def test_outputs_are_written_whole_masked_and_keep_their_mode(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("old")
    out.chmod(0o640)
    register_secret("glpat-very-secret")
    files.write_output(str(out), "token glpat-very-secret here")
    assert out.read_text() == "token [MASKED] here"
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary left behind


def test_writing_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_text("old")
    (tmp_path / "link.md").symlink_to(real)
    files.write_output(str(tmp_path / "link.md"), "new")
    assert (tmp_path / "link.md").is_symlink() and real.read_text() == "new"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "report.json"
    out.write_text("old")

    def disk_full(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(InputError, match="No space left on device"):
        files.write_output(str(out), "new")
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_a_lone_surrogate_from_json_input_is_written_escaped(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    files.write_output(str(out), "name \udc80 end")
    assert out.read_text() == "name \\udc80 end"


@pytest.mark.parametrize(
    ("command", "takes_stdin"),
    [
        (["validate", "{path}"], False),
        (["render", "{path}", "-r", "production"], False),
        (["connectivity", "{path}"], True),
        (["audit", "--flows", "{path}", "--no-live", "-r", "production", "-n", "shop"], True),
    ],
)
def test_the_hint_for_a_pipe_offers_standard_input_only_where_the_option_takes_it(
    tmp_path: Path, command: list[str], takes_stdin: bool
) -> None:
    """A FIFO given as a file: the hint says "pass -" only for options that read standard input
    (a values file does not: "-" there is a file named "-")."""
    import subprocess
    import sys

    fifo = tmp_path / "input.fifo"
    os.mkfifo(fifo)
    argv = [part.replace("{path}", str(fifo)) for part in command]
    done = subprocess.run(
        [sys.executable, "-m", "autodeploy_netpol", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    assert "is a named pipe (FIFO), not a regular file" in done.stderr
    assert ("pass - and redirect it to standard input" in done.stderr) is takes_stdin
    assert ("save what the pipe or device holds to a file" in done.stderr) is not takes_stdin
