"""Every documented bound on what the tool reads, in one place (README, "Input safety").

Hostile or broken input must not take unbounded time or memory. Each bound has a default that no
real input comes near and an environment variable that raises (or lowers) it; the value is read
when it is needed, so a malformed setting is an input error (exit 2) naming the variable.
Sizes accept a plain number of bytes or a ``Ki``/``Mi``/``Gi`` suffix (``64Mi``).
"""

from __future__ import annotations

import os
import re

from .errors import InputError
from .records import record

_SIZE = r"^\s*(\d+)\s*(Ki|Mi|Gi|K|M|G)?B?\s*$"  # compiled by re when a variable is set
_FACTORS = {None: 1, "K": 1000, "M": 1000**2, "G": 1000**3, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}


@record(frozen=True)
class Limit:
    """One bound: its environment variable, default and what it bounds."""

    variable: str
    default: int
    what: str

    def value(self) -> int:
        """The bound in force: the environment variable when set, else the default."""
        text = os.environ.get(self.variable, "").strip()
        if not text:
            return self.default
        match = re.match(_SIZE, text)
        if match is None or int(match.group(1)) <= 0:
            raise InputError(
                f"{self.variable}={text!r} is not a positive number",
                hint=f"set it to a number such as {self.default} (sizes may end in Ki, Mi or Gi), or unset it",
            )
        return int(match.group(1)) * _FACTORS[match.group(2)]

    @property
    def hint(self) -> str:
        """How to raise the bound, for messages."""
        return f"raise {self.variable} (default {self.default:,}) if the input is really meant to be this big"


#: Any input file or standard input, in bytes (JSON is read up to this size).
INPUT_BYTES = Limit("NETPOL_MAX_INPUT_BYTES", 64 * 1024 * 1024, "bytes of an input file")
#: Text handed to the YAML parser, in bytes. Parsing with positions costs about 60 bytes of memory
#: per byte of YAML (bench/values.py), so 16 MiB of YAML is about 1 GiB of memory.
YAML_BYTES = Limit("NETPOL_MAX_YAML_BYTES", 16 * 1024 * 1024, "bytes of YAML in one file")
#: One line of a flow file, in bytes; a longer line is a malformed line (its bytes are skipped,
#: never held in memory). Hubble writes 1-4 KiB per flow.
FLOW_LINE_BYTES = Limit("NETPOL_MAX_FLOW_LINE_BYTES", 1024 * 1024, "bytes of one flow line")
#: How far a gzip-compressed flow file may inflate: at most this many times its compressed size
#: (after the first FLOW_INFLATE_FLOOR bytes). Hubble exports compress 10-30 times; gzip's ceiling
#: is about 1,000, which a 2 MB file of newlines reaches (2 GB to read).
FLOW_INFLATE_RATIO = Limit("NETPOL_MAX_FLOW_INFLATE_RATIO", 100, "inflation ratio of a gzip flow file")
#: Inflated bytes always allowed before the ratio applies.
FLOW_INFLATE_FLOOR = Limit("NETPOL_FLOW_INFLATE_FLOOR_BYTES", 64 * 1024 * 1024, "bytes inflated before the ratio applies")
#: One answer of the Kubernetes API, in bytes (a page of --page-size objects).
RESPONSE_BYTES = Limit("NETPOL_MAX_RESPONSE_BYTES", 256 * 1024 * 1024, "bytes of one API answer")

#: The whole cluster read of one run, in seconds (``--read-deadline``, ``NETPOL_READ_DEADLINE``).
DEFAULT_READ_DEADLINE = 300.0
#: Pages one list may take (``--max-pages``, ``NETPOL_MAX_PAGES``): continue tokens that never end stop here.
DEFAULT_MAX_PAGES = 1000
