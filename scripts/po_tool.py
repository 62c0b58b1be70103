"""Helpers for translating locale/zh_Hans/LC_MESSAGES/django.po without hand-editing .po syntax.

python scripts/po_tool.py export untranslated.json   # msgids still missing a translation
python scripts/po_tool.py import translations.json   # {msgid: msgstr} or {msgid: [singular, plural]}
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def export(path: str) -> None:
    po = polib.pofile(str(PO))
    missing = {}
    for entry in po:
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            if not all(entry.msgstr_plural.values()) or entry.fuzzy:
                missing[entry.msgid] = {
                    "plural": entry.msgid_plural,
                    "context": entry.msgctxt or "",
                }
        elif not entry.msgstr or entry.fuzzy:
            missing[entry.msgid] = {
                "context": entry.msgctxt or "",
                "where": [f for f, _ in entry.occurrences][:2],
            }
    Path(path).write_text(json.dumps(missing, ensure_ascii=False, indent=1))
    print(f"{len(missing)} untranslated of {len(po)}")


def import_(path: str) -> None:
    po = polib.pofile(str(PO))
    data = json.loads(Path(path).read_text())
    done = 0
    for entry in po:
        if entry.msgid not in data:
            continue
        value = data[entry.msgid]
        if entry.msgid_plural:
            text = value[0] if isinstance(value, list) else value
            entry.msgstr_plural = {0: text}
        else:
            entry.msgstr = value if isinstance(value, str) else value[0]
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        done += 1
    po.save(str(PO))
    print(f"imported {done}")


if __name__ == "__main__":
    {"export": export, "import": import_}[sys.argv[1]](sys.argv[2])
