"""A budget check as JUnit XML: one testcase per endpoint, for CI test-report views."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from perftoolkit.core.budgets.rules import BudgetResult, describe_row
from perftoolkit.reporting.budget_text import row_details

SUITE = "perftoolkit.budgets"
# What XML 1.0 cannot hold at all (most C0 controls, surrogates, U+FFFE/U+FFFF): ElementTree
# would write them as they are and leave a file no CI parser reads. Shown as U+XXXX instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"U+{ord(m.group()):04X}", text)


def _make_safe(element: ET.Element) -> None:
    for node in element.iter():
        node.attrib = {k: xml_safe(v) for k, v in node.attrib.items()}
        if node.text:
            node.text = xml_safe(node.text)


def budget_result_to_junit(result: BudgetResult) -> str:
    """`<testsuites>` with one `<testsuite>`: a failure per endpoint over budget, a skip for an
    endpoint without a budget or a budget the run did not exercise."""
    suites = ET.Element("testsuites", name="perftoolkit")
    suite = ET.SubElement(suites, "testsuite", name=SUITE)
    failures = skipped = 0
    for row in result.rows:
        case = ET.SubElement(suite, "testcase", classname=SUITE, name=row.key, time="0")
        if row.status == "exceeded":
            failures += 1
            failure = ET.SubElement(
                case, "failure", message=describe_row(row), type="budget_exceeded"
            )
            failure.text = row_details(row, result.source)
        elif row.status == "none":
            skipped += 1
            ET.SubElement(case, "skipped", message=f"no budget for {row.key} in {result.source}")
    for budget in result.not_exercised:
        skipped += 1
        case = ET.SubElement(suite, "testcase", classname=SUITE, name=budget.key, time="0")
        ET.SubElement(case, "skipped", message="no request to this endpoint in the report")
    tests = len(result.rows) + len(result.not_exercised)
    for element in (suites, suite):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", "0")
        element.set("skipped", str(skipped))
        element.set("time", "0")
    _make_safe(suites)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
