"""The visible-test helpers students rely on."""
import numpy as np
import pytest

from autograder.coursekit.checks import (call_quietly, check_array, check_close, check_gradient_shapes,
                                         check_gradient_values, check_keys, check_refuses, numerical_gradient,
                                         relative_error, shape_problem)


def test_numerical_gradient_of_a_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda: np.sum(x ** 3), x)
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-8)
    assert np.array_equal(x, [[1.0, -2.0], [0.5, 3.0]]), "x must be restored"


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))


def test_relative_error_has_a_floor():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(1e-12, 0.0) == pytest.approx(1e-4)
    assert relative_error(1.0, 1.0 + 1e-9) < 1e-9


def test_messages_name_the_problem():
    with pytest.raises(AssertionError, match=r"shape \(3, 1\), expected \(1, 3\)"):
        check_array(np.zeros((3, 1)), "W", shape=(1, 3))
    with pytest.raises(AssertionError, match="dtype int64"):
        check_array(np.zeros(2, dtype=np.int64), "P")
    with pytest.raises(AssertionError, match=r"missing \['y'\]"):
        check_keys({"X": 1, "N": 2, "P": 3}, ["X", "N", "P", "y"], "forward_info")
    with pytest.raises(AssertionError, match="largest difference at index"):
        check_close(np.array([1.0, 2.0]), np.array([1.0, 2.5]), "P")
    check_close(0.1 + 0.2, 0.3, "sum")


# ---------------------------------------------------------------- a backward pass: values, then shapes, each key named

def test_values_are_judged_whatever_their_shape_and_every_wrong_key_is_named():
    want = {"W": np.array([[-16.0], [-31.0]]), "B": np.array([[-10.0]])}
    check_gradient_values({"W": want["W"].T, "B": np.float64(-10.0)}, want, "grads")   # the right numbers
    with pytest.raises(AssertionError) as failure:
        check_gradient_values({"W": want["W"] / 2, "B": -want["B"]}, want, "grads", batch_size=3)
    message = " ".join(str(failure.value).split())
    assert message.startswith("2 of the 2 gradients are wrong")
    assert "grads['W'] is" in message and "half the right answer" in message
    assert "grads['B'] is" in message and "wrong sign" in message


def test_values_name_a_bias_not_summed_a_collapse_and_the_wrong_dtype():
    right = np.array([[1.0, -2.0, 4.0]])
    per_row = np.array([[0.5, -1.0, 2.0], [0.5, -1.0, 2.0]])
    with pytest.raises(AssertionError, match="one row per observation"):
        check_gradient_values({"B1": per_row}, {"B1": right}, batch_size=2)
    with pytest.raises(AssertionError, match="every unit got the same bias gradient"):
        check_gradient_values({"B1": np.float64(3.0)}, {"B1": right})
    with pytest.raises(AssertionError, match="Besides, compared with that sum it is half the right answer"):
        check_gradient_values({"B1": np.full((1, 3), 1.5)}, {"B1": right})
    with pytest.raises(AssertionError, match="dtype float32, expected float64"):
        check_gradient_values({"B1": right.astype(np.float32)}, {"B1": right})
    with pytest.raises(AssertionError, match="should be a NumPy array of numbers, got list"):
        check_gradient_values({"B1": [1.0, -2.0, 4.0]}, {"B1": right})


@pytest.mark.parametrize("got, phrase, kind", [
    (np.zeros((1, 3)), "the transpose of its weight's (3, 1)", "transposed"),
    (np.zeros(3), "the sum dropped the summed axis", "keepdims"),
    (np.zeros((5, 1)), "has shape (5, 1), expected (3, 1)", "shape"),
    (np.zeros((3, 1), dtype=np.float32), "dtype float32, expected float64", "dtype"),
    (np.float64(1.0), "is a single number (float64)", "collapsed"),
    ([0.0, 0.0, 0.0], "should be a NumPy array, got list", "not an array"),
])
def test_shape_problems_say_what_the_shape_suggests(got, phrase, kind):
    found_kind, sentence = shape_problem(got, np.zeros((3, 1)), batch_size=5)
    assert phrase in sentence and found_kind == kind
    assert shape_problem(np.zeros((3, 1)), np.zeros((3, 1))) is None


def test_shape_problems_of_biases():
    assert shape_problem(np.zeros((5, 4)), np.zeros((1, 4)), batch_size=5)[0] == "per row"
    assert shape_problem(np.zeros(1), np.zeros((1, 4)))[0] == "collapsed"
    assert shape_problem(np.float64(0.0), np.zeros((1, 1)))[0] == "keepdims"


def test_shapes_check_lists_every_gradient_with_the_wrong_shape():
    weights = {"W": np.zeros((3, 1)), "B": np.zeros((1, 1))}
    check_gradient_shapes({"W": np.ones((3, 1)), "B": np.ones((1, 1))}, weights, "grads")
    with pytest.raises(AssertionError) as failure:
        check_gradient_shapes({"W": np.ones((1, 3)), "B": np.ones(1)}, weights, "grads")
    message = " ".join(str(failure.value).split())
    assert "grads['W'] has shape (1, 3), the transpose" in message and "grads['B'] has shape (1,), expected (1, 1)" in message


def test_refusals_are_checked_case_by_case():
    def accepts(y):
        return 0.0

    def asserts(y):
        assert y.ndim == 2

    def refuses(y):
        raise ValueError(f"y has shape {y.shape}")
    cases = [("a flat y", (np.zeros(3),), "(3,)")]
    check_refuses(refuses, cases, "f")
    check_refuses(lambda y: (_ for _ in ()).throw(ValueError("bad")), cases, "f")   # passes, with a tip
    with pytest.raises(AssertionError, match="a flat y: f accepted it without an error"):
        check_refuses(accepts, cases, "f")
    with pytest.raises(AssertionError, match="f raised AssertionError"):
        check_refuses(asserts, cases, "f")
    with pytest.raises(NotImplementedError):
        check_refuses(lambda y: (_ for _ in ()).throw(NotImplementedError("write it")), cases, "f")


def test_call_quietly_turns_a_warning_into_the_message(recwarn):
    with pytest.raises(AssertionError, match="sigma gave a warning, RuntimeWarning: overflow encountered in exp"):
        call_quietly(lambda x: 1 / (1 + np.exp(-x)), np.array([-1000.0]), name="sigma")
    assert len(recwarn) == 0        # recorded inside, never shown
    assert call_quietly(np.abs, np.array([-1.0]), name="abs") == np.array([1.0])


def test_the_worst_index_prints_as_plain_numbers():
    with pytest.raises(AssertionError) as failure:
        check_close(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 2.0], [3.5, 4.0]]), "W")
    assert "largest difference at index (1, 0)" in str(failure.value) and "np.int64" not in str(failure.value)
