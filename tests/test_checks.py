"""The visible-test helpers students rely on."""
import numpy as np
import pytest

from autograder.coursekit.checks import (check_array, check_close, check_keys, numerical_gradient,
                                         relative_error)


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
