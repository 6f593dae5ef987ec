"""Reading the values-file corpora (tests/fixtures/bad-values, good-values) and the CLI's findings.

Each corpus file states what the CLI must report, one line per problem, in a header comment::

    # expect: 7:9 networkPolicy.spec.podSelectr: unknown key "podSelectr" | did you mean "podSelector"?
    # expect: 4:5 warning: networkPolicy.spec: this spec merges ... | set 'ingress:' ...
    # expect: 2:1 (file): a tab character is used where YAML allows only spaces (indentation) | replace ...

that is ``line:column``, the path inside the file (``(file)`` for a problem with the file itself,
reported before any validation), the message and, after `` | ``, the hint. A ``…`` in a message
stands for text the tool passes through from a third party (the YAML parser's own description of a
syntax error): the suite asserts the tool's words and the position, never a dependency's wording. Files whose bytes are not
UTF-8 keep the same lines (without ``# ``) in a sidecar ``<name>.expect``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad-values"
GOOD = FIXTURES / "good-values"

FILE_LEVEL = "(file)"


@dataclass(frozen=True)
class Finding:
    """One problem as the CLI prints it (or as a corpus file expects it)."""

    line: int
    column: int
    path: str  # "warning: <path>" for warnings, FILE_LEVEL for errors about the file itself
    message: str
    hint: str | None = None

    def render(self) -> str:
        text = f"{self.line}:{self.column} {self.path}: {self.message}"
        return f"{text} | {self.hint}" if self.hint else text


_EXPECT = re.compile(r"^(\d+):(\d+) (warning: \S+|\S+): (.*?)(?: \| (.*))?$")


def corpus_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def expectations(path: Path) -> list[Finding]:
    """The findings a corpus file states it must produce."""
    sidecar = path.with_name(path.name + ".expect")
    if sidecar.exists():
        lines = [
            line
            for line in sidecar.read_text("utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        ]
    else:
        text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
        lines = [line[len("# ") :] for line in text.splitlines() if line.startswith("# expect: ")]
    found = []
    for line in lines:
        assert line.startswith("expect: "), f"{path.name}: not an expectation: {line!r}"
        match = _EXPECT.match(line[len("expect: ") :])
        assert match, f"{path.name}: cannot read expectation {line!r}"
        found.append(
            Finding(int(match[1]), int(match[2]), match[3], match[4], match[5]),
        )
    return found


def parse_output(output: str, file: str) -> list[Finding]:
    """Turn the CLI's text output for ``file`` into findings; any line it cannot place is an error."""
    name = re.escape(file)
    problem = re.compile(rf"^{name}:(\d+):(\d+): (warning: \S+|\S+): (.*)$")
    file_error = re.compile(rf"^error: {name}:(\d+):(\d+): (.*)$")
    summaries = (
        re.compile(rf"^{name}: \d+ errors?$"),
        re.compile(rf"^error: {name}: \d+ problems? found$"),
        re.compile(rf"^{name}: valid( \(\d+ warnings?\))?$"),
        re.compile(r"^networkPolicy and ciliumNetworkPolicy are disabled: .*$"),
        re.compile(r"^note: .*$"),  # which chart shape was chosen and why
    )
    findings: list[Finding] = []
    for line in output.splitlines():
        if line.startswith("  hint: ") and findings:
            last = findings[-1]
            assert last.hint is None, f"two hints for one finding: {line!r}"
            findings[-1] = Finding(last.line, last.column, last.path, last.message, line[len("  hint: ") :])
        elif match := problem.match(line):
            findings.append(Finding(int(match[1]), int(match[2]), match[3], match[4]))
        elif match := file_error.match(line):
            findings.append(Finding(int(match[1]), int(match[2]), FILE_LEVEL, match[3]))
        elif any(summary.match(line) for summary in summaries):
            continue
        else:
            raise AssertionError(f"unexpected output line: {line!r}")
    return findings


def parse_json_output(output: str) -> list[Finding]:
    """Findings from ``validate --format json`` (``path: null`` is a problem with the file itself)."""
    import json

    findings = []
    for problem in json.loads(output)["problems"]:
        path = FILE_LEVEL if problem["path"] is None else problem["path"]
        if problem["severity"] == "warning":
            path = f"warning: {path}"
        findings.append(
            Finding(problem["line"], problem["column"], path, problem["message"], problem["hint"])
        )
    return findings


def matches(expected: Finding, actual: Finding) -> bool:
    """Same position, path and message (``…`` matching any text); the hint too when one is given."""
    same = (expected.line, expected.column, expected.path) == (actual.line, actual.column, actual.path)
    pattern = ".+".join(re.escape(part) for part in expected.message.split("…"))
    return (
        same
        and re.fullmatch(pattern, actual.message) is not None
        and (expected.hint is None or expected.hint == actual.hint)
    )
