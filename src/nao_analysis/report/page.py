"""The one HTML page shell every reviewer page uses: self-contained (inline CSS), no CDN, escaped text."""

from __future__ import annotations

import time

from jinja2 import Environment, select_autoescape

CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;color:#0b0c0c;margin:0;line-height:1.45;background:#fff}
header.site{background:#12436D;color:#fff;padding:12px 24px}
header.site a{color:#fff;margin-right:18px;font-weight:bold}
main{max-width:1100px;margin:0 auto;padding:12px 24px 48px}
.banner{background:#fff4f8;border-left:6px solid #801650;padding:10px 14px;margin:12px 0;color:#3d0a26}
.meta{color:#505a5f;font-size:0.9em}
table{border-collapse:collapse;margin:12px 0;font-size:0.9em}
th,td{border:1px solid #b1b4b6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f2f1}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.status-pass{background:#e6f4ea}.status-fail{background:#fde8e8}.status-differs{background:#fff7e0}.status-unavailable{background:#eeeeee}
figure{margin:16px 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:0.9em;color:#505a5f}
footer{border-top:1px solid #b1b4b6;margin-top:32px;padding-top:8px;font-size:0.8em;color:#505a5f}
a{color:#1d70b8}
.notebook .jp-InputArea,.notebook .input_area{display:none}
.notebook img{max-width:100%}
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} - nao-analysis ({{ edition }})</title>
<style>{{ css | safe }}</style>
{{ head_extra | safe }}
</head>
<body>
<header class="site"><a href="index.html">Index</a><a href="reconciliation.html">Reconciliation</a><a href="provenance.html">Provenance</a><a href="assumptions.html">Assumptions and caveats</a></header>
<main>
<h1>{{ title }}</h1>
<p class="meta">Edition <strong>{{ edition }}</strong>{% if edition_title %} ({{ edition_title }}){% endif %} &middot; built {{ built_at }}</p>
{% if banner %}<div class="banner" role="note"><strong>Substitute data.</strong> {{ banner }}</div>{% endif %}
{{ body | safe }}
<footer>{{ footer | safe }}</footer>
</main>
</body>
</html>
"""

_env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
_template = _env.from_string(TEMPLATE)


def render_page(*, title: str, edition: str, body_html: str, edition_title: str = "", banner: str = "", footer_html: str = "",
                head_extra: str = "", built_at: str | None = None) -> str:
    """Wrap already-escaped ``body_html`` in the house page. ``title``, ``edition`` and ``banner`` are escaped here."""
    return _template.render(title=title, edition=edition, edition_title=edition_title, banner=banner, body=body_html, footer=footer_html,
                            css=CSS, head_extra=head_extra, built_at=built_at or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
