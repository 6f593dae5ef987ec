"""JUnit XML for GitLab's merge-request test widget: one test case per object, failures only for
what fails.

Drift is what a merge request is expected to bring, not a broken build: a drifted object is a
passing test case whose system-out says what the deploy changes; an object in sync passes; drift
hidden by ``--ignore`` is skipped. Ownership warnings fail only when they fail something: an
error (the deploy itself will fail, e.g. a name collision), or, in a run with
``--fail-on-override``, a warning that reverts or widens (``failsOnOverride``); the others pass
with their text in system-out. Test suites are namespaces. The connectivity
verdict, when analysed, is one case of its own suite: passing with the verdict in its output, or
skipped with the reason when the verdict is partial (objects it depends on could not be read).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from . import connectivity_caveat
from .drift_connectivity import section_lines
from .text import change_text

# XML 1.0 cannot carry most control characters, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def render_junit(document: Mapping[str, Any]) -> str:
    """The report as a JUnit XML document (``artifacts:reports:junit``)."""
    cases: dict[str, list[ET.Element]] = defaultdict(list)
    for entry in document.get("drift") or []:
        case = _case(entry)
        output = ET.SubElement(case, "system-out")
        output.text = _clean(_change_text(entry))
        cases[str(entry.get("namespace", ""))].append(case)
    for entry in document.get("ignored") or []:
        case = _case(entry)
        ET.SubElement(case, "skipped", message=_clean("ignored by " + ", ".join(entry.get("rules", []))))
        cases[str(entry.get("namespace", ""))].append(case)
    for item in document.get("inSync") or []:
        case = _case(item)
        if item.get("cosmetic"):
            output = ET.SubElement(case, "system-out")
            output.text = _clean("cosmetic differences only:\n" + "\n".join(item["cosmetic"]))
        cases[str(item.get("namespace", ""))].append(case)
    suites = {(f"drift {namespace}" if namespace else "drift"): found for namespace, found in cases.items()}
    for warning in document.get("warnings") or []:
        if isinstance(warning, Mapping):
            namespace = str(warning.get("namespace", ""))
            suite_name = f"ownership {namespace}" if namespace else "ownership"
            failing = bool(document.get("failOnOverride")) and bool(warning.get("failsOnOverride"))
            suites.setdefault(suite_name, []).append(_warning_case(warning, failing))
    connectivity = _connectivity_case(document.get("connectivity"))
    if connectivity is not None:
        suites["connectivity"] = [connectivity]
    root = ET.Element("testsuites", name="autodeploy-netpol drift")
    total = failures = skipped = 0
    for suite_name in sorted(suites):
        suite_cases = suites[suite_name]
        suite_failures = sum(1 for case in suite_cases if case.find("failure") is not None)
        suite_skipped = sum(1 for case in suite_cases if case.find("skipped") is not None)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_clean(suite_name),
            tests=str(len(suite_cases)),
            failures=str(suite_failures),
            errors="0",
            skipped=str(suite_skipped),
        )
        suite.extend(suite_cases)
        total += len(suite_cases)
        failures += suite_failures
        skipped += suite_skipped
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _connectivity_case(section: Any) -> ET.Element | None:
    """The connectivity verdict as a test case (none when it was not analysed), in the words of
    the text report (:func:`.drift_connectivity.section_lines`)."""
    lines = [line for _style, line in section_lines(section)]
    if not lines:
        return None
    caveat = connectivity_caveat(section)
    case = ET.Element("testcase", classname="connectivity", name=_clean(lines[0]), time="0")
    if caveat:
        ET.SubElement(case, "skipped", message=_clean(caveat))
    output = ET.SubElement(case, "system-out")
    output.text = _clean("\n".join(lines))
    return case


def _case(item: Mapping[str, Any]) -> ET.Element:
    return ET.Element(
        "testcase",
        classname=_clean(f"{item.get('namespace', '')}.{item.get('kind', '')}"),
        name=_clean(f"{item.get('kind', '')}/{item.get('name', '')}"),
        time="0",
    )


def _change_message(entry: Mapping[str, Any]) -> str:
    change = entry.get("change")
    if change == "missing":
        return "missing: not live, the deploy will create it"
    if change == "unexpected":
        return "unexpected: live and owned by this release, the deploy will delete it"
    count = len(entry.get("paths") or [])
    return f"changed: {count} field{'s' if count != 1 else ''} differ"


def _change_text(entry: Mapping[str, Any]) -> str:
    lines = [_change_message(entry)]
    if entry.get("owner"):
        lines.append(f"owner: {entry['owner']}")
    for field in entry.get("paths") or []:
        lines.append(f"{field.get('path')}: {change_text(field)}")
    return "\n".join(lines)


def _warning_case(warning: Mapping[str, Any], failing: bool) -> ET.Element:
    """An ownership warning: a failure when the deploy will fail (severity error) or ``failing``
    (``--fail-on-override`` counts it); otherwise a passing case with the text in system-out."""
    code = str(warning.get("code") or warning.get("type") or "warning")
    case = ET.Element(
        "testcase",
        classname=_clean(f"{warning.get('namespace', '')}.ownership"),
        name=_clean(f"{code} {warning.get('kind', '')}/{warning.get('name', '')}"),
        time="0",
    )
    text = "\n".join([str(warning.get("reason", "")), *(str(d) for d in warning.get("details") or [])])
    if not failing and warning.get("severity") != "error":
        output = ET.SubElement(case, "system-out")
        output.text = _clean(f"{warning.get('severity', 'warning')}: {text}")
    else:
        failure = ET.SubElement(case, "failure", message=_clean(warning.get("reason", "")), type=_clean(code))
        failure.text = _clean(text)
    return case
