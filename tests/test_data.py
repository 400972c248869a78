"""The vendored data and the book's preparation of it."""
import hashlib
import re

import numpy as np

from autograder.coursekit.data import CSV_PATH, DATA_DIR, book_split, load_boston


def test_vendored_csv_is_the_file_provenance_names():
    recorded = re.search(r"SHA-256 of `boston_house_prices.csv`: `([0-9a-f]{64})`",
                         (DATA_DIR / "PROVENANCE.md").read_text()).group(1)
    assert hashlib.sha256(CSV_PATH.read_bytes()).hexdigest() == recorded
    assert (DATA_DIR / "LICENSE").read_text().startswith("BSD 3-Clause License")


def test_load_boston_returns_features_target_names():
    features, target, names = load_boston()
    assert features.shape == (506, 13) and target.shape == (506,)
    assert names[5] == "RM" and names[11] == "B" and names[12] == "LSTAT"
    assert features[0, 0] == 0.00632 and target[0] == 24.0


def test_book_split_matches_the_book():
    split = book_split()
    assert split.X_train.shape == (354, 13) and split.X_test.shape == (152, 13)
    assert split.y_train.shape == (354, 1) and split.y_test.shape == (152, 1)
    assert round(float(split.y_test.mean()), 4) == 22.0776
    # Standardised over all 506 rows before the split, as the book does.
    everything = np.vstack([split.X_train, split.X_test])
    np.testing.assert_allclose(everything.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(everything.std(axis=0), 1, atol=1e-12)
