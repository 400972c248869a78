"""Chapter 3's reference: the book's table reproduced, every graded class against float64 centred
differences, the hidden tests' own consistency, and the book's four quirks reproduced, corrected, and
their effects measured. Every figure quoted in the notebooks and in docs/chapter3-results.md is
asserted here; the last test checks that the executed solutions print them.
"""
import json
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import autograder.coursekit as kit
from autograder.assignments.ch03_deep_learning_from_scratch import checks as ch3_checks
from autograder.assignments.ch03_deep_learning_from_scratch.reference import classes as ref
from autograder.assignments.ch03_deep_learning_from_scratch.reference import training as book
from autograder.coursekit import framework
from autograder.coursekit.checks import numerical_gradient, relative_error
from autograder.hidden import run_hidden_test
from autograder.specs import CHECKS

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions" / "ch03_deep_learning_from_scratch"
CH3 = [check for check in CHECKS.values() if check.assignment == "ch03_deep_learning_from_scratch"]


@pytest.fixture(autouse=True)
def kit_importable(monkeypatch):
    """`coursekit.framework` by name, as beside a notebook: the scripts make their probes from it."""
    monkeypatch.setitem(sys.modules, "coursekit", kit)
    monkeypatch.setitem(sys.modules, "coursekit.framework", framework)


@pytest.fixture(scope="module")
def data():
    return book.book_split_data()


def rounded(values, digits):
    return tuple(round(v, digits) for v in values)


# ---------------------------------------------------------------- the book's table

COURSE = {   # this course's figures (corrected data), four decimals
    "linear regression": (3.5204, 5.0087),
    "one hidden layer": (2.5976, 4.0268),
    "two hidden layers": (2.4478, 3.8282),
}


def test_the_reference_reproduces_the_official_notebooks_table_to_the_printed_digits(data):
    table = book.book_table(data)
    for name, (losses, mae, rmse, trainer) in table.items():
        official_losses, official_mae, official_rmse = book.OFFICIAL[name]
        assert rounded(losses, 3) == official_losses, name
        assert (round(mae, 2), round(rmse, 2)) == (official_mae, official_rmse), name
        assert (round(mae, 4), round(rmse, 4)) == COURSE[name], name
        assert trainer.stopped_at is None and trainer.net is trainer.optim.net


PRE_020 = {   # this course's code on the data as scikit-learn shipped them before 0.20
    "linear regression": ((30.295, 28.462, 26.299, 25.548, 25.092), 3.5200, 5.0092),
    "one hidden layer": ((27.434, 21.834, 18.915, 17.193, 16.214), 2.5977, 4.0266),
    "two hidden layers": ((44.134, 25.271, 22.341, 16.464, 14.604), 2.4462, 3.8215),
}


def test_on_the_older_data_the_validation_losses_differ_and_the_deep_rmse_is_3_82():
    table = book.book_table(book.book_split_data(pre_020=True))
    for name, (losses, mae, rmse, _) in table.items():
        assert (rounded(losses, 3), round(mae, 4), round(rmse, 4)) == PRE_020[name], name
        assert rounded(losses, 3) != book.OFFICIAL[name][0]
    assert round(table["two hidden layers"][2], 2) == 3.82 != book.OFFICIAL["two hidden layers"][2]


# ---------------------------------------------------------------- each class against centred differences

def numeric(f, x):
    return numerical_gradient(f, x)


@pytest.mark.parametrize("seed", range(3))
def test_operations_against_centred_differences(seed):
    rng = np.random.default_rng(seed)
    n, k, m = 5, 4, 3
    X, G = rng.standard_normal((n, k)), rng.standard_normal((n, m))
    W, B = rng.standard_normal((k, m)), rng.standard_normal((1, m))
    for make, x, grad, param in ((lambda: ref.WeightMultiply(W), X, G, W), (lambda: ref.BiasAdd(B), X[:, :m], G, B),
                                 (ref.Sigmoid, X, rng.standard_normal((n, k)), None),
                                 (ref.Linear, X, rng.standard_normal((n, k)), None)):
        op = make()
        op.forward(x)
        input_grad = op.backward(grad)
        x_work = x.copy()
        assert relative_error(input_grad, numeric(lambda: float(np.sum(grad * make().forward(x_work))), x_work)) < 1e-7
        if param is not None:
            probe = make()
            assert relative_error(op.param_grad, numeric(lambda: float(np.sum(grad * probe.forward(x))), probe.param)) < 1e-7


def test_the_loss_against_centred_differences_and_its_convention():
    rng = np.random.default_rng(3)
    P, y = rng.standard_normal((7, 1)), rng.standard_normal((7, 1))
    loss = ref.MeanSquaredError()
    assert np.isclose(loss.forward(P, y), np.mean((P - y) ** 2))
    P_work = P.copy()
    assert relative_error(loss.backward(), numeric(lambda: ref.MeanSquaredError().forward(P_work, y), P_work)) < 1e-7
    sse_gradient = numeric(lambda: float(np.sum((P_work - y) ** 2)), P_work)   # Chapter 2's loss
    assert np.allclose(sse_gradient / loss.backward(), 7.0)


def test_a_whole_network_against_centred_differences(data):
    X, y = data.X_train[:32], data.y_train[:32]
    net = book.build("two hidden layers")
    net.train_batch(X, y)
    grads = [g.copy() for g in net.param_grads()]
    for param, grad in zip(list(net.params()), grads):
        assert relative_error(grad, numeric(lambda: float(net.loss.forward(net.forward(X), y)), param)) < 1e-6


def test_sgd_moves_the_networks_own_arrays():
    net = framework.ProbeNetwork([np.ones((2, 2))], [np.full((2, 2), 3.0)])
    array = next(net.params())
    optimizer = ref.SGD(0.1)
    optimizer.net = net
    optimizer.step()
    assert next(net.params()) is array and np.allclose(array, 0.7)


# ---------------------------------------------------------------- the hidden tests themselves

def test_chapter_3_has_its_checks_in_both_notebooks():
    assert {c.notebook for c in CH3} == {"01_operations_and_layers", "02_networks_and_training"}
    assert {c.grade_id for c in CH3} == {"op_weight_multiply", "op_bias_add", "op_sigmoid", "op_linear",
                                         "layer_forward_backward", "loss_mse", "nn_network", "sgd_step"}


@pytest.mark.parametrize("check", CH3, ids=lambda c: c.grade_id)
def test_the_reference_passes_its_hidden_test_and_cases_are_plain_json_able_data(check, capsys):
    run_hidden_test(check.grade_id, getattr(ref, check.function))
    assert "matches the reference" in capsys.readouterr().out
    json.dumps(check.script)
    from autograder import _sandbox_child as wire
    for args in check.cases(np.random.default_rng(0)):
        arrays = {}
        assert wire.decode(json.loads(json.dumps(wire.encode(args, arrays))), arrays) is not None


def test_every_value_slip_of_the_catalogue_is_told_apart_on_every_case():
    from autograder.assignments.ch03_deep_learning_from_scratch.mistakes import SLIPS
    for check in CH3:
        for seed in range(5):
            for args in check.cases(np.random.default_rng(seed)):
                assert check.separates(args)
        if SLIPS[check.grade_id]:
            assert check.mistakes(check.cases(np.random.default_rng(0))[0])


# ---------------------------------------------------------------- the quirks, reproduced and corrected

def test_reseeding_makes_the_hidden_layers_copies_and_seeding_once_does_not(data):
    for seed_once, identical in ((False, True), (True, False)):
        net = book.build("two hidden layers", seed_once=seed_once)
        net.forward(data.X_train[:1])
        W1, W2, W3 = (layer.params[0] for layer in net.layers)
        assert np.array_equal(W1, W2) is identical
        assert np.array_equal(W3[:, 0], W1[0]) is identical


def test_seeding_once_changes_the_networks_numbers_and_not_linear_regressions(data):
    table = book.book_table(data, seed_once=True)
    figures = {name: (round(row[1], 4), round(row[2], 4), row[3].stopped_at) for name, row in table.items()}
    assert figures == {"linear regression": (3.5204, 5.0087, None), "one hidden layer": (2.6438, 3.9769, None),
                       "two hidden layers": (3.1648, 4.4070, 40)}


def test_over_ten_seeds_the_book_seeds_number_is_one_draw(data):
    spread = {}
    for seed_once in (False, True):
        rmses = []
        for seed in range(book.SEED, book.SEED + 10):
            net = book.build("two hidden layers", seed=seed, seed_once=seed_once)
            book.train(net, data.X_train, data.y_train, data.X_test, data.y_test, seed=seed, stopping="off")
            rmses.append(book.errors(net, data.X_test, data.y_test)[1])
        spread[seed_once] = rmses
    assert round(spread[False][0], 2) == 3.83
    assert (round(min(spread[False]), 2), round(max(spread[False]), 2), round(float(np.median(spread[False])), 3)) == \
        (3.55, 4.17, 3.877)
    assert (round(min(spread[True]), 2), round(max(spread[True]), 2), round(float(np.median(spread[True])), 3)) == \
        (3.31, 4.17, 3.768)


def gradient_error(net, X, y):
    net.train_batch(X, y)
    analytic = net.layers[0].param_grads[0].copy()
    return relative_error(analytic, numeric(lambda: float(net.loss.forward(net.forward(X), y)), net.layers[0].params[0]))


def test_a_shared_default_activation_corrupts_the_first_layers_gradient(data):
    X, y = data.X_train[:32], data.y_train[:32]
    shared = book.build("two hidden layers", shared_activation=True)
    assert shared.layers[0].activation is shared.layers[1].activation
    assert gradient_error(book.build("two hidden layers"), X, y) < 1e-6
    assert gradient_error(book.build("two hidden layers", shared_activation=True), X, y) > 0.5
    net = book.build("two hidden layers", shared_activation=True)
    trainer = book.train(net, data.X_train, data.y_train, data.X_test, data.y_test)
    assert trainer.stopped_at is None
    assert rounded(book.errors(net, data.X_test, data.y_test), 4) == (3.0127, 4.5748)


def validation_loss(net, data):
    return round(float(net.loss.forward(net.forward(data.X_test), data.y_test)), 3)


def test_the_books_early_stopping_keeps_an_unevaluated_copy_and_the_correction_the_best(data):
    deep = book.build("two hidden layers")
    trainer = book.train(deep, data.X_train, data.y_train, data.X_test, data.y_test, epochs=150)
    assert (trainer.stopped_at, trainer.best_epoch, round(trainer.best_loss, 3)) == (110, 100, 10.898)
    assert validation_loss(trainer.net, data) == 11.679          # the copy after 109 epochs
    assert validation_loss(deep, data) == 15.804                 # the caller's network, after 110
    twin = book.build("two hidden layers")
    book.train(twin, data.X_train, data.y_train, data.X_test, data.y_test, epochs=109, stopping="off")
    assert validation_loss(twin, data) == 11.679
    deep = book.build("two hidden layers")
    trainer = book.train(deep, data.X_train, data.y_train, data.X_test, data.y_test, epochs=150, stopping="best")
    assert trainer.net is deep and validation_loss(deep, data) == 10.898


DECIDED = {   # model -> (kept epoch, test RMSE) when the test rows decide, and when the validation rows do
    "linear regression": ((40, 5.0561), (110, 4.9535)),
    "one hidden layer": ((150, 3.6863), (80, 3.8500)),
    "two hidden layers": ((70, 3.8871), (70, 3.8871)),
}
CORRECTED = {"linear regression": (3.4987, 4.9535), "one hidden layer": (2.4360, 3.8500),
             "two hidden layers": (2.4135, 3.8871)}


def test_test_rows_deciding_and_all_four_corrections(data):
    X_fit, X_val, y_fit, y_val = book.validation_split(data)
    assert (len(X_fit), len(X_val)) == (283, 71)
    for name in book.MODELS:
        got = []
        for X_decide, y_decide in ((data.X_test, data.y_test), (X_val, y_val)):
            net = book.build(name, seed_once=True)
            trainer = book.train(net, X_fit, y_fit, X_decide, y_decide, epochs=150, stopping="best")
            mae, rmse = book.errors(net, data.X_test, data.y_test)
            got.append((trainer.best_epoch, round(rmse, 4)))
        assert tuple(got) == DECIDED[name], name
        assert (round(mae, 4), round(rmse, 4)) == CORRECTED[name], name


# ---------------------------------------------------------------- the executed solutions print all of it

PRINTED = {
    "01_operations_and_layers.ipynb": [
        r"gradient of the sum / gradient of the mean: from 32\.0000 to 32\.0000",
        r"agree with centred differences: largest relative error",
    ],
    "02_networks_and_training.ipynb": [
        r"linear regression\s+30\.293 28\.469 26\.293 25\.541 25\.087\s+3\.5204\s+5\.0087\s+3\.52\s+5\.01\s+same",
        r"one hidden layer\s+27\.435 21\.839 18\.918 17\.195 16\.215\s+2\.5976\s+4\.0268\s+2\.60\s+4\.03\s+same",
        r"two hidden layers\s+44\.143 25\.278 22\.339 16\.500 14\.655\s+2\.4478\s+3\.8282\s+2\.45\s+3\.83\s+same",
        r"hidden layers' weights identical: True\s+biases identical: True",
        r"output layer's weights = the hidden layers' first row: True",
        r"differ by up to 2\.4131",
        r"one hidden layer\s+2\.5976\s+4\.0268\s+2\.6438\s+3\.9769",
        r"two hidden layers\s+2\.4478\s+3\.8282\s+3\.1648\s+4\.4070",
        r"re-seeded in every layer \(book\)\s+test RMSE from 3\.55 to 4\.17, median 3\.877",
        r"seeded once\s+test RMSE from 3\.31 to 4\.17, median 3\.768",
        r"the two hidden layers share one Sigmoid: True",
        r"shared activation:\s+relative error 1\.0e\+00",
        r"own activations 2\.4478 / 3\.8282, shared 3\.0127 / 4\.5748",
        r"best evaluation: after 100 epochs, validation loss 10\.898",
        r"trainer\.net, the book's copy:\s+validation loss 11\.679",
        r"the network we passed in \(deep\):\s+validation loss 15\.804",
        r"the network we passed in \(deep\):\s+validation loss 10\.898",
        r"linear regression\s+40\s+5\.0561\s+110\s+4\.9535",
        r"one hidden layer\s+150\s+3\.6863\s+80\s+3\.8500",
        r"two hidden layers\s+70\s+3\.8871\s+70\s+3\.8871",
        r"linear regression\s+3\.5204\s+5\.0087\s+3\.4987\s+4\.9535",
        r"one hidden layer\s+2\.5976\s+4\.0268\s+2\.4360\s+3\.8500",
        r"two hidden layers\s+2\.4478\s+3\.8282\s+2\.4135\s+3\.8871",
    ],
}


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_the_executed_solutions_print_every_figure(name):
    notebook = nbformat.read(SOLUTIONS / name, as_version=4)
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []) if output.get("name") == "stdout")
    missing = [pattern for pattern in PRINTED[name] if not re.search(pattern, printed)]
    assert not missing, f"solutions/ch03_deep_learning_from_scratch/{name} does not print: {missing}"
