"""CI's checks on the optional packages (run by .ci/run).

    python .ci/optional_packages.py --absent               stage 1: none of them is importable
    python .ci/optional_packages.py --present              stage 2: every one is importable
    python .ci/optional_packages.py --no-optional-skips R  stage 2: no test in the JUnit
                                                           report R skipped for want of one

Exit status 1 with one line per offender when a check fails.
"""
from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET

#: Import names of everything the oracles and extras bring (none is a dependency of pyneuron).
OPTIONAL = ["torch", "sklearn", "matplotlib", "pandas", "jupytext", "nbclient", "nbformat", "ipykernel", "mypy"]

#: Words in a skip message that mean "an optional package was missing".
MISSING_MARKERS = ("could not import", "No module named", "needs matplotlib", "needs scikit-learn",
                   "needs torch", "not installed")


def importable(name):
    return importlib.util.find_spec(name) is not None


def check_absent():
    present = [name for name in OPTIONAL if importable(name)]
    for name in present:
        print(f"stage 1 must be bare, but {name!r} is installed")
    return 1 if present else 0


def check_present():
    absent = [name for name in OPTIONAL if not importable(name)]
    for name in absent:
        print(f"stage 2 needs every oracle, but {name!r} cannot be imported")
    return 1 if absent else 0


def check_no_optional_skips(report):
    skipped, offenders = 0, []
    for case in ET.parse(report).getroot().iter("testcase"):
        for skip in case.findall("skipped"):
            skipped += 1
            message = (skip.get("message") or "") + " " + (skip.text or "")
            if any(marker in message for marker in MISSING_MARKERS):
                offenders.append(f"{case.get('classname')}::{case.get('name')}: {message.strip()[:160]}")
    print(f"{skipped} test(s) skipped in total; {len(offenders)} for a missing optional package")
    for line in offenders:
        print(f"  {line}")
    return 1 if offenders else 0


def main(argv):
    if argv == ["--absent"]:
        return check_absent()
    if argv == ["--present"]:
        return check_present()
    if len(argv) == 2 and argv[0] == "--no-optional-skips":
        return check_no_optional_skips(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
