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
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fd0;color:#0b0c0c;padding:4px}
header.site a[aria-current="page"]{text-decoration:none;border-bottom:3px solid #fff}
.verdict{background:#f3f2f1;border-left:6px solid #12436D;padding:10px 14px}
.problem{background:#fde8e8;border-left:6px solid #b2182b;padding:8px 12px}
section.figure{border-top:2px solid #12436D;margin-top:32px;padding-top:4px}
.figno{color:#12436D;margin-right:6px}
.subtitle{font-weight:bold;color:#0b0c0c}
figcaption details{display:inline}
.links a{white-space:nowrap}
table caption{text-align:left;font-weight:bold;padding:4px 0}
.status-not-built,.status-quoted{background:#f3f2f1}
.wording{display:block;font-weight:normal}
code.hash{font-size:0.8em;word-break:break-all}
table.provenance,table.recon{width:100%}
td.url{overflow-wrap:anywhere;min-width:16em}
code.hash{display:inline-block;max-width:9em}
table.recon td:nth-child(7){min-width:14em}
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{{ title }} - nao-analysis ({{ edition }})</title>
<style>{{ css | safe }}</style>
{{ head_extra | safe }}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><nav aria-label="Site">
{% for href, label in nav %}
<a href="{{ root }}{{ href }}"{% if href == current %} aria-current="page"{% endif %}>{{ label }}</a>
{% endfor %}
</nav></header>
<main id="main">
<h1>{{ title }}</h1>
<p class="meta">Edition <strong>{{ edition }}</strong>{% if edition_title %} ({{ edition_title }}){% endif %}
 &middot; built {{ built_at }}</p>
{% if banner %}<div class="banner" role="note"><strong>Substitute data.</strong> {{ banner }}
{% if banner_items %}<ul>{% for item in banner_items %}<li>{{ item }}</li>{% endfor %}</ul>{% endif %}</div>{% endif %}
{{ body | safe }}
<footer>{{ footer | safe }}</footer>
</main>
</body>
</html>
"""

NAV = [
    ("index.html", "Index"),
    ("reconciliation.html", "Reconciliation"),
    ("provenance.html", "Provenance"),
    ("assumptions.html", "Assumptions and caveats"),
]

_env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
_template = _env.from_string(TEMPLATE)


def render_page(
    *,
    title: str,
    edition: str,
    body_html: str,
    edition_title: str = "",
    banner: str = "",
    footer_html: str = "",
    head_extra: str = "",
    built_at: str | None = None,
    current: str = "",
    banner_items: list[str] | None = None,
    root: str = "",
) -> str:
    """Wrap a body in the house page: navigation, title, edition, build time and any substitute-data banner.

    Parameters
    ----------
    title, edition, edition_title, banner : str
        Plain text; escaped here.
    body_html, footer_html, head_extra : str
        Already-escaped HTML, inserted as they are.
    built_at : str, optional
        The build time to show (default: now, UTC).
    current : str
        The navigation entry of this page (e.g. ``"index.html"``), marked ``aria-current``.
    banner_items : list of str, optional
        Plain-text points listed under the banner (e.g. one substitution per figure).
    root : str
        The way back to the site folder from this page (``"../"`` for a page in a subfolder), for the navigation.

    Returns
    -------
    str
        A complete, self-contained HTML document (inline CSS, no external resource).
    """
    return _template.render(
        title=title,
        edition=edition,
        edition_title=edition_title,
        banner=banner,
        body=body_html,
        footer=footer_html,
        css=CSS,
        head_extra=head_extra,
        nav=NAV,
        current=current,
        root=root,
        banner_items=banner_items or [],
        built_at=built_at or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    )
