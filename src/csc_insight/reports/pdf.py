"""HTML to PDF with WeasyPrint, offline: every report inlines its styles and SVG charts."""

from __future__ import annotations

import logging
from pathlib import Path


def write_pdf(html: str, path: Path, base_url: Path) -> Path:
    """Render self-contained ``html`` to a PDF at ``path``."""
    import weasyprint

    # WeasyPrint and fontTools log every font substitution; a report needs none of that noise.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    weasyprint.HTML(string=html, base_url=str(base_url)).write_pdf(str(path))
    return path
