"""SanitizeOutputs: what a student put in a notebook cannot run in the browser of whoever opens it.

A notebook's outputs and markdown are HTML to the pages made from it: nbgrader's feedback
and its formgrader (which renders the autograded notebook with no sanitizing). Left as
they are, `<script>`, `<img onerror=...>`, `display(Javascript(...))` or a fixed-position
"Score: 24/24" banner written by a student run, or show, in a TA's browser. This
preprocessor, for every cell:

* outputs: keeps text/plain, image/png, image/jpeg and text/latex (shown escaped) as they
  are; cleans text/html and text/markdown; drops every
  other type (application/javascript and any other *javascript*, widget views and other
  application/vnd.*, image/svg+xml, text/vnd.mermaid...), saying so in a text/plain note
  where nothing is left; keeps only numeric width/height (the templates write them in an
  unquoted attribute), alt, unconfined and needs_background of the output metadata (`isolated`
  would put the HTML in an iframe, `filenames` would point images anywhere);
* markdown cells (written answers) and text/markdown outputs: a cell whose rendering the
  cleaning would change (HTML outside the lists, `[x](javascript:...)`, `![](http://tracker/)`)
  becomes its cleaned rendering, as HTML (markdown too); any other is left as written;
* raw cells: cleaned like HTML; and the notebook's widget state is dropped.

Cleaning is bleach's, as nbconvert's SanitizeHTML and clean_html filter use it, with its
own allow-lists: presentational tags only (no script, style, iframe, object, embed, form,
svg, link, meta...; MathML's presentational elements, which the feedback's formulas are,
with small non-negative sizes), no event-handler or other attribute outside the list, CSS through
bleach's CSS sanitizer with bleach's property list less `cursor` (a URL) and without
`position` (no overlay, no fake banner), class names only those code highlighting and
tables use (Bootstrap's `navbar-fixed-top` would be a fixed banner too), links only to
http(s), mailto, relative or #anchors, images only from data:image/ or relative URLs, so
that nothing a student wrote fetches from the network. Disallowed tags are escaped, not
removed: the TA reads what the student wrote, as text.

`clean_html` is also the feedback exporter's filter for everything it renders.
"""
import re
from html import unescape

import bleach
from bleach import html5lib_shim
from bleach.css_sanitizer import ALLOWED_CSS_PROPERTIES, CSSSanitizer
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from nbformat import from_dict
from pygments.token import STANDARD_TYPES
from traitlets import Bool

TAGS = bleach.ALLOWED_TAGS | {
    "p", "div", "span", "br", "hr", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "sub", "sup",
    "del", "ins", "s", "u", "small", "mark", "kbd", "samp", "var", "q", "cite", "dl", "dt", "dd",
    "details", "summary", "figure", "figcaption", "img", "input",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col"}
TAG_ATTRIBUTES = {
    "a": {"href"}, "img": {"src", "alt", "width", "height"}, "ol": {"start"},
    "td": {"colspan", "rowspan", "align"}, "th": {"colspan", "rowspan", "align"}, "table": {"border"},
    "input": {"type", "checked", "disabled"},   # markdown task lists, [x]: a disabled checkbox
    **{f"h{level}": {"id"} for level in range(1, 7)}}   # markdown's heading anchors
# Formulas: the MathML Core elements latex2mathml writes (feedback.MathMLRenderer), presentational only: no
# semantics/annotation-xml (HTML inside math), no maction, mglyph or malignmark, no href on any of them.
MATHML = {"math", "mi", "mn", "mo", "ms", "mtext", "mspace", "mrow", "mfrac", "msqrt", "mroot", "mstyle",
          "mpadded", "mphantom", "menclose", "msub", "msup", "msubsup", "munder", "mover", "munderover",
          "mtable", "mtr", "mtd"}
MATHML_ATTRIBUTES = {"display", "displaystyle", "scriptlevel", "mathvariant", "mathcolor", "mathbackground",
                     "form", "fence", "separator", "stretchy", "symmetric", "largeop", "movablelimits", "accent",
                     "accentunder", "linethickness", "notation", "linebreak", "rowspacing", "columnspacing",
                     "columnalign", "rowalign", "columnlines", "rowlines", "frame", "columnspan", "rowspan"}
# Sizes and spaces only as small non-negative lengths: a negative space or a huge one would draw a formula's
# text over the page's (and mpadded's voffset, which moves it without moving its box, is not allowed at all).
MATHML_LENGTHS = {"width", "height", "depth", "lspace", "rspace", "minsize", "maxsize", "mathsize"}
SMALL_LENGTH = re.compile(r"\d{1,2}(\.\d+)?(em|ex|%)?")
CSS = CSSSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES - {"position", "cursor"})
CLASSES = set(STANDARD_TYPES.values()) | {"highlight", "anchor-link", "dataframe", "task-list-item",
                                          "task-list-item-checkbox"}
PROTOCOLS = {"http", "https", "mailto", "data"}   # data: only for images, see url_allowed
KEEP = {"text/plain", "image/png", "image/jpeg", "text/latex"}
CLEAN = {"text/html", "text/markdown"}
NUMBERS, FLAGS = {"width", "height"}, {"alt", "unconfined", "needs_background"}   # what outputs' metadata keep
REMOVED = "*[markdown removed by the grader: it could not be made safe to display]*"


def url_allowed(name, value):
    """src: data:image/ or relative; href: http(s), mailto, relative or #anchor (as bleach reads them)."""
    url = re.sub(r"[`\x00-\x20\x7f-\xa0\s]+|[^\x00-\x7f]", "", unescape(value)).lower().replace("\\", "/")
    scheme = re.match(r"([a-z][a-z0-9+.-]*):", url)
    if name == "src":
        return url.startswith("data:image/") or not (scheme or url.startswith("//"))
    return scheme is None or scheme.group(1) in ("http", "https", "mailto")


def attribute_allowed(tag, name, value):
    if name in ("href", "src"):
        return name in TAG_ATTRIBUTES.get(tag, ()) and url_allowed(name, value)
    if name == "class":
        return all(c in CLASSES or c.startswith("hl-") for c in value.split())
    if tag == "input" and name == "type":
        return value == "checkbox"
    if tag in MATHML:
        if name in MATHML_LENGTHS:      # mpadded may not shrink its box: what it holds would spill out
            return not (tag == "mpadded" and name in ("height", "depth")) and bool(SMALL_LENGTH.fullmatch(value.strip()))
        return name in ("style", "title") or name in MATHML_ATTRIBUTES
    return name in ("title", "style") or name in TAG_ATTRIBUTES.get(tag, ())


def clean_html(html):
    """bleach with the allow-lists above; `>` left unescaped so markdown quotes survive."""
    html = html.decode() if isinstance(html, bytes) else html if isinstance(html, str) else "".join(html)
    return bleach.clean(html, tags=TAGS | MATHML, attributes=attribute_allowed, protocols=PROTOCOLS,
                        css_sanitizer=CSS, strip=False, strip_comments=True).replace("&gt;", ">")


class _AnyAttachment(dict):
    """Attachments for a rendering that only checks URLs: every name is there, as an empty PNG."""

    def __contains__(self, name):
        return True

    def __getitem__(self, name):
        return {"image/png": ""}


def render_markdown(source):
    return MarkdownWithMath(renderer=IPythonRenderer(escape=False, attachments=_AnyAttachment())).render(source)


def markup(html):
    """The tags and attributes a browser builds from html (html5lib, as bleach parses), text left out."""
    parser = html5lib_shim.BleachHTMLParser(tags=None, strip=False, consume_entities=False,
                                            namespaceHTMLElements=False)
    return [(token["type"], token["name"], sorted(token["data"].items()) if token["type"] != "EndTag" else None)
            for token in html5lib_shim.getTreeWalker("etree")(parser.parseFragment(html))
            if token["type"] in ("StartTag", "EndTag", "EmptyTag")]


def is_clean(html):
    return markup(html) == markup(clean_html(html))


def clean_markdown(source):
    """The source itself where its rendering is clean (math, code and quotes stay as written);
    else its cleaned rendering, as HTML (which is markdown too); else a note."""
    source = source if isinstance(source, str) else "".join(source)
    if not re.search(r"<|\]\s*[(\[:]", source):      # no HTML, no link or image: nothing to clean
        return source
    try:
        rendered = render_markdown(source)
        if is_clean(rendered):
            return source
        safe = clean_html(rendered)
        if is_clean(render_markdown(safe)):
            return safe
    except Exception:  # noqa: BLE001 - markdown nobody can render is not displayed either
        pass
    return REMOVED


def clean_output(output):
    data = output.get("data")
    if data is None:
        return
    dropped = sorted(key for key in data if key not in KEEP | CLEAN)
    output["data"] = from_dict({key: value if key in KEEP else clean_html(value) if key == "text/html"
                             else clean_markdown(value) for key, value in data.items() if key in KEEP | CLEAN})
    if not output["data"] and dropped:
        output["data"]["text/plain"] = f"[output removed by the grader: {', '.join(dropped)}]"
    metadata = output.get("metadata", {})
    output["metadata"] = from_dict({**safe_metadata(metadata), **{key: safe_metadata(value) for key, value in
                                   metadata.items() if key in output["data"] and isinstance(value, dict)}})


def safe_metadata(entries):
    """Width and height as numbers (the templates write them unquoted), alt (escaped), two flags."""
    return {key: value for key, value in entries.items() if key in FLAGS or key in NUMBERS
            and isinstance(value, (int, float)) and not isinstance(value, bool)}


class SanitizeOutputs(Preprocessor):
    enabled = Bool(True)   # nbconvert's preprocessors are off unless told otherwise

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)   # a widget manager from a CDN would render their state
        nb, resources = super().preprocess(nb, resources)
        resources["sanitized"] = True
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = clean_markdown(cell.source)
        elif cell.cell_type == "raw":
            cell.source = clean_html(cell.source)
        for output in cell.get("outputs", []):
            clean_output(output)
        return cell, resources
