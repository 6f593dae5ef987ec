"""Small text predicates shared by every reader of hostile input."""

from __future__ import annotations


def ascii_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits: what ``int()`` accepts as a plain number.

    ``str.isdigit`` is also true for superscripts and other digit characters (``"²"``) that
    ``int()`` rejects, which turned hostile ports and numbers into tracebacks.
    """
    return text.isascii() and text.isdigit()


#: Significant digits beyond which a number is simply "too large" for every range the tool checks.
_MAX_SIGNIFICANT_DIGITS = 19
#: What a longer number reads as: above every port, prefix length, count and GitLab IID (int64).
TOO_LARGE = 10**_MAX_SIGNIFICANT_DIGITS


def ascii_int(text: str) -> int | None:
    """The value of ``text`` when it is plain ASCII digits (:func:`ascii_digits`), else ``None``.

    A number of more than 19 significant digits reads as :data:`TOO_LARGE` without being
    converted: ``int()`` refuses a string of more than 4,300 digits (a traceback on hostile input)
    and takes quadratic time below that, and no range the tool checks reaches that far.
    """
    if not ascii_digits(text):
        return None
    significant = text.lstrip("0")
    if len(significant) > _MAX_SIGNIFICANT_DIGITS:
        return TOO_LARGE
    return int(significant) if significant else 0


def clip(text: str, limit: int = 300) -> str:
    """``text`` as a message quotes it: whole up to ``limit`` characters (every valid Kubernetes
    name, label and port fits), else its start and end with the length after (a 5,000-digit port
    or a 100 kB label is still recognisable, and the message stays a line a person can read)."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    return f"{text[:head]}…{text[-tail:]} ({len(text):,} characters)"
