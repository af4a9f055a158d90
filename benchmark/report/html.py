"""The report page: one HTML file with its CSS, script and data inline (works from file://)."""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

#: written into the page; marks a folder as a report that a rerun may replace
GENERATOR = "derain-toolkit benchmark report"


def embed_json(data: Any) -> str:
    """``data`` as JSON that is safe inside ``<script type="application/json">``."""
    text = json.dumps(data, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _static(name: str) -> str:
    return (resources.files("benchmark.report") / "static" / name).read_text(encoding="utf-8")


def render_page(data: dict[str, Any], title: str) -> str:
    """The page: the template with the stylesheet, the script and ``data`` filled in."""
    page = _static("page.html")
    for key, value in (("generator", GENERATOR), ("title", html.escape(title)),
                       ("css", _static("report.css")), ("js", _static("report.js")),
                       ("data", embed_json(data))):
        page = page.replace("{{" + key + "}}", value)
    return page
