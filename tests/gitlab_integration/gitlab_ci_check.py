"""Static check of GitLab CI files against the real CLI: every ``autodeploy-netpol`` call in a
job's script must name a command and options that the click command tree really has. (Whether the
file is valid GitLab CI, rules included, is checked by gitlab-ci-local in the pipeline tests.)

Each check returns a list of problems (strings) rather than asserting, so the checker itself
can be tested on files that are wrong.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import click

#: Top-level keys of a CI file that are not jobs.
GLOBAL_KEYWORDS = frozenset(
    {
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
        "spec",
    }
)
SCRIPT_KEYS = ("before_script", "script", "after_script")
PROGRAM = "autodeploy-netpol"


@dataclass(frozen=True)
class Invocation:
    """One call of the CLI found in a job's script."""

    job: str
    words: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.job}: {PROGRAM} {' '.join(self.words)}"


def jobs(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Jobs (hidden ones included) of a CI file."""
    return {
        name: body
        for name, body in document.items()
        if name not in GLOBAL_KEYWORDS and isinstance(body, dict)
    }


def _script_lines(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _script_lines(item)


def _words(text: str) -> list[str]:
    # One command per line (continuations joined); shell operators become their own tokens.
    text = text.replace("\\\n", " ")
    lexer = shlex.shlex(text.replace("\n", " ; "), posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    return list(lexer)


def _is_operator(word: str) -> bool:
    return bool(word) and set(word) <= set(";&|()<>")


def _arguments_after(words: list[str], start: int) -> list[str]:
    args: list[str] = []
    for arg in words[start:]:
        if _is_operator(arg):
            break
        args.append(arg)
    return args


def invocations(document: dict[str, Any]) -> list[Invocation]:
    """Every ``autodeploy-netpol`` command line in every job's scripts.

    Options collected with ``set -- "$@" --flag ...`` before a call are checked as part of each
    call that passes ``"$@"`` on, as the shell would run them: a bare ``set --`` starts afresh, and
    both branches of a conditional count, so conditional options are checked too.
    """
    found: list[Invocation] = []
    for name, body in jobs(document).items():
        collected: list[str] = []
        for key in SCRIPT_KEYS:
            for text in _script_lines(body.get(key)):
                words = _words(text)
                for index, word in enumerate(words):
                    if word == "set" and index + 1 < len(words) and words[index + 1] == "--":
                        arguments = _arguments_after(words, index + 2)
                        if "$@" not in arguments:
                            collected = []
                        collected.extend(arg for arg in arguments if arg != "$@")
                    # `command -v autodeploy-netpol` / `which autodeploy-netpol` only look the program up.
                    elif word == PROGRAM and not (index and words[index - 1] in {"-v", "which"}):
                        args = _arguments_after(words, index + 1)
                        if "$@" in args:
                            args = [arg for arg in args if arg != "$@"] + collected
                        found.append(Invocation(name, tuple(args)))
    return found


def _expands(word: str) -> bool:
    return "$" in word


def check_invocation(group: click.Group, invocation: Invocation) -> list[str]:
    """Problems with one call: unknown command, unknown option, missing option value, bad choice."""
    ctx = click.Context(group)
    words = list(invocation.words)
    if not words:
        return [f"{invocation}: no command"]
    if words[0] in {"--version", "--help", "-h"}:
        return []
    command = group.get_command(ctx, words[0])
    if command is None:
        return [f"{invocation}: no command {words[0]!r} (has: {', '.join(group.list_commands(ctx))})"]
    options: dict[str, click.Option] = {}
    arguments: list[click.Argument] = []
    for param in command.params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                options[name] = param
        elif isinstance(param, click.Argument):
            arguments.append(param)
    problems: list[str] = []
    positional = 0
    rest = iter(words[1:])
    for word in rest:
        if _expands(word) and not word.startswith("-"):
            positional += 1  # an argument, or options from a variable: cannot be checked statically
            continue
        if word == "--" or not word.startswith("-") or word == "-":
            positional += 1
            continue
        name, has_value, value = word.partition("=")
        option = options.get(name)
        if option is None:
            problems.append(f"{invocation}: {words[0]} has no option {name}")
            continue
        takes_value = not (option.is_flag or option.count)
        if not takes_value:
            if has_value:
                problems.append(f"{invocation}: {name} is a flag and takes no value")
            continue
        if not has_value:
            value = next(rest, None)  # type: ignore[arg-type]
            if value is None or _is_operator(value) or (value.startswith("--") and not _expands(value)):
                problems.append(f"{invocation}: {name} needs a value")
                continue
        choices = option.type.choices if isinstance(option.type, click.Choice) else None
        if choices is not None and not _expands(value) and value not in choices:
            problems.append(f"{invocation}: {name} {value!r} is not one of {list(choices)}")
    unlimited = any(argument.nargs == -1 for argument in arguments)
    if not unlimited and positional > sum(argument.nargs for argument in arguments):
        problems.append(f"{invocation}: too many arguments for {words[0]}")
    return problems


def _resolved(all_jobs: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """A job with its ``extends`` chain merged in (hash keys deep-merged, as GitLab does)."""
    body = all_jobs[name]
    parents = body.get("extends", [])
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        if parent in all_jobs:
            merged = _deep_merge(merged, _resolved(all_jobs, parent))
    return _deep_merge(merged, {key: value for key, value in body.items() if key != "extends"})


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def resolved_jobs(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Visible jobs with their ``extends`` merged in."""
    all_jobs = jobs(document)
    return {name: _resolved(all_jobs, name) for name in all_jobs if not name.startswith(".")}
