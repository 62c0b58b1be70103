"""Helpers for translating locale/zh_Hans/LC_MESSAGES/django.po without hand-editing .po syntax.

python scripts/po_tool.py export untranslated.json   # msgids still missing a translation
python scripts/po_tool.py import translations.json   # {msgid: msgstr} or {msgid: [singular, plural]}
python scripts/po_tool.py add translations.json      # like import, but adds missing msgids too (a plural as
                                                     # {"plural": msgid_plural, "msgstr": text}), under a
                                                     # file lock, and compiles the .mo (safe to run while
                                                     # others edit the catalogue; makemessages is not)

A key "context\u0004msgid" (gettext's own separator) is the msgid in that context (pgettext).
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


def add(path: str) -> None:
    import fcntl
    import subprocess

    data = json.loads(Path(path).read_text())
    with open(PO.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        po = polib.pofile(str(PO))
        by_id = {(e.msgctxt or "", e.msgid): e for e in po if not e.obsolete}
        added = updated = 0
        for msgid, value in data.items():
            # A plural entry is {"plural": msgid_plural, "msgstr": text} (zh has one form).
            plural = value.get("plural", "") if isinstance(value, dict) else ""
            context, _sep, msgid = msgid.rpartition("\u0004")
            entry = by_id.get((context, msgid))
            if entry is None:
                entry = polib.POEntry(msgid=msgid, msgid_plural=plural, msgctxt=context or None)
                po.append(entry)
                added += 1
            else:
                updated += 1
            if isinstance(value, dict):
                text = value["msgstr"]
            else:
                text = value[0] if isinstance(value, list) else value
            if entry.msgid_plural:
                entry.msgstr_plural = {0: text}
            else:
                entry.msgstr = text
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
        po.save(str(PO))
        subprocess.run(
            ["msgfmt", "-o", str(PO.with_suffix(".mo")), str(PO)], check=True
        ) if _has_msgfmt() else po.save_as_mofile(str(PO.with_suffix(".mo")))
    print(f"added {added}, updated {updated}")


def _has_msgfmt() -> bool:
    import shutil

    return shutil.which("msgfmt") is not None


if __name__ == "__main__":
    {"export": export, "import": import_, "add": add}[sys.argv[1]](sys.argv[2])
