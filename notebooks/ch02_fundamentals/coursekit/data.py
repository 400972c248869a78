"""Boston housing data, prepared the way Chapter 2 of the book prepares it.

The CSV is vendored beside this module (see data/PROVENANCE.md): no network needed.
"""
from pathlib import Path
from typing import NamedTuple

import numpy as np

DATA_DIR = Path(__file__).parent / "data"
CSV_PATH = DATA_DIR / "boston_house_prices.csv"

# The book's split (Weidman 2019, ch. 2, official notebook).
TEST_SIZE = 0.3
SPLIT_SEED = 80718


class BostonSplit(NamedTuple):
    X_train: np.ndarray   # (354, 13), standardised
    X_test: np.ndarray    # (152, 13), standardised
    y_train: np.ndarray   # (354, 1)
    y_test: np.ndarray    # (152, 1)
    feature_names: list


def load_boston():
    """Return (features (506, 13), target (506,), feature names) from the vendored CSV."""
    with open(CSV_PATH) as f:
        n_rows, n_features = (int(v) for v in f.readline().split(",")[:2])
        names = [name.strip('"') for name in f.readline().strip().split(",")]
    table = np.loadtxt(CSV_PATH, delimiter=",", skiprows=2)
    if table.shape != (n_rows, n_features + 1):
        raise ValueError(f"{CSV_PATH} holds {table.shape}, its header promises {(n_rows, n_features + 1)}")
    return table[:, :n_features], table[:, n_features], names[:n_features]


def book_split():
    """Standardise all 13 features, split 70/30 with the book's seed, targets as columns.

    Like the book, the scaler is fitted on all 506 rows before the split.
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    features, target, names = load_boston()
    features = StandardScaler().fit_transform(features)
    X_train, X_test, y_train, y_test = train_test_split(
        features, target, test_size=TEST_SIZE, random_state=SPLIT_SEED)
    return BostonSplit(X_train, X_test, y_train.reshape(-1, 1), y_test.reshape(-1, 1), names)
