"""Reference solutions: the book's numbers, and gradients against an independent oracle.

Provenance of the figures (docs/chapter2-results.md):
- the printed book (Weidman 2019, ch. 2) used the Boston data as scikit-learn shipped them before
  version 0.20, with one wrong CRIM value (scikit-learn issue #10801), and, for the network, a B1
  gradient collapsed over the hidden units: `book_split(pre_020=True)` with that gradient reproduces
  every printed figure;
- the book's official notebook, re-run on the corrected data (2019), gives the corrected-data figures
  of the same protocol;
- this course's network uses the correct, per-unit B1 gradient.

The oracle tolerance is 1e-5, elementwise: centred differences with h = 1e-5 reach
about 1e-6 on entries near 1e-4, while every common slip is off by 0.3 or more.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.linear_model import LinearRegression

from autograder.coursekit import handcases
from autograder.coursekit.checks import numerical_gradient, relative_error
from autograder.coursekit.data import PRE_020_DIFFERENCE, book_split, load_boston
from autograder.assignments.ch02_fundamentals.reference import linear_regression as lin
from autograder.assignments.ch02_fundamentals import mistakes
from autograder.assignments.ch02_fundamentals.reference import neural_network as net
from autograder.assignments.ch02_fundamentals.reference import training
from autograder.assignments.ch02_fundamentals.checks import linear_weights, network_weights


@pytest.fixture(scope="module")
def data():
    return book_split()


@pytest.fixture(scope="module")
def printed_data():
    return book_split(pre_020=True)


def scores(model, preds, y):
    return round(model.mae(preds, y), 4), round(model.rmse(preds, y), 4)


def collapsed_b1(info, weights):
    """The book's B1 gradient: summed over the batch and over the hidden units."""
    return next(wrong for name, _, wrong in mistakes.network_mistakes(info, weights) if name == "B1 collapsed")


# ---------------------------------------------------------------- corrected data (scikit-learn >= 0.20)

def test_linear_regression_gives_the_official_notebooks_corrected_data_figures(data):
    weights, _ = training.train_book_model(lin)
    assert scores(lin, lin.predict(data.X_test, weights), data.y_test) == (3.5644, 5.0497)


def test_scikit_learn_gives_the_official_notebooks_corrected_data_figures(data):
    preds = LinearRegression().fit(data.X_train, data.y_train).predict(data.X_test)
    assert scores(lin, preds, data.y_test) == (3.5671, 5.0476)


def test_network_with_per_unit_bias_gradient_gives_the_courses_figures(data):
    weights, _ = training.train_book_model(net)
    assert scores(net, net.predict(data.X_test, weights), data.y_test) == (2.5409, 3.9517)


def test_collapsed_b1_gradient_gives_the_official_notebooks_corrected_data_network(data, monkeypatch):
    monkeypatch.setattr(net, "loss_gradients", collapsed_b1)
    weights, _ = training.train_book_model(net)
    assert scores(net, net.predict(data.X_test, weights), data.y_test) == (2.5951, 3.8851)


# ---------------------------------------------------------------- pre-0.20 data: the printed book

def test_the_two_data_versions_differ_in_one_crim_value():
    corrected, _, _ = load_boston()
    before, target, _ = load_boston(pre_020=True)
    row, column, old, new = PRE_020_DIFFERENCE
    assert (row, column, old, new) == (445, 0, 0.6718, 10.6718)
    assert np.argwhere(corrected != before).tolist() == [[row, column]]
    assert before[row, column] == old and corrected[row, column] == new
    assert np.array_equal(target, load_boston()[1])


def test_linear_regression_on_pre_020_data_reproduces_the_printed_rmse(printed_data):
    weights, _ = training.train_book_model(lin, pre_020=True)
    preds = lin.predict(printed_data.X_test, weights)
    assert scores(lin, preds, printed_data.y_test) == (3.5643, 5.0508)   # printed: RMSE 5.0508
    assert round(float(printed_data.y_test.mean()), 4) == 22.0776
    assert f"{lin.rmse(preds, printed_data.y_test) / printed_data.y_test.mean():.1%}" == "22.9%"


def test_scikit_learn_on_pre_020_data_reproduces_the_printed_figures(printed_data):
    preds = LinearRegression().fit(printed_data.X_train, printed_data.y_train).predict(printed_data.X_test)
    assert scores(lin, preds, printed_data.y_test) == (3.5666, 5.0482)   # printed: 3.5666 / 5.0482


def test_collapsed_b1_gradient_on_pre_020_data_reproduces_the_printed_network(printed_data, monkeypatch):
    monkeypatch.setattr(net, "loss_gradients", collapsed_b1)
    weights, _ = training.train_book_model(net, pre_020=True)
    assert scores(net, net.predict(printed_data.X_test, weights), printed_data.y_test) == (2.5289, 3.6775)


def test_per_unit_b1_gradient_on_pre_020_data(printed_data):
    weights, _ = training.train_book_model(net, pre_020=True)
    assert scores(net, net.predict(printed_data.X_test, weights), printed_data.y_test) == (2.5262, 3.9707)


# ---------------------------------------------------------------- the visible tests' hand cases

def assert_same(got, want):
    assert sorted(got) == sorted(want)
    for key in want:
        assert np.shape(got[key]) == np.shape(want[key]) and np.allclose(got[key], want[key], rtol=1e-12), key


def differs(wrong, right):
    return any(np.shape(wrong[key]) != np.shape(right[key]) or not np.allclose(wrong[key], right[key], rtol=1e-7)
               for key in right)


def test_linear_hand_case_is_the_references_and_separates_every_slip():
    info, weights, expected = handcases.linear_gradient_case()
    loss, recomputed = lin.forward_linear_regression(info["X"], info["y"], weights)
    assert_same(recomputed, info)
    assert_same(lin.loss_gradients(info, weights), expected)
    wrongs = [wrong for _, _, wrong in mistakes.linear_mistakes(info, weights)]
    assert wrongs and all(differs(wrong, expected) for wrong in wrongs)
    assert all(differs(a, b) for i, a in enumerate(wrongs) for b in wrongs[i + 1:])   # and tell each other apart


def test_network_hand_cases_are_the_references_and_separate_every_slip():
    X, y, weights, expected = handcases.network_forward_case()
    info, mse = net.forward_loss(X, y, weights)
    assert_same({key: info[key] for key in ("M1", "N1", "O1", "M2", "P")},
                {key: expected[key] for key in ("M1", "N1", "O1", "M2", "P")})
    assert np.isclose(mse, expected["mse"]) and np.allclose(net.predict(X, weights), expected["P"])

    info, weights, expected = handcases.network_gradient_case()
    recomputed, _ = net.forward_loss(info["X"], info["y"], weights)
    assert_same(recomputed, info)
    assert np.all(np.abs(info["N1"]) > 1)   # away from 0, where sigma(x)(1 - x) would be a factor 2
    assert_same(net.loss_gradients(info, weights), expected)
    wrongs = [wrong for _, _, wrong in mistakes.network_mistakes(info, weights)]
    assert len(wrongs) >= 8 and all(differs(wrong, expected) for wrong in wrongs)
    assert all(differs(a, b) for i, a in enumerate(wrongs) for b in wrongs[i + 1:])


def test_the_visible_tests_slips_of_the_sigmoids_slope_are_the_catalogues():
    info, weights, expected = handcases.network_gradient_case()
    catalogue = {name: wrong for name, _, wrong in mistakes.network_mistakes(info, weights)}
    slips = handcases.network_gradient_slips()
    for (_, _, wrong), name in zip(slips, [mistakes.SIGMA_ON_OUTPUT[0], mistakes.SIGMA_ONE_MINUS_INPUT[0]]):
        assert set(wrong) == {"W1", "B1"}
        for key in ("W1", "B1"):
            np.testing.assert_allclose(wrong[key], catalogue[name][key], rtol=1e-12)
        for key in ("W2", "B2"):
            np.testing.assert_allclose(catalogue[name][key], expected[key], rtol=1e-12)


def test_hand_cases_are_fresh_each_call():
    first, _, _ = handcases.network_gradient_case()
    first["X"][0, 0] = 99.0
    assert handcases.network_gradient_case()[0]["X"][0, 0] == 1.0


def test_part_one_report(capsys):
    assert handcases.report_part_one({"update_weights": lin.update_weights, "mae": lin.mae, "rmse": lin.rmse}) == []
    assert "ready to train" in capsys.readouterr().out

    def stub(*args):
        raise NotImplementedError()
    missing = handcases.report_part_one({"update_weights": stub, "mae": lambda p, a: 0.0})
    assert missing == ["update_weights", "mae", "rmse"]
    out = capsys.readouterr().out
    assert "still the stub" in out and "where part 1's test wants 1.0000" in out and "not defined" in out


def sse_gradients(forward, X, y, weights, loss_index):
    """The oracle: centred differences of L = n * MSE (n the batch size), the loss the gradients are of."""
    loss = lambda: len(X) * forward(X, y, weights)[loss_index]
    return {key: numerical_gradient(loss, weights[key]) for key in weights}


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


def test_reference_sigmoid_is_expit_at_every_magnitude_without_a_warning():
    from scipy.special import expit
    x = np.concatenate([np.linspace(-1000, 1000, 2001), [-745.2, -709.8, -30.0, 30.0, 709.8]]).reshape(-1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = net.sigmoid(x)
    assert values.dtype == np.float64 and values.shape == x.shape and not np.isnan(values).any()
    np.testing.assert_allclose(values, expit(x), rtol=1e-13, atol=1e-300)   # expit flushes subnormals to 0
