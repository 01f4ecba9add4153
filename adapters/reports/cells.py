"""Text for spreadsheet cells, safe to open in Excel or LibreOffice.

Group names, partner names and labels come from configuration; a text cell that starts like a
formula would be evaluated by the spreadsheet (OWASP "CSV injection"), e.g. a project called
``=HYPERLINK("…")``. Both the CSV and the XLSX writer pass every text cell through
``neutralise``.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""The characters OWASP lists as starting a formula (or, tab and CR, hiding one)."""


def neutralise(text: str) -> str:
    """``text`` with a leading apostrophe when it starts with a formula trigger, else as is.

    The apostrophe makes the spreadsheet show the cell as text; numbers are never passed here,
    so a negative number stays a number.
    """
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text
