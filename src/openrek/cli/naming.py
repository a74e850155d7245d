"""Name conversion between the service model (CamelCase) and the command line (kebab-case).

Produces the same names as botocore's ``xform_name`` without importing botocore.
"""

from __future__ import annotations

import re

_PLURAL_ACRONYM = re.compile(r"[A-Z]{2,}s$")
_WORD_START = re.compile(r"(.)([A-Z][a-z]+)")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")


def kebab(name: str, sep: str = "-") -> str:
    """``CreateProjectVersion`` -> ``create-project-version``; ``ARNs`` -> ``arns``."""
    if sep in name:
        return name
    plural = _PLURAL_ACRONYM.search(name)
    if plural:
        tail = plural.group()
        name = name[: -len(tail)] + sep + tail.lower()
    name = _WORD_START.sub(lambda m: m.group(1) + sep + m.group(2), name)
    return _LOWER_UPPER.sub(lambda m: m.group(1) + sep + m.group(2), name).lower()


def camel(cli_name: str) -> str:
    """``image-bytes`` -> ``ImageBytes`` (inverse for simple hyphenated names)."""
    return "".join(part[:1].upper() + part[1:] for part in cli_name.split("-"))
