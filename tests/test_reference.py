"""Reference solutions: the book's numbers, and gradients against an independent oracle.

The oracle tolerance is 1e-5, elementwise: centred differences with h = 1e-5 reach
about 1e-6 on entries near 1e-4, while every common slip is off by 0.3 or more.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.linear_model import LinearRegression

from autograder.coursekit.checks import numerical_gradient, relative_error
from autograder.coursekit.data import book_split
from autograder.reference import linear_regression as lin
from autograder.reference import mistakes
from autograder.reference import neural_network as net
from autograder.reference import training
from autograder.specs import linear_weights, network_weights


@pytest.fixture(scope="module")
def data():
    return book_split()


def test_linear_regression_reproduces_the_book(data):
    weights, _ = training.train_book_model(lin)
    preds = lin.predict(data.X_test, weights)
    assert (round(lin.mae(preds, data.y_test), 4), round(lin.rmse(preds, data.y_test), 4)) == (3.5644, 5.0497)


def test_scikit_learn_gives_the_books_comparison(data):
    preds = LinearRegression().fit(data.X_train, data.y_train).predict(data.X_test)
    assert (round(lin.mae(preds, data.y_test), 4), round(lin.rmse(preds, data.y_test), 4)) == (3.5671, 5.0476)


def test_network_with_per_unit_bias_gradient(data):
    weights, _ = training.train_book_model(net)
    preds = net.predict(data.X_test, weights)
    assert (round(net.mae(preds, data.y_test), 4), round(net.rmse(preds, data.y_test), 4)) == (2.5409, 3.9517)


def test_collapsed_b1_gradient_reproduces_the_books_printed_network(data, monkeypatch):
    def collapsed(info, weights):
        return next(wrong for name, _, wrong in mistakes.network_mistakes(info, weights) if name == "B1 collapsed")
    monkeypatch.setattr(net, "loss_gradients", collapsed)
    weights, _ = training.train_book_model(net)
    preds = net.predict(data.X_test, weights)
    assert (round(net.mae(preds, data.y_test), 4), round(net.rmse(preds, data.y_test), 4)) == (2.5951, 3.8851)


def sse_gradients(forward, X, y, weights, loss_index):
    """The oracle: centred differences of SSE = N * MSE, the loss the gradients are of."""
    sse = lambda: len(X) * forward(X, y, weights)[loss_index]
    return {key: numerical_gradient(sse, weights[key]) for key in weights}


sizes = st.tuples(st.integers(2, 9), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(sizes)
def test_linear_gradients_match_numerical(size):
    n, k, _, seed = size
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, k)), rng.standard_normal((n, 1))
    weights = linear_weights(rng, k)
    _, info = lin.forward_linear_regression(X, y, weights)
    analytic = lin.loss_gradients(info, weights)
    numeric = sse_gradients(lin.forward_linear_regression, X, y, weights, loss_index=0)
    assert all(relative_error(analytic[key], numeric[key]) < 1e-5 for key in weights)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(sizes)
def test_network_gradients_match_numerical(size):
    n, k, h, seed = size
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, k)), rng.standard_normal((n, 1))
    weights = network_weights(rng, k, h)
    info, _ = net.forward_loss(X, y, weights)
    analytic = net.loss_gradients(info, weights)
    numeric = sse_gradients(net.forward_loss, X, y, weights, loss_index=1)
    assert all(relative_error(analytic[key], numeric[key]) < 1e-5 for key in weights)


def test_forward_rejects_a_flat_target_naming_the_shapes():
    X, y = np.ones((4, 3)), np.ones(4)
    with pytest.raises(ValueError, match=r"\(4,\)"):
        lin.forward_linear_regression(X, y, {"W": np.ones((3, 1)), "B": np.ones((1, 1))})
