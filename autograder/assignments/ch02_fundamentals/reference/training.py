"""The book's training protocol, to reproduce its numbers with the reference solutions."""
import numpy as np


def permute_data(X, y):
    order = np.random.permutation(X.shape[0])
    return X[order], y[order]


def forward_pass(model, X, y, weights):
    """(loss, forward_info) from either model: the book orders the two forwards' results differently."""
    if hasattr(model, "forward_linear_regression"):
        return model.forward_linear_regression(X, y, weights)
    info, loss = model.forward_loss(X, y, weights)
    return loss, info


def train(model, X, y, iterations, learning_rate, batch_size, seed):
    """Mini-batch gradient descent exactly as the book does it: legacy global seed,
    one permutation up front and another each time the data is used up, batches in order."""
    np.random.seed(seed)
    weights = model.init_weights(X.shape[1])
    X, y = permute_data(X, y)
    start, losses = 0, []
    for _ in range(iterations):
        if start >= X.shape[0]:
            X, y = permute_data(X, y)
            start = 0
        X_batch, y_batch = X[start:start + batch_size], y[start:start + batch_size]
        start += batch_size
        loss, info = forward_pass(model, X_batch, y_batch, weights)
        losses.append(loss)
        weights = model.update_weights(weights, model.loss_gradients(info, weights), learning_rate)
    return weights, losses


def train_book_model(model, pre_020=False):
    """The book's protocol for `model` (linear_regression or neural_network). pre_020=True trains on the
    data the printed book used (coursekit.data.load_boston): that reproduces the printed figures (for the
    network, with the book's B1 gradient collapsed over the hidden units; see tests/test_reference.py)."""
    from ....coursekit.data import book_split
    data = book_split(pre_020)
    return train(model, data.X_train, data.y_train, model.ITERATIONS, model.LEARNING_RATE,
                 model.BATCH_SIZE, model.SEED)
