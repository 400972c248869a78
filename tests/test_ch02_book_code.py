"""The book's own Chapter 2 code, copied by a student, is told each thing that is wrong with it.

examples/ch02_fundamentals.py's BOOK fills both notebooks with functions that behave exactly like the
official Chapter 2 notebook's (SethHWeidman/DLFS_code, 02_fundamentals/Code.ipynb), written in the
course's own words. In this course's terms the book's code
- checks its inputs with assert, on sizes only: a flat y_batch (and, for linear regression, a flat W)
  goes through, and the MSE of an n x n matrix comes back;
- sums the linear bias gradient without keepdims: the right number, in shape (1,);
- updates in place (its training loop subtracts from the weight arrays);
- writes the naive sigmoid, which overflows (with a warning) below about -709;
- differentiates the network's loss as -(y - P), half this course's gradient of L, and sums its B1 and
  B2 gradients a second time, over the hidden units: two plain numbers, B1 the collapsed total.
Everything else (the pair orders, the loss as a mean, predict, mae, rmse) agrees with the course.
Each wrong thing is named by the visible tests, by the hidden tests, and in the graded feedback (the
outside verification, whose messages the feedback pages show).
"""
import importlib.util
from pathlib import Path

import nbformat
import pytest

from autograder import sandbox
from autograder.hidden import run_hidden_test
from autograder.specs import CHECKS, checks_of
from autograder.verify import verify_notebook
from test_ch02_visible import LIN, NET, run_notebook

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ch02_fundamentals"


def load_examples():
    spec = importlib.util.spec_from_file_location("examples_ch02", ROOT / "examples" / f"{ASSIGNMENT}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLES = load_examples()


def book_functions(stem):
    """The book-like functions of one notebook, defined as the student's cells would define them."""
    namespace = {}
    for (where, grade_id), source in EXAMPLES.BOOK.items():
        if where == stem and not grade_id.startswith("q_"):
            exec(source, namespace)
    return {name: value for name, value in namespace.items() if callable(value) and not name.startswith("_")}


def unwrapped(text):
    return " ".join(text.split())


# What each failing cell must say, in the visible tests and in the hidden tests / graded feedback.
VISIBLE = {
    "lin_forward_checks_input": ["(a) a flat y_batch of shape (3,): forward_linear_regression accepted it",
                                 "(b) a flat W of shape (2,): forward_linear_regression accepted it"],
    "lin_gradients_shapes": ["grads['B'] has shape (1,), expected (1, 1)", "keepdims=True"],
    "lin_update": ["update_weights must not modify its inputs"],
    "net_sigmoid": ["gave a warning, RuntimeWarning: overflow encountered in exp"],
    "net_forward_checks_input": ["(a) a flat y_batch of shape (5,): forward_loss accepted it",
                                 "(b) a row y_batch of shape (1, 5): forward_loss accepted it"],
    "net_gradients": ["4 of the 4 gradients are wrong",
                      "grads['B2'] is -2., expected [[-4.]]: it is half the right answer",
                      "grads['W2']", "grads['W1']",
                      "grads['B1'] is -0.75, expected [[-0.75 0.75 -1.5 ]]: every unit got the same bias gradient, "
                      "the sum over all the units",
                      "compared with that sum it is half the right answer"],
    "net_gradients_shapes": ["grads['B1'] is a single number (float64), expected an array of shape (1, 4)",
                             "grads['B2'] is a single number (float64), expected an array of shape (1, 1)"],
}
HIDDEN = {
    "lin_forward_checks_input": ["accepted y_batch of shape", "broadcast to a", "[flat y accepted]"],
    "lin_gradients_shapes": ["gradient 'B': has shape (1,), expected (1, 1)", "[keepdims missing]"],
    "lin_update": ["modified its inputs in place"],
    "net_sigmoid": ["RuntimeWarning: overflow encountered in exp"],
    "net_forward_checks_input": ["accepted y_batch of shape", "[flat y accepted]"],
    "net_gradients": ["gradients 'W1', 'B1', 'W2', 'B2':", "[missing factor 2]",
                      "gradient 'B1': every hidden unit got the same B1 gradient", "[B1 collapsed]"],
    "net_gradients_shapes": ["gradient 'B1': is a single number", "[B1 collapsed]",
                             "gradient 'B2': is a single number", "[keepdims missing]"],
}


def test_the_expected_failures_are_the_examples_and_every_one_is_described():
    assert set(EXAMPLES.BOOK_FAILS) == set(VISIBLE) == set(HIDDEN)
    student = EXAMPLES.EXAMPLES["s20_book_code"]
    assert student[0] is EXAMPLES.BOOK and set(student[1]) == set(CHECKS_OF_CH02) - set(EXAMPLES.BOOK_FAILS)


CHECKS_OF_CH02 = [check.grade_id for check in checks_of(ASSIGNMENT)]


@pytest.mark.parametrize("stem", [LIN, NET])
def test_the_visible_tests_tell_the_book_code_each_thing_that_is_wrong(stem):
    results = run_notebook(stem, book_functions(stem))
    failing = {grade_id for grade_id, message in results.items() if message}
    assert failing == {grade_id for grade_id in EXAMPLES.BOOK_FAILS if CHECKS[grade_id].notebook == stem}
    for grade_id in failing:
        missing = [phrase for phrase in VISIBLE[grade_id] if phrase not in results[grade_id]]
        assert not missing, f"{grade_id} says: {results[grade_id]}\nmissing: {missing}"


@pytest.mark.parametrize("grade_id", CHECKS_OF_CH02)
def test_the_hidden_tests_tell_the_book_code_each_thing_that_is_wrong(grade_id):
    function = book_functions(CHECKS[grade_id].notebook)[CHECKS[grade_id].function]
    if grade_id not in EXAMPLES.BOOK_FAILS:
        run_hidden_test(grade_id, function)
        return
    with pytest.raises(AssertionError) as failure:
        run_hidden_test(grade_id, function)
    message = unwrapped(str(failure.value))
    missing = [phrase for phrase in HIDDEN[grade_id] if phrase not in message]
    assert not missing, f"{grade_id} says: {message}\nmissing: {missing}"


@pytest.fixture(scope="module")
def book_submission(tmp_path_factory):
    """The book student's notebooks, built from the release as examples/build.py builds them."""
    folder = tmp_path_factory.mktemp("book")
    for stem in (LIN, NET):
        notebook = nbformat.read(ROOT / "notebooks" / ASSIGNMENT / f"{stem}.ipynb", as_version=4)
        for cell in notebook.cells:
            source = EXAMPLES.BOOK.get((stem, cell.metadata.get("nbgrader", {}).get("grade_id")))
            if source is not None:
                cell.source = source
        nbformat.write(notebook, str(folder / f"{stem}.ipynb"))
    return folder


@pytest.mark.parametrize("stem", [LIN, NET])
def test_the_graded_feedback_tells_the_book_code_each_thing_that_is_wrong(book_submission, stem):
    result = verify_notebook(book_submission / f"{stem}.ipynb", stem, seed=2024, isolation=sandbox.RLIMITS,
                             assignment=ASSIGNMENT, timeout_s=60)
    assert not result.flags, result.flags
    failing = {grade_id for grade_id, verdict in result.items() if not verdict.passed}
    assert failing == {grade_id for grade_id in EXAMPLES.BOOK_FAILS if CHECKS[grade_id].notebook == stem}
    for grade_id in failing:
        message = unwrapped(result[grade_id].message)
        missing = [phrase for phrase in HIDDEN[grade_id] if phrase not in message]
        assert not missing, f"{grade_id} says: {message}\nmissing: {missing}"
