"""The book's protocol for Chapter 3 (Weidman 2019, ch. 3; official notebook 03_dlfs/Code.ipynb), its
quirks, and their corrections, with the reference classes and the kit's Trainer.

The book trains three networks on Chapter 2's split of the Boston data with SGD (learning rate 0.01),
50 epochs, batches of 32, an evaluation every 10 epochs, seed 20190501 both for the layers and for
the trainer, and the test rows as the validation rows.
"""
import contextlib
import io

import numpy as np

from ....coursekit.framework import Trainer
from .classes import Dense, Linear, MeanSquaredError, NeuralNetwork, SGD, Sigmoid

SEED = 20190501
LEARNING_RATE = 0.01
EPOCHS = 50
EVAL_EVERY = 10
BATCH_SIZE = 32
VALIDATION_FRACTION = 0.2      # the corrected protocol's validation rows, taken from the training rows
VALIDATION_SEED = 20190501

MODELS = {   # name -> [(neurons, activation class)] per layer
    "linear regression": [(1, Linear)],
    "one hidden layer": [(13, Sigmoid), (1, Linear)],
    "two hidden layers": [(13, Sigmoid), (13, Sigmoid), (1, Linear)],
}

# What the official notebook prints (SethHWeidman/DLFS_code, 03_dlfs/Code.ipynb, commit f4ec4de):
# the validation loss after 10, 20, ..., 50 epochs (three decimals), then MAE and RMSE (two decimals).
OFFICIAL = {
    "linear regression": ((30.293, 28.469, 26.293, 25.541, 25.087), 3.52, 5.01),
    "one hidden layer": ((27.435, 21.839, 18.918, 17.195, 16.215), 2.60, 4.03),
    "two hidden layers": ((44.143, 25.278, 22.339, 16.500, 14.655), 2.45, 3.83),
}


def build(name, seed=SEED, seed_once=False, shared_activation=False):
    """The book's network `name`. seed_once: only the first layer re-seeds the generator, the others
    draw on from it (the correction of the re-seeding quirk). shared_activation: the sigmoid layers use
    Dense's default activation, the one instance they all share (the book's notebook passes its own)."""
    layers = [Dense(neurons) if (shared_activation and activation is Sigmoid) else Dense(neurons, activation())
              for neurons, activation in MODELS[name]]
    net = NeuralNetwork(layers, MeanSquaredError(), seed=seed)
    if seed_once:
        for layer in net.layers[1:]:
            layer.seed = None
    return net


def train(net, X_train, y_train, X_val, y_val, epochs=EPOCHS, stopping="book", seed=SEED, lr=LEARNING_RATE,
          verbose=False):
    """The book's Trainer.fit on `net`; returns the trainer (its history, stopping, and `net`)."""
    trainer = Trainer(net, SGD(lr))
    with contextlib.redirect_stdout(io.StringIO()) if not verbose else contextlib.nullcontext():
        trainer.fit(X_train, y_train, X_val, y_val, epochs=epochs, eval_every=EVAL_EVERY, batch_size=BATCH_SIZE,
                    seed=seed, stopping=stopping, verbose=verbose)
    return trainer


def errors(net, X, y):
    """(MAE, RMSE) of the network's predictions for the rows of X."""
    miss = net.forward(X) - y
    return float(np.mean(np.abs(miss))), float(np.sqrt(np.mean(miss ** 2)))


def book_split_data(pre_020=False):
    from ....coursekit.data import book_split
    return book_split(pre_020)


def validation_split(data):
    """(X_fit, X_val, y_fit, y_val): the training rows split again, 80/20, for the corrected protocol."""
    from sklearn.model_selection import train_test_split
    return train_test_split(data.X_train, data.y_train, test_size=VALIDATION_FRACTION, random_state=VALIDATION_SEED)


def book_table(data=None, **build_options):
    """{name: (validation losses, MAE, RMSE, trainer)} for the three models under the book's protocol."""
    data = data or book_split_data()
    table = {}
    for name in MODELS:
        net = build(name, **build_options)
        trainer = train(net, data.X_train, data.y_train, data.X_test, data.y_test)
        table[name] = (tuple(loss for _, loss in trainer.history), *errors(net, data.X_test, data.y_test), trainer)
    return table
