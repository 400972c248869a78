"""Feedback: nbgrader's HTML feedback, without hidden tests and with each failure's diagnosis.

nbgrader's feedback shows every test cell's source and full tracebacks, whose frames
quote the hidden tests. Four preprocessors run between nbgrader's GetGrades and the
HTML export: hidden-test regions are cut from sources, each error output is reduced to
its final `AssertionError: <diagnosis>`, verification's diagnosis is added to
each cell it failed (as an error where it took the points away), and SanitizeOutputs
(sanitize.py) makes what the student wrote inert. The exporter itself renders with
nbconvert's sanitizing on, always, through sanitize.clean_html: no output's or markdown's
HTML reaches the page uncleaned, and no javascript or widget output is written at all.
"""
import copy
import re

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor, Preprocessor
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import GetGrades
from nbgrader.utils import capture_log
from nbformat.v4 import new_markdown_cell
from traitlets import Bool, Dict, Unicode

from . import flags
from .sanitize import SanitizeOutputs, clean_html

HIDDEN = re.compile(r"[ \t]*### BEGIN HIDDEN TESTS.*?(### END HIDDEN TESTS[ \t]*\n?|\Z)", re.S)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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


class StripHiddenTests(Enabled):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.source = strip_hidden(cell.source)
        return cell, resources


class ReduceErrors(Enabled):
    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output.traceback = [last_line(output)]
        return cell, resources


class AnnotateVerdicts(Enabled):
    """notes: {notebook stem: {grade_id: (kind, message)}} from verification: kind "error" for
    points it took away, "diagnosis" for a cell both checks failed."""
    notes = Dict({}).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        kind, message = self.notes.get(resources["nbgrader"]["notebook"], {}).get(grade_id, (None, ""))
        if kind == "error":
            cell.outputs.append({"output_type": "error", "ename": "AssertionError", "evalue": message,
                                 "traceback": [f"AssertionError: {message}"]})
        elif kind == "diagnosis":
            cell.outputs.append({"output_type": "stream", "name": "stdout",
                                 "text": f"Diagnosis, from the same checks on fresh random inputs: {message}\n"})
        return cell, resources


class Footer(Enabled):
    """A closing note on every page, e.g. that this run's kernels were not confined."""
    text = Unicode("").tag(config=True)

    def preprocess(self, nb, resources):
        if self.text:
            nb.cells.append(new_markdown_cell(self.text))
        return nb, resources


UNCONFINED_NOTE = ("---\n*Graded with an **unconfined** kernel (`--allow-unconfined`): the grading machine could "
                   "not isolate this notebook's code. Ask your instructor if that is unexpected.*")


class FeedbackHTML(HTMLExporter):
    """nbconvert's HTMLExporter without its closing BeautifulSoup pass (alt texts and tab
    stops for images and outputs): a third of the feedback's cost, for nothing a feedback
    page of text needs; and with its sanitizing always on, cleaning with sanitize.clean_html
    (and SanitizeOutputs run here if the preprocessors did not)."""

    def default_filters(self):
        yield from super().default_filters()
        yield ("clean_html", clean_html)

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
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


PREPROCESSORS = [GetGrades, StripHiddenTests, ReduceErrors, AnnotateVerdicts, SanitizeOutputs, Footer,
                 CSSHTMLHeaderPreprocessor]


class Feedback:
    def __call__(self, ctx):
        config = copy.deepcopy(ctx.course.nbconfig)
        config.GenerateFeedback.preprocessors = PREPROCESSORS
        config.AnnotateVerdicts.notes = ctx.notes
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
