"""Chapter 2's solutions print the printed book's figures beside the corrected data's (issue 7)."""
import re

import nbformat
import pytest

from autograder.release import COURSE_ROOT

ASSIGNMENT = "ch02_fundamentals"
SOLUTIONS = COURSE_ROOT / "solutions" / ASSIGNMENT

PRINTED_AND_CORRECTED = {
    # notebook: [(a row of the printed output, what it shows)]: the corrected-data figures beside the printed book's
    "01_linear_regression.ipynb": [
        (r"hand-built\s+MAE\s+3\.5644\s+3\.5643\s+not quoted", "hand-built MAE, corrected and pre-0.20 data"),
        (r"hand-built\s+RMSE\s+5\.0497\s+5\.0508\s+5\.0508\s+\(same\)", "hand-built RMSE, printed 5.0508"),
        (r"scikit-learn\s+MAE\s+3\.5671\s+3\.5666\s+3\.5666\s+\(same\)", "scikit-learn MAE, printed 3.5666"),
        (r"scikit-learn\s+RMSE\s+5\.0476\s+5\.0482\s+5\.0482\s+\(same\)", "scikit-learn RMSE, printed 5.0482"),
    ],
    "02_neural_network.ipynb": [
        (r"one per hidden unit \(correct\)\s+corrected\s+2\.5409\s+3\.9517", "this course's network"),
        (r"one per hidden unit \(correct\)\s+pre-0\.20\s+2\.5262\s+3\.9707", "correct B1 gradient, pre-0.20 data"),
        (r"collapsed to one number \(book\)\s+corrected\s+2\.5951\s+3\.8851", "official notebook, corrected data"),
        (r"collapsed to one number \(book\)\s+pre-0\.20\s+2\.5289\s+3\.6775", "printed book, reproduced"),
        (r"printed in the book\s+2\.5289\s+3\.6775", "printed book, quoted"),
    ],
}


@pytest.mark.parametrize("name", sorted(PRINTED_AND_CORRECTED))
def test_solutions_print_the_printed_books_figures_beside_the_corrected_datas(name):
    notebook = nbformat.read(SOLUTIONS / name, as_version=4)
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []) if output.get("name") == "stdout")
    missing = [what for pattern, what in PRINTED_AND_CORRECTED[name] if not re.search(pattern, printed)]
    assert not missing, f"solutions/{ASSIGNMENT}/{name} does not print: {missing}"
