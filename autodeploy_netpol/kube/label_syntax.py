"""The syntax Kubernetes enforces on label keys and values and on object names, written once.

* a label key is ``[prefix/]name``: the prefix a DNS subdomain (at most 253 characters), the name at
  most 63 characters of letters, digits, ``-``, ``_`` and ``.``, starting and ending with a letter or
  digit;
* a label value is empty or like a key's name part;
* a Namespace name is a DNS label (at most 63 characters of ``a-z0-9-``).

Each check returns what is wrong in a sentence, or ``None``.
"""

from __future__ import annotations

import re

DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_LABEL_RE = re.compile(rf"^{DNS_LABEL}$")
DNS_SUBDOMAIN_RE = re.compile(rf"^{DNS_LABEL}(\.{DNS_LABEL})*$")
LABEL_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
MAX_NAME = 63
MAX_PREFIX = 253

LABEL_KEY_HINT = (
    "a label key is [prefix/]name: the name at most 63 characters of letters, digits, '-', '_' and '.', "
    "starting and ending with a letter or digit; the prefix a DNS subdomain"
)
LABEL_VALUE_HINT = (
    "at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit "
    "(or empty)"
)


def label_key_problem(key: str) -> str | None:
    """What is wrong with a label key, or ``None``."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > MAX_PREFIX or not DNS_SUBDOMAIN_RE.match(prefix)):
        return f"label key prefix {prefix!r} is not a DNS subdomain"
    if not name or len(name) > MAX_NAME or not LABEL_NAME_RE.match(name):
        return f"label key {key!r} is not valid"
    return None


def label_value_problem(value: object) -> str | None:
    """What is wrong with a label value, or ``None``."""
    if not isinstance(value, str):
        return f"label value {value!r} is not a string"
    if value and (len(value) > MAX_NAME or not LABEL_NAME_RE.match(value)):
        return f"label value {value!r} is not valid"
    return None
