"""The machine-readable hooks of the HTML report: JSON Pointers (RFC 6901) into
``Report.as_dict()``."""

from __future__ import annotations


def json_pointer(*parts: str | int) -> str:
    """The RFC 6901 pointer to ``parts``: ``json_pointer("caseload", "project", 0, "new")`` is
    ``/caseload/project/0/new``.

    A pointer and not a dotted path, because outcome texts and partner ids may hold dots or
    slashes ("betaald/betalingsregeling"): RFC 6901 escapes ``~`` as ``~0`` and ``/`` as
    ``~1``, so every key stays unambiguous.
    """
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return "".join("/" + part for part in escaped)
