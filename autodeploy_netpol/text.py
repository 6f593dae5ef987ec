"""Small text predicates shared by every reader of hostile input."""

from __future__ import annotations


def ascii_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits: what ``int()`` accepts as a plain number.

    ``str.isdigit`` is also true for superscripts and other digit characters (``"²"``) that
    ``int()`` rejects, which turned hostile ports and numbers into tracebacks.
    """
    return text.isascii() and text.isdigit()
