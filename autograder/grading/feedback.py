"""Feedback: nbgrader's HTML feedback, without hidden tests, with a summary a student reads first.

nbgrader's feedback shows every test cell's source and full tracebacks, whose frames
quote the hidden tests. The preprocessors between nbgrader's GetGrades and the HTML export
each do one thing: ReduceErrors cuts each error to what the student needs (an assertion's
message; for any other error, the frames of the student's own code and the error), hidden-test
regions are cut from sources, verification's verdict is added where it took the points away
(an error) or names the slip (a diagnosis), SanitizeOutputs (sanitize.py) makes what the
student wrote inert, and SummarizeResults words each graded cell's outcome for the page's
summary (summary_page.py: the template, its CSS, the wording). The exporter renders with
nbconvert's sanitizing on, always, through sanitize.clean_html: no output's or markdown's
HTML reaches the page uncleaned, and no javascript or widget output is written at all.
Formulas are MathML, written here (MathMLRenderer): the page has no script, and its
Content-Security-Policy lets it load nothing but inline styles and data: images.
"""
import copy
import json
import re
from collections import OrderedDict

from jinja2 import BytecodeCache, pass_context
from latex2mathml.converter import convert as latex_to_mathml
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import CoalesceStreamsPreprocessor, CSSHTMLHeaderPreprocessor, Preprocessor
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import GetGrades
from nbgrader.utils import capture_log
from nbformat.v4 import new_markdown_cell, new_output
from traitlets import Bool, Dict, Unicode, default

from . import flags
from .sanitize import SanitizeOutputs, clean_html
from . import summary_page
from .summary_page import ANSI, STUDENT_FRAME

HIDDEN = re.compile(r"[ \t]*### BEGIN HIDDEN TESTS.*?(### END HIDDEN TESTS[ \t]*\n?|\Z)", re.S)
HIDDEN_LINE = re.compile(r"HIDDEN TESTS|run_hidden_test|autograder[./]hidden|\bimport hidden\b")
CONTEXT_LINE = re.compile(r"\s*(-*>)?\s*(\d+)(?:\s|$)")    # "     17 code" or "---> 21 code" in a frame


def strip_hidden(source: str) -> str:
    return HIDDEN.sub("", source).rstrip() + ("\n" if source.endswith("\n") else "")


def last_line(output) -> str:
    """`<ename>: <message>`, the whole message (it may span lines), without the frames above it."""
    if output.get("ename"):
        found = f"{output['ename']}: {output.get('evalue', '')}".rstrip()
    else:
        lines = [line for chunk in output.get("traceback") or [] for line in chunk.splitlines() if line.strip()]
        found = lines[-1] if lines else "Error"
    return ANSI.sub("", found)[:3000]


class Enabled(Preprocessor):
    enabled = Bool(True)   # nbconvert's preprocessors are off unless told otherwise


class CoalesceStreams(CoalesceStreamsPreprocessor):
    """A cell's printed lines in one block: how the kernel happened to flush them (one message or
    several) would otherwise change the page from one run to the next."""
    enabled = Bool(True)


class StripHiddenTests(Enabled):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.source = strip_hidden(cell.source)
        return cell, resources


def hidden_line_numbers(source: str) -> set:
    """The 1-based numbers of the lines of source inside hidden-test regions, markers included."""
    numbers, inside = set(), False
    for number, line in enumerate(source.splitlines(), 1):
        inside = inside or "### BEGIN HIDDEN TESTS" in line
        if inside:
            numbers.add(number)
        inside = inside and "### END HIDDEN TESTS" not in line
    return numbers


def student_frame(chunk: str, own_count=None, own_hidden=frozenset()):
    """A traceback chunk that is a frame of a notebook cell (`Cell In[12], line 4`), hidden-test lines
    cut (own_hidden: those of the cell that ran, numbered own_count); None for any other chunk."""
    plain = ANSI.sub("", chunk)
    found = STUDENT_FRAME.match(plain)
    if not found:
        return None
    number = next((int(n) for n in found.groups() if n), None)
    hidden = own_hidden if number is not None and number == own_count else frozenset()
    lines, texts = chunk.split("\n"), plain.split("\n")
    kept = [lines[0]]
    for line, text in zip(lines[1:], texts[1:]):
        context = CONTEXT_LINE.match(text)
        if HIDDEN_LINE.search(text) or (context and int(context.group(2)) in hidden):
            if context and context.group(1):        # the line that raised is the hidden tests'
                return f"{lines[0]}\n      (in the hidden tests)"
            continue
        kept.append(line)
    return "\n".join(kept).rstrip("\n") + "\n"      # a blank line between frames


def reduced_traceback(output, own_count=None, own_hidden=frozenset()) -> list:
    """An AssertionError: its last line (the message says it all). Any other error: the frames of the
    student's own code and its last line; the header, the course's frames (coursekit/checks.py), the
    hidden tests' (autograder/..., hidden.py, compare.py) and the libraries' are dropped."""
    final = last_line(output)
    if output.get("ename") == "AssertionError":
        return [final]
    frames = [frame for chunk in output.get("traceback") or []
              if (frame := student_frame(chunk, own_count, own_hidden))]
    if frames and ANSI.sub("", frames[-1]).rstrip().endswith(final):     # a SyntaxError's frame ends with it
        return frames
    return frames + [final]


class ReduceErrors(Enabled):
    """Every error output as reduced_traceback leaves it. Runs before StripHiddenTests: the hidden
    regions of the cell's source name the lines its frames must not show."""

    def preprocess_cell(self, cell, resources, index):
        hidden = hidden_line_numbers(cell.source) if cell.cell_type == "code" else frozenset()
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output.traceback = reduced_traceback(output, cell.get("execution_count"), hidden)
        return cell, resources


class AnnotateVerdicts(Enabled):
    """notes: {notebook stem: {grade_id: (kind, message)}} from verification: kind "error" for
    points it took away (added as the cell's error), "diagnosis" for a cell both checks failed
    (kept in resources["diagnoses"] for SummarizeResults: a box of its own on the page)."""
    notes = Dict({}).tag(config=True)

    def preprocess(self, nb, resources):
        resources["diagnoses"] = {}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        kind, message = self.notes.get(resources["nbgrader"]["notebook"], {}).get(grade_id, (None, ""))
        if kind == "error":
            cell.outputs.append(new_output("error", ename="AssertionError", evalue=message,
                                           traceback=[f"AssertionError: {message}"]))
        elif kind == "diagnosis":
            resources["diagnoses"][grade_id] = message
        return cell, resources


class SummarizeResults(Enabled):
    """Each graded cell's outcome (summary_page.outcome: function, points, result, message, diagnosis)
    into resources["autograder_summary"] for the summary table, and into the cell's metadata
    ("autograder", a key no notebook brings: cleared first) for its heading and diagnosis box.

    cells: {notebook stem: {grade_id: result}}, the pipeline's per-cell results (ctx.cells); without
    them, the outcome is read from the cell and nbgrader's grades (GetGrades)."""
    cells = Dict({}).tag(config=True)

    def preprocess(self, nb, resources):
        graded = resources.get("nbgrader", {})
        results, diagnoses = self.cells.get(graded.get("notebook"), {}), resources.get("diagnoses", {})
        rows, previous = [], None
        for cell in nb.cells:
            cell.metadata.pop("autograder", None)
            nbgrader = cell.metadata.get("nbgrader", {})
            if nbgrader.get("grade") or nbgrader.get("solution") or nbgrader.get("task"):
                grade_id = nbgrader.get("grade_id")
                found = summary_page.outcome(cell, previous, results.get(grade_id), diagnoses.get(grade_id, ""))
                cell.metadata["autograder"] = found
                if found["graded"]:
                    rows.append(found)
            previous = cell
        resources["autograder_summary"] = summary_page.totals(rows, graded.get("late_penalty") or 0)
        return nb, resources


class Footer(Enabled):
    """A closing note on every page, e.g. that this run's kernels were not confined."""
    text = Unicode("").tag(config=True)

    def preprocess(self, nb, resources):
        if self.text:
            nb.cells.append(new_markdown_cell(self.text))
        return nb, resources


UNCONFINED_NOTE = ("---\n*Graded with an **unconfined** kernel (`--allow-unconfined`): the grading machine could "
                   "not isolate this notebook's code. Ask your instructor if that is unexpected.*")


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates kept in this process: a worker compiles the page's five templates once,
    not once per notebook (jinja checks each against its source's checksum before reuse)."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = MemoryBytecodeCache()


class Remembered:
    """The values of the last `size` keys used, the least recently used forgotten first: the course's
    cells and formulas come back with every student and stay; each student's own are soon forgotten,
    so a worker's memory does not grow with the class."""

    def __init__(self, size: int):
        self.size, self.values = size, OrderedDict()

    def get(self, key, compute):
        if key in self.values:
            self.values.move_to_end(key)
            return self.values[key]
        value = self.values[key] = compute()
        if len(self.values) > self.size:
            self.values.popitem(last=False)
        return value


# Per worker, for each cache: several times what one assignment of the course holds (at most 67 code
# cells and 282 formulas), so a student's own cells never push out the course's.
REMEMBERED = 1024


class CachedHighlight(Highlight2HTML):
    """Highlight2HTML, remembered per worker: most cells are the course's, the same for every student,
    and pygments is the largest part of a feedback page's cost. The HTML is a function of the key alone."""
    remembered = Remembered(REMEMBERED)

    def __call__(self, source, language=None, metadata=None):
        key = (self.pygments_lexer, language, (metadata or {}).get("magics_language"),
               json.dumps(self.extra_formatter_options, sort_keys=True, default=str), source)
        return self.remembered.get(key, lambda: super(CachedHighlight, self).__call__(source, language, metadata))


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer with each formula written as MathML (latex2mathml), which browsers
    typeset without a script: the page runs none, and formulas read offline. latex2mathml copies
    \\text{...} unescaped, so its MathML is cleaned like any HTML. A formula it cannot convert stays TeX
    source, escaped. Remembered per worker: most formulas are the course's, the same for every student."""
    remembered = Remembered(REMEMBERED)

    def formula(self, tex: str, display: str, delimiter: str) -> str:
        def typeset():
            try:
                return clean_html(latex_to_mathml(tex, display=display))
            except Exception:  # noqa: BLE001 - any TeX latex2mathml cannot read is shown as written
                return f"{delimiter}{self.escape_html(tex)}{delimiter}"
        return self.remembered.get((tex, display), typeset)

    def inline_math(self, body: str) -> str:
        return self.formula(body, "inline", "$")

    def block_math(self, body: str) -> str:
        return self.formula(body, "block", "$$")

    def latex_environment(self, name: str, body: str) -> str:
        return self.formula(f"\\begin{{{name}}}{body}\\end{{{name}}}", "block", "")


SCRIPT = re.compile(r"<script\b.*?</script>\s*", re.S | re.I)


def without_scripts(html: str) -> str:
    """nbgrader's page head less its scripts (MathJax from a CDN and its configuration)."""
    return SCRIPT.sub("", html)


class FeedbackHTML(HTMLExporter):
    """nbconvert's HTMLExporter without its closing BeautifulSoup pass (alt texts and tab
    stops for images and outputs): a third of the feedback's cost, for nothing a feedback
    page of text needs; with its sanitizing always on, cleaning with sanitize.clean_html
    (and SanitizeOutputs run here if the preprocessors did not); and, with nbgrader's feedback
    template, our page (summary_page.TEMPLATE, which extends it)."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = TEMPLATES
        return environment

    def default_filters(self):
        yield from super().default_filters()
        yield ("clean_html", clean_html)
        yield ("without_scripts", without_scripts)

    @pass_context
    def markdown2html(self, context, source):
        """HTMLExporter's, with MathMLRenderer."""
        renderer = MathMLRenderer(
            escape=False, attachments=context.get("cell", {}).get("attachments", {}),
            embed_images=self.embed_images, path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text, exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options)
        return MarkdownWithMath(renderer=renderer).render(source)

    @default("raw_template")
    def _summary_page(self):
        """GenerateFeedback asks for nbgrader's "feedback" template: the page extends it."""
        return summary_page.TEMPLATE if self.template_name == "feedback" else ""

    def _init_resources(self, resources):
        resources = super()._init_resources(resources)
        resources["should_sanitize_html"] = True   # whatever HTMLExporter.sanitize_html is set to
        return resources

    def _preprocess(self, nb, resources):
        nb, resources = super()._preprocess(nb, resources)
        if not resources.get("sanitized"):     # exported without SanitizeOutputs: sanitize all the same
            nb, resources = SanitizeOutputs().preprocess(nb, resources)
        return nb, resources

    def from_notebook_node(self, nb, resources=None, **kw):
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", CachedHighlight(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


PREPROCESSORS = [GetGrades, ReduceErrors, StripHiddenTests, AnnotateVerdicts, CoalesceStreams, SanitizeOutputs,
                 Footer, SummarizeResults, CSSHTMLHeaderPreprocessor]


def results_by_notebook(cells) -> dict:
    """ctx.cells ("<stem>:<grade_id>" -> result) as {stem: {grade_id: result}}."""
    grouped = {}
    for key, result in cells.items():
        stem, _, grade_id = key.partition(":")
        grouped.setdefault(stem, {})[grade_id] = dict(result)
    return grouped


class Feedback:
    def __call__(self, ctx):
        config = copy.deepcopy(ctx.course.nbconfig)
        config.GenerateFeedback.preprocessors = PREPROCESSORS
        config.AnnotateVerdicts.notes = ctx.notes
        config.SummarizeResults.cells = results_by_notebook(ctx.cells)
        config.Footer.text = UNCONFINED_NOTE if flags.UNCONFINED in ctx.flags else ""
        config.GenerateFeedback.exporter_class = FeedbackHTML
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id, coursedir.student_id = ctx.config.assignment, ctx.job.student_id
        app = GenerateFeedback(coursedir=coursedir, config=config)
        app.force = True
        outcome = capture_log(app)
        autograded = ctx.course.folder("autograded", ctx.job.student_id, ctx.config.assignment)
        if not outcome["success"] and list(autograded.glob("*.ipynb")):
            ctx.flag(flags.CRASH, "feedback: " + (outcome.get("error") or "").strip().splitlines()[-1][:200])
