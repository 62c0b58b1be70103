"""The charting library is served by the app itself, pinned, with its licence."""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "static" / "vendor" / "echarts"
# dist/echarts.common.min.js of the npm package echarts@5.6.0, unchanged
ECHARTS_SHA256 = "55974cf42cc160e6cf9099cd3ed8cdedfaa9779919fcee7e2272c85f6ca30e27"


def test_echarts_is_vendored_pinned_and_licensed():
    build = VENDOR / "echarts-5.6.0.common.min.js"
    assert hashlib.sha256(build.read_bytes()).hexdigest() == ECHARTS_SHA256
    assert "Apache License" in (VENDOR / "LICENSE").read_text()
    assert (VENDOR / "NOTICE").exists()


def test_report_templates_load_nothing_from_outside_and_run_no_inline_script():
    for template in (ROOT / "templates" / "reports").glob("*.html"):
        text = template.read_text()
        assert "http://" not in text and "https://" not in text, template.name
        assert "<script>" not in text and " on" + "click=" not in text, template.name
        assert "style=" not in text, template.name
