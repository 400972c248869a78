"""Boston housing data, prepared the way Chapter 2 of the book prepares it.

The CSV is vendored beside this module (see data/PROVENANCE.md): no network needed.

Two versions of the data: the vendored file is the corrected one that scikit-learn has shipped
since version 0.20; `pre_020=True` gives the copy scikit-learn shipped before, which the printed
book used. They differ in one value (scikit-learn issue #10801): CRIM in row 445 (counting from 0) reads
10.6718 in the original StatLib data and since scikit-learn 0.20, but 0.6718 before.
"""
from pathlib import Path
from typing import NamedTuple

import numpy as np

DATA_DIR = Path(__file__).parent / "data"
CSV_PATH = DATA_DIR / "boston_house_prices.csv"

# The book's split (Weidman 2019, ch. 2, official notebook).
TEST_SIZE = 0.3
SPLIT_SEED = 80718

# (row, column, value before scikit-learn 0.20, value since): the one difference between the two versions.
PRE_020_DIFFERENCE = (445, 0, 0.6718, 10.6718)


class BostonSplit(NamedTuple):
    X_train: np.ndarray   # (354, 13), standardised
    X_test: np.ndarray    # (152, 13), standardised
    y_train: np.ndarray   # (354, 1)
    y_test: np.ndarray    # (152, 1)
    feature_names: list


def load_boston(pre_020=False):
    """Return (features (506, 13), target (506,), feature names) from the vendored CSV.

    pre_020=True: the data as scikit-learn shipped them before version 0.20 (and as the printed
    book used them), with CRIM in row 445 (counting from 0) at 0.6718 instead of 10.6718.
    """
    with open(CSV_PATH) as f:
        n_rows, n_features = (int(v) for v in f.readline().split(",")[:2])
        names = [name.strip('"') for name in f.readline().strip().split(",")]
    table = np.loadtxt(CSV_PATH, delimiter=",", skiprows=2)
    if table.shape != (n_rows, n_features + 1):
        raise ValueError(f"{CSV_PATH} holds {table.shape}, its header promises {(n_rows, n_features + 1)}")
    features = table[:, :n_features]
    if pre_020:
        row, column, before, since = PRE_020_DIFFERENCE
        if features[row, column] != since:
            raise ValueError(f"{CSV_PATH} row {row}, column {column} holds {features[row, column]}, "
                             f"expected the corrected value {since}")
        features[row, column] = before
    return features, table[:, n_features], names[:n_features]


def book_split(pre_020=False):
    """Standardise all 13 features, split 70/30 with the book's seed, targets as columns.

    Like the book, the scaler is fitted on all 506 rows before the split. pre_020=True starts
    from the data the printed book used (see load_boston); the split itself is the same.
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    features, target, names = load_boston(pre_020)
    features = StandardScaler().fit_transform(features)
    X_train, X_test, y_train, y_test = train_test_split(
        features, target, test_size=TEST_SIZE, random_state=SPLIT_SEED)
    return BostonSplit(X_train, X_test, y_train.reshape(-1, 1), y_test.reshape(-1, 1), names)
