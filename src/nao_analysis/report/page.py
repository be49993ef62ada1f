"""The one HTML page shell every reviewer page uses: self-contained (inline CSS), no CDN, escaped text."""

from __future__ import annotations

import re
import time

from jinja2 import Environment, select_autoescape

CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;color:#0b0c0c;margin:0;line-height:1.45;background:#fff;overflow-wrap:break-word}
header.site{background:#12436D;color:#fff;padding:12px 24px}
header.site nav{display:flex;flex-wrap:wrap;gap:4px 18px}
header.site a{color:#fff;font-weight:bold}
main{max-width:1100px;margin:0 auto;padding:12px 24px 48px}
main:focus{outline:none}
@media (max-width:600px){main{padding:8px 12px 32px}header.site{padding:10px 12px}h1{font-size:1.5em}}
.banner{background:#fff4f8;border-left:6px solid #801650;padding:10px 14px;margin:12px 0;color:#3d0a26}
.meta{color:#505a5f;font-size:0.9em}
.table-wrap{max-width:100%;overflow-x:auto;margin:12px 0}
.table-wrap:focus{outline:3px solid #fd0}
table{border-collapse:collapse;margin:0;font-size:0.9em}
th,td{border:1px solid #b1b4b6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f2f1}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.status-pass{background:#e6f4ea}.status-fail{background:#fde8e8}.status-differs{background:#fff7e0}.status-unavailable{background:#eeeeee}
.status-not-applicable{background:#f8f8f8}.status-not-comparable{background:#eef2fb}
figure{margin:16px 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:0.9em;color:#505a5f}
footer{border-top:1px solid #b1b4b6;margin-top:32px;padding-top:8px;font-size:0.8em;color:#505a5f}
a{color:#1d70b8;overflow-wrap:anywhere}
a:focus{outline:3px solid #fd0;background:#fd0;color:#0b0c0c}
.notebook .jp-InputArea,.notebook .input_area{display:none}
.notebook img{max-width:100%;height:auto}
.notebook pre{white-space:pre-wrap;overflow-wrap:anywhere}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fd0;color:#0b0c0c;padding:4px;z-index:10}
header.site a[aria-current="page"]{text-decoration:none;border-bottom:3px solid #fff}
.verdict{background:#f3f2f1;border-left:6px solid #12436D;padding:10px 14px}
.explanation{background:#f3f2f1;border-left:6px solid #505a5f;padding:8px 12px}
.problem{background:#fde8e8;border-left:6px solid #b2182b;padding:8px 12px}
section.figure{border-top:2px solid #12436D;margin-top:32px;padding-top:4px}
.figno{color:#12436D;margin-right:6px}
.subtitle{font-weight:bold;color:#0b0c0c}
figcaption details{display:inline}
details>summary{cursor:pointer;font-weight:bold}
details.key-facts{margin:24px 0;border-top:2px solid #12436D;padding-top:8px}
details.key-facts>summary{font-size:1.3em}
ol.contents{columns:2 22em}
table caption{text-align:left;font-weight:bold;padding:4px 0}
.status-not-built,.status-quoted{background:#f3f2f1}
.wording{display:block;font-weight:normal}
code{overflow-wrap:anywhere}
code.hash{font-size:0.8em;word-break:break-all;display:inline-block;max-width:9em}
table.provenance,table.recon{width:100%}
td.url{overflow-wrap:anywhere;min-width:12em}
table.recon td.note{min-width:14em}
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
<main id="main" tabindex="-1">
<h1>{{ title }}</h1>
<p class="meta">Edition <strong>{{ edition }}</strong>{% if edition_title %} ({{ edition_title }}){% endif %}
 &middot; built {{ built_at }}</p>
{% if banner %}<div class="banner" role="note"><strong>Substitute data.</strong> {{ banner }}
{% if banner_items %}<ul>{% for item in banner_items %}<li>{{ item }}</li>{% endfor %}</ul>{% endif %}</div>{% endif %}
{{ body | safe }}
<footer>{{ footer | safe }}</footer>
</main>
<script>{{ script | safe }}</script>
</body>
</html>
"""

#: The navigation entry of the area profiles, for an edition that has them.
AREAS_NAV = ("areas/index.html", "Areas")

#: Page behaviour every page shares: an in-page link (the skip links included) moves keyboard focus to its target,
#: and a table wider than the screen scrolls inside its own box, which is then focusable and named (so keyboard
#: users can scroll it too) while the page itself never scrolls sideways.
SCRIPT = """
(function () {
  document.addEventListener('click', function (event) {
    var link = event.target.closest ? event.target.closest('a[href^="#"]') : null;
    if (!link || link.getAttribute('href').length < 2) { return; }
    var target = document.getElementById(decodeURIComponent(link.getAttribute('href').slice(1)));
    if (!target) { return; }
    var details = target.closest ? target.closest('details') : null;
    if (details) { details.open = true; }
    if (target.tabIndex < 0 && !target.hasAttribute('tabindex')) { target.setAttribute('tabindex', '-1'); }
    target.focus();
  });
  function fit() {
    document.querySelectorAll('.table-wrap').forEach(function (wrap) {
      var caption = wrap.querySelector('caption');
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute('tabindex', '0');
        wrap.setAttribute('role', 'region');
        wrap.setAttribute('aria-label', (caption ? caption.textContent : 'Table') + ' (scrolls sideways)');
      } else {
        wrap.removeAttribute('tabindex');
        wrap.removeAttribute('role');
        wrap.removeAttribute('aria-label');
      }
    });
  }
  fit();
  window.addEventListener('resize', fit);
  if (window.location.hash.length > 1) {
    var target = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    var details = target && target.closest ? target.closest('details') : null;
    if (details) { details.open = true; }
  }
})();
"""

_TABLE_TAG = re.compile(r"<(/?)table\b[^>]*>", re.IGNORECASE)


def wrap_tables(body_html: str) -> str:
    """Put every outermost ``<table>`` in a ``<div class="table-wrap">``, so a wide table scrolls in its box, not the page."""
    out, depth, position = [], 0, 0
    for match in _TABLE_TAG.finditer(body_html):
        if match.group(1):
            depth = max(depth - 1, 0)
            if depth == 0:
                out.append(body_html[position : match.end()] + "</div>")
                position = match.end()
        else:
            if depth == 0:
                out.append(body_html[position : match.start()] + '<div class="table-wrap">')
                position = match.start()
            depth += 1
    out.append(body_html[position:])
    return "".join(out)


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
    nav: list[tuple[str, str]] | None = None,
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
    nav : list of (href, label), optional
        The site's navigation (default :data:`NAV`).
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
        body=wrap_tables(body_html),
        script=SCRIPT,
        footer=footer_html,
        css=CSS,
        head_extra=head_extra,
        nav=nav or NAV,
        current=current,
        root=root,
        banner_items=banner_items or [],
        built_at=built_at or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    )
