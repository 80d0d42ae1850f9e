#!/usr/bin/env python
"""Fill empty zh-hans entries of the catalogue from JSON files of translations, then report what is left.

    python scripts/fill_translations.py /tmp/po_*.json

Each JSON file maps msgid → msgstr (plural entries: msgid → [singular, plural]). Run after
``manage.py makemessages`` (see ``make messages``); ``compilemessages`` afterwards.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def main(paths: list[str]) -> int:
    table: dict = {}
    for path in paths:
        table.update(json.loads(Path(path).read_text(encoding="utf-8")))
    catalogue = polib.pofile(str(PO), wrapwidth=0)
    missing = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
            entry.msgstr = ""
            entry.msgstr_plural = {k: "" for k in entry.msgstr_plural}
        value = table.get(entry.msgid)
        if entry.msgid_plural:
            if value is not None and not all(entry.msgstr_plural.values()):
                forms = value if isinstance(value, list) else [value]
                entry.msgstr_plural = {0: forms[0]}
            if not all(entry.msgstr_plural.values()):
                missing.append(entry.msgid)
        else:
            if value is not None and not entry.msgstr:
                entry.msgstr = value if isinstance(value, str) else value[0]
            if not entry.msgstr:
                missing.append(entry.msgid)
    catalogue.save(str(PO))
    for msgid in missing:
        print(f"untranslated: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
