"""The feedback page a student reads: a summary of every graded exercise first, then the notebook.

`outcome` words one graded cell's result (the function its tests exercise, points, passed /
failed / not graded yet, the message, the diagnosis) from the pipeline's per-cell results
(ctx.cells, see reconcile.py) and the cell itself; `totals` adds them up. TEMPLATE extends
nbgrader's feedback template (its CSS stays; its scripts, MathJax's, go: formulas are MathML): a title, the summary table,
then the notebook, each graded cell headed by its outcome and a failed cell's diagnosis in a
box of its own. CSS makes messages wrap, keeps the page within the window at any width and
stacks the table on a phone; it is inline, like everything else on the page.

Every value the template prints from a result or a cell is escaped (`| e`): messages carry
what a student's code raised.
"""
import re

from ..coursekit.checks import WIDTH
from ..specs import CHECKS

SUMMARY_MESSAGE_CHARS = 600     # a longer message is cut in the table (the cell shows it whole)

PASSED, FAILED, PENDING, UNANSWERED, GRADED = "passed", "failed", "not graded yet", "no answer", "graded"
STATUS_CLASS = {PASSED: "passed", FAILED: "failed", PENDING: "pending", UNANSWERED: "none", GRADED: "graded"}

STUDENT_FRAME = re.compile(r"\s*(?:Cell In ?\[(\d*)\]|Input In ?\[(\d*)\]|<ipython-input-(\d+)-)")
FRAME_PLACE = re.compile(r"(?:Cell |Input )?In ?\[(\d+)\], line (\d+)(?:, in (\w+))?")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def points(value) -> str:
    return f"{float(value):g}"


def first_words(markdown: str, limit: int = 70) -> str:
    """The start of a markdown text as plain words, cut at a word boundary (before any math: the
    summary's names are plain text, and TeX source reads badly there)."""
    text = re.sub(r"\*\*|__|`|^#+\s*", "", re.sub(r"<[^>]*>", "", markdown or ""), flags=re.M)
    text = " ".join(text.split())
    math = text.find("$")
    if 20 <= math < limit:
        limit = math
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:.") + " …"


def function_tested(grade_id: str) -> str:
    check = CHECKS.get(grade_id)
    return check.function if check else grade_id


def raised_in(output) -> str:
    """Where the student's code raised, from the last frame of theirs left in the traceback."""
    place = ""
    for chunk in output.get("traceback") or []:
        plain = ANSI.sub("", chunk)
        if STUDENT_FRAME.match(plain):
            found = FRAME_PLACE.search(plain.splitlines()[0])
            if found:
                cell, line, function = found.groups()
                place = f"in {function}, " if function else ""
                place += f"In [{cell}], line {line}"
    return f" (raised {place})" if place else ""


def failure_message(cell) -> str:
    """What the cell's outputs say went wrong: its first error, or what it wrote to stderr."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            ename, evalue = output.get("ename") or "Error", (output.get("evalue") or "").strip()
            if ename == "AssertionError" and evalue:
                return evalue
            return (f"{ename}: {evalue}" if evalue else ename) + raised_in(output)
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return "wrote to stderr (a warning counts as a failure): " + ANSI.sub("", output.get("text", "")).strip()
    return ""


def unwrapped(text: str, width: int = WIDTH) -> str:
    """text with the line breaks coursekit/checks.py made to fit WIDTH joined again (a line broken
    there is full: its next word would not have fitted), for the summary's narrower column."""
    lines = text.split("\n")
    out = lines[:1]
    for line in lines[1:]:
        words = line.split()
        if words and out[-1].strip() and not line[:1].isspace() and len(out[-1]) + 1 + len(words[0]) > width:
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)


def cut(text: str, limit: int = SUMMARY_MESSAGE_CHARS) -> str:
    text = unwrapped(text)
    return text if len(text) <= limit else text[:limit].rstrip() + " … (the whole message is at the cell)"


def worth_saying(diagnosis: str, message: str) -> str:
    """The diagnosis, unless it only repeats the cell's error: the same words (numbers aside:
    `mae(...) is wrong (largest difference 9.74)`), or `sigmoid raised NotImplementedError:`
    beside `NotImplementedError (raised in sigmoid, ...)`."""
    diagnosis = diagnosis.strip().rstrip(":").strip()
    repeated = re.fullmatch(r"(\w+) raised (\w+)", diagnosis)
    if gist(diagnosis) == gist(message) or repeated and all(word in message for word in repeated.groups()):
        return ""
    return diagnosis


def gist(text: str) -> str:
    """text with its numbers blanked and its spacing collapsed."""
    return re.sub(r"[-+.\de]*\d[-+.\de]*", "#", " ".join(text.split()))


def written_status(cell, result):
    """A written answer: graded by a human, left unanswered (nbgrader's automatic 0), or waiting."""
    if result is not None:
        if result.get("score") is not None:
            return GRADED, float(result["score"])
        if result.get("nbgrader") == 0:
            return UNANSWERED, 0.0
        return PENDING, None
    from nbgrader.utils import determine_grade     # no results: what the cell itself shows
    if determine_grade(cell)[0] == 0:
        return UNANSWERED, 0.0
    score = cell.metadata.nbgrader.get("score")
    return (GRADED, float(score)) if score else (PENDING, None)


def outcome(cell, previous, result, diagnosis=""):
    """The outcome of one nbgrader cell, for its heading and (a graded cell) the summary's row.

    result: the cell's entry in ctx.cells (score, max_score, nbgrader's own score), or None;
    previous: the cell before it (a written answer is named after its question)."""
    nbgrader = cell.metadata.get("nbgrader", {})
    grade_id = str(nbgrader.get("grade_id", ""))
    found = {"grade_id": grade_id, "anchor": f"grade-{grade_id}", "graded": bool(nbgrader.get("grade")
                                                                                  or nbgrader.get("task"))}
    if not found["graded"]:
        return {**found, "label": "Your code" if cell.cell_type == "code" else "Your answer", "code": ""}
    max_score = float(result["max_score"] if result else nbgrader.get("points") or 0)
    if nbgrader.get("solution") or nbgrader.get("task"):
        found.update(written_outcome(cell, previous, result))
    else:
        found.update(tested_outcome(cell, result, max_score))
    score, status = found["score"], found["status"]
    return {**found, "status_class": STATUS_CLASS[status], "max_score": max_score,
            "points": f"{points(max_score)} points" if status == PENDING else f"{points(score)} / {points(max_score)}",
            "summary_message": cut(found["message"]), "diagnosis": worth_saying(diagnosis, found["message"])}


def written_outcome(cell, previous, result) -> dict:
    status, score = written_status(cell, result)
    question = previous is not None and previous.cell_type == "markdown" and not \
        previous.metadata.get("nbgrader", {}).get("grade")
    comment = (cell.metadata.nbgrader.get("comment") or "") if status == GRADED else ""
    return {"name": first_words(previous.source) if question else str(cell.metadata.nbgrader.get("grade_id")),
            "kind": "written answer", "label": "Your answer", "code": "", "status": status, "score": score,
            "message": comment}


def tested_outcome(cell, result, max_score) -> dict:
    """A test cell: passed with all its points (ctx.cells' score: verification's verdict included)."""
    score = result.get("score") if result else None
    score = float(score if score is not None else cell.metadata.nbgrader.get("score") or 0)
    status = PASSED if score >= max_score else FAILED
    name = function_tested(cell.metadata.nbgrader.get("grade_id"))
    message = (failure_message(cell) or "no points: see the cell below") if status == FAILED else ""
    return {"name": name, "kind": "function", "label": "Tests of", "code": name, "status": status, "score": score,
            "message": message}


def totals(rows, late_penalty=0.0) -> dict:
    earned = sum(row["score"] for row in rows if row["score"] is not None) - (late_penalty or 0)
    most = sum(row["max_score"] for row in rows)
    waiting = sum(row["max_score"] for row in rows if row["status"] == PENDING)
    notes = []
    if waiting:
        notes.append(f"{points(waiting)} of the {points(most)} points are for written answers not graded yet")
    if late_penalty:
        notes.append(f"a late penalty of {points(late_penalty)} is taken off")
    passed = sum(row["status"] == PASSED for row in rows)
    tested = sum(row["kind"] == "function" for row in rows)
    return {"rows": rows, "score": f"{points(earned)} / {points(most)}", "notes": notes,
            "tests": f"{passed} of {tested} tested functions passed" if tested else ""}


CSS = """
/* autograder: the feedback page (summary_page.py) */
html { -webkit-text-size-adjust: 100%; }
body { padding: 0; overflow-wrap: break-word; }
.ag-page.container { width: auto; max-width: 1170px; padding: 0 16px 32px; }
#notebook, #notebook-container { max-width: 100%; }
#notebook-container.container { width: 100%; padding: 0; }
h1.ag-title { font-size: 26px; margin: 20px 0 14px; overflow-wrap: anywhere; }

/* the summary */
.ag-summary { margin: 0 0 28px; }
.ag-score { font-size: 16px; margin: 0 0 10px; }
.ag-score strong { font-size: 20px; }
.ag-score .ag-note { color: #555; }
table.ag-table { width: 100%; table-layout: fixed; border-collapse: collapse; margin: 0 0 10px; }
.ag-table th, .ag-table td { padding: 7px 8px; text-align: left; vertical-align: top;
  border-bottom: 1px solid #ddd; overflow-wrap: anywhere; }
.ag-table thead th { border-bottom: 2px solid #999; font-size: 13px; color: #333; }
.ag-table col.ag-c-name { width: 25%; } .ag-table col.ag-c-points { width: 10%; }
.ag-table col.ag-c-result { width: 12%; } .ag-table col.ag-c-message { width: 53%; }
.ag-table td.ag-name a { font-weight: 600; }
.ag-table td.ag-name a code { color: inherit; background: none; padding: 0; font-size: 13.5px; }
.ag-kind { display: block; color: #666; font-size: 12px; }
.ag-msg { white-space: pre-wrap; overflow-wrap: anywhere; font-family: Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 12.5px; margin: 0; }
.ag-badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12.5px;
  white-space: nowrap; border: 1px solid transparent; }
.ag-badge.ag-passed { background: #e3f3e6; color: #17612d; border-color: #9fd3ab; }
.ag-badge.ag-failed { background: #fde8e6; color: #9c1c12; border-color: #f0a8a1; }
.ag-badge.ag-pending { background: #fff3d1; color: #6e5100; border-color: #e8cd7a; }
.ag-badge.ag-none, .ag-badge.ag-graded { background: #eef0f2; color: #3d4349; border-color: #c9ced3; }
.ag-after { color: #555; font-size: 13px; }

/* a diagnosis: a box of its own, in the summary and under the cell's outputs */
.ag-diagnosis { border: 2px solid #b35c00; border-left-width: 6px; background: #fff6e8; border-radius: 4px;
  padding: 6px 10px; margin: 8px 0 4px; white-space: pre-wrap; overflow-wrap: anywhere; color: #2b1a00; }
.ag-diagnosis .ag-label { display: block; white-space: normal; font-weight: 700; font-size: 12px;
  letter-spacing: .04em; text-transform: uppercase; color: #8a4600; margin-bottom: 2px; }
.ag-diagnosis .ag-label small { text-transform: none; letter-spacing: 0; font-weight: 400; color: #6b4a22; }

/* graded cells: headed by their outcome */
div.nbgrader_cell .panel-heading.ag-heading { height: auto; display: flex; flex-wrap: wrap; align-items: baseline;
  justify-content: space-between; gap: 2px 12px; }
div.nbgrader_cell .panel-heading.ag-heading a { color: #fff; text-decoration: underline; }
.ag-heading .ag-cell-status { white-space: nowrap; }
.panel.ag-panel-failed { border-color: #9c1c12; }
.panel.ag-panel-failed > .panel-heading { background: #9c1c12; border-color: #9c1c12; color: #fff; }
.panel.ag-panel-passed { border-color: #17612d; }
.panel.ag-panel-passed > .panel-heading { background: #17612d; border-color: #17612d; color: #fff; }
.panel.ag-panel-pending, .panel.ag-panel-none, .panel.ag-panel-graded, .panel.ag-panel-answer { border-color: #31587f; }
.panel.ag-panel-pending > .panel-heading, .panel.ag-panel-none > .panel-heading,
.panel.ag-panel-graded > .panel-heading, .panel.ag-panel-answer > .panel-heading {
  background: #31587f; border-color: #31587f; color: #fff; }
div.prompt { min-width: 0; color: #777; font-size: 12px; font-family: Menlo, Consolas, "DejaVu Sans Mono", monospace; }

/* outputs and tracebacks wrap; code keeps its lines and scrolls inside its own box */
.output_area pre, .output_subarea pre, .output_error pre, .output_text pre, .rendered_html pre {
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: normal; max-width: 100%; }
div.output_subarea { max-width: 100%; overflow-x: visible; }
.input_area, .input_area pre, .highlight pre { max-width: 100%; overflow-x: auto; word-break: normal;
  overflow-wrap: normal; }
img, svg, video { max-width: 100%; height: auto; }
.rendered_html table { display: block; max-width: 100%; overflow-x: auto; }
/* what a student wrote paints inside its own cell: a formula cannot draw over the summary (MathML
   boxes of zero height, huge glyphs) */
.text_cell_render, div.output_subarea { contain: paint; }
math[display="block"] { max-width: 100%; overflow-x: auto;
  overflow-y: hidden; }

/* a phone: one column, the summary's rows stacked */
@media (max-width: 700px) {
  body { font-size: 15px; }
  .ag-page.container { padding: 0 10px 24px; }
  h1.ag-title { font-size: 21px; }
  .ag-table, .ag-table tbody, .ag-table tr, .ag-table td { display: block; width: 100%; }
  .ag-table colgroup, .ag-table thead { display: none; }
  .ag-table tr { border: 1px solid #ddd; border-radius: 6px; margin: 0 0 10px; padding: 4px 0; }
  .ag-table td { border: 0; padding: 3px 10px; }
  .ag-table td.ag-points, .ag-table td.ag-result { display: inline-block; width: auto; }
  div.nbgrader_cell .panel-body { padding: 4px 2px; }
}
@media print { .ag-summary { page-break-after: always; } }
"""

TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{#- nbgrader's feedback template (index.html.j2 of its "feedback" template), with:
    a viewport and our CSS in the head; a title, the summary, then the notebook in the body;
    graded cells headed by their outcome (cell.metadata.autograder, set by SummarizeResults);
    a cell's diagnosis in a box under its outputs. -#}

{%- block header -%}
{%- set head_extra -%}
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style type="text/css">{% raw %}@@CSS@@{% endraw %}</style>
{%- endset -%}
{{ super() | without_scripts | replace('<html>', '<html lang="en">', 1) | replace('</head>', head_extra ~ '\n</head>', 1) }}
{%- endblock header -%}

{%- macro diagnosis_box(text) -%}
<div class="ag-diagnosis" role="note"><span class="ag-label">Diagnosis
<small>&middot; the hidden checks, run again on fresh random inputs</small></span>{{ text | e }}</div>
{%- endmacro -%}

{%- macro summary_row(row) -%}
<tr class="ag-row ag-row-{{ row.status_class }}" data-grade-id="{{ row.grade_id | e }}">
<td class="ag-name"><a href="#{{ row.anchor | e }}">
{%- if row.kind == 'function' %}<code>{{ row.name | e }}</code>{% else %}{{ row.name | e }}{% endif %}</a>
{%- if row.kind != 'function' %}<span class="ag-kind">{{ row.kind | e }}</span>{% endif %}</td>
<td class="ag-points">{{ row.points | e }}</td>
<td class="ag-result"><span class="ag-badge ag-{{ row.status_class }}">{{ row.status | e }}</span></td>
<td class="ag-message">
{%- if row.summary_message %}<p class="ag-msg">{{ row.summary_message | e }}</p>{% endif %}
{%- if row.diagnosis %}{{ diagnosis_box(row.diagnosis) }}{% endif -%}
</td>
</tr>
{%- endmacro -%}

{%- block body -%}
{%- set summary = resources.get('autograder_summary') -%}
<body>
<div class="container ag-page">
<h1 class="ag-title" id="top">{{ resources.nbgrader.notebook | e }}</h1>
{%- if summary %}
<section id="summary" class="ag-summary" aria-label="Summary of the graded exercises">
<p class="ag-score">Score: <strong>{{ summary.score | e }}</strong>
{%- if summary.tests %} &middot; {{ summary.tests | e }}{% endif %}
{%- for note in summary.notes %}<br><span class="ag-note">{{ note | e }}</span>{% endfor %}</p>
{%- if summary.rows %}
<table class="ag-table">
<colgroup><col class="ag-c-name"><col class="ag-c-points"><col class="ag-c-result"><col class="ag-c-message">
</colgroup>
<thead><tr><th scope="col">Exercise</th><th scope="col">Points</th><th scope="col">Result</th>
<th scope="col">What the tests said</th></tr></thead>
<tbody>
{%- for row in summary.rows %}
{{ summary_row(row) }}
{%- endfor %}
</tbody>
</table>
{%- else %}
<p>Nothing in this notebook is graded.</p>
{%- endif %}
<p class="ag-after">Each exercise links to its cell below. The whole notebook follows, as it ran when it
was graded.</p>
</section>
{%- endif %}
<div id="notebook" class="border-box-sizing">
<div class="container" id="notebook-container">
{{ self.body_loop() }}
</div>
</div>
</div>
</body>
{%- endblock body -%}

{%- macro graded_panel(cell, body) -%}
{%- set nbgrader = cell.metadata.nbgrader -%}
{%- set ag = cell.metadata.get('autograder') if resources.get('autograder_summary') else none -%}
{%- set ag = ag or {'label': "Student's answer" if nbgrader.solution else 'Grade cell',
                    'code': '' if nbgrader.solution else nbgrader.grade_id} -%}
<div class="panel nbgrader_cell ag-panel-{{ ag.status_class or 'answer' }}" id="grade-{{ nbgrader.grade_id | e }}">
<div class="panel-heading ag-heading">
<span class="nbgrader-label">{{ ag.label | e }}{% if ag.code %} <code>{{ ag.code | e }}</code>{% endif %}</span>
<span class="ag-cell-status">
{%- if ag.graded %}<span class="ag-badge ag-{{ ag.status_class }}">{{ ag.status | e }}</span>
{{ ag.points | e }} &middot; {% endif -%}
<a href="#summary">summary</a></span>
</div>
<div class="panel-body">{{ body }}</div>
{%- if (nbgrader.solution or nbgrader.task) and nbgrader.comment %}
<div class="panel-footer"><b>Comments:</b> {{ nbgrader.comment | markdown2html | clean_html }}</div>
{%- endif %}
</div>
{%- endmacro -%}

{% block markdowncell scoped %}
{%- set nbgrader = cell.metadata.get('nbgrader', {}) -%}
{#- cleaned as nbgrader's template leaves it: SanitizeOutputs cleaned the source (FeedbackHTML sees to it) -#}
{%- set html_value = cell.source | markdown2html | strip_files_prefix -%}
<div class="cell border-box-sizing text_cell rendered">
{%- if nbgrader.solution or nbgrader.grade or nbgrader.task -%}
{{ graded_panel(cell, '<div class="text_cell_render border-box-sizing rendered_html">' ~ html_value ~ '</div>') }}
{%- else -%}
<div class="inner_cell"><div class="text_cell_render border-box-sizing rendered_html">{{ html_value }}</div></div>
{%- endif -%}
</div>
{% endblock markdowncell %}

{% block input %}
{%- set nbgrader = cell.metadata.get('nbgrader', {}) -%}
{%- set code = cell.source | highlight_code(metadata=cell.metadata) -%}
{%- if nbgrader.solution or nbgrader.grade -%}
{{ graded_panel(cell, '<div class="input_area">' ~ code ~ '</div>') }}
{%- else -%}
<div class="inner_cell"><div class="input_area">{{ code }}</div></div>
{%- endif -%}
{% endblock input %}

{% block outputs scoped %}
{{ super() }}
{%- set ag = cell.metadata.get('autograder') if resources.get('autograder_summary') else none -%}
{%- if ag and ag.diagnosis %}
<div class="output_area">{{ diagnosis_box(ag.diagnosis) }}</div>
{%- endif %}
{% endblock outputs %}
"""
TEMPLATE = TEMPLATE.replace("@@CSS@@", CSS)
