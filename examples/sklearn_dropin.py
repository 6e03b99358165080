"""anynn.sklearn as a drop-in for scikit-learn's MLPClassifier / MLPRegressor.

One recipe, two imports: the same pipeline (standardised inputs, hidden layers (64, 32)
relu, Adam at lr 1e-3, batch 32, no L2, fixed epochs) is built once with
``sklearn.neural_network`` and once with ``anynn.sklearn`` (changing only the import), on
scikit-learn's bundled data sets and a synthetic Friedman regression. Regression targets
are standardised on the training split (``TransformedTargetRegressor``); R² is computed on
the original scale. Prints test score (mean ± std over seeds) and fit time per data set
(after one untimed warm-up fit per library and data set).

    python examples/sklearn_dropin.py [--backend numpy] [--seeds 3] [--quick]
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from _common import parser
from sklearn import datasets, neural_network
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import anynn.sklearn

# (name, loader, is classification, epochs)
DATASETS = [
    ("iris", datasets.load_iris, True, 150),
    ("wine", datasets.load_wine, True, 150),
    ("breast_cancer", datasets.load_breast_cancer, True, 150),
    ("digits", datasets.load_digits, True, 150),
    ("diabetes", datasets.load_diabetes, False, 20),
    ("friedman1", lambda return_X_y: datasets.make_friedman1(2000, 10, noise=1.0,
                                                            random_state=0), False, 150),
]


def recipe(library, classification: bool, epochs: int, seed: int, backend: str):
    """The pipeline of one run; ``library`` is sklearn.neural_network or anynn.sklearn."""
    common = {
        "hidden_layer_sizes": (64, 32), "activation": "relu", "solver": "adam",
        "learning_rate_init": 1e-3, "batch_size": 32, "alpha": 0.0, "max_iter": epochs,
        "tol": 0.0, "n_iter_no_change": epochs + 1, "random_state": seed,
    }
    if library is anynn.sklearn:
        common["backend"] = backend
    if classification:
        return make_pipeline(StandardScaler(), library.MLPClassifier(**common))
    model = library.MLPRegressor(**common)
    return make_pipeline(
        StandardScaler(), TransformedTargetRegressor(model, transformer=StandardScaler())
    )


def run(name, loader, classification, epochs, seeds, backend):
    """Mean and std of the test score and mean fit time per library; the two libraries
    alternate run by run, so a change in machine load hits both alike."""
    X, y = loader(return_X_y=True)
    libraries = (anynn.sklearn, neural_network)
    scores = {lib.__name__: [] for lib in libraries}
    times = {lib.__name__: [] for lib in libraries}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for library in libraries:  # untimed warm-up: first-call compilation, caches
            recipe(library, classification, 1, 0, backend).fit(X[::3], y[::3])
        for seed in seeds:
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.25, random_state=seed,
                stratify=y if classification else None,
            )
            for library in libraries:
                model = recipe(library, classification, epochs, seed, backend)
                start = time.perf_counter()
                model.fit(X_train, y_train)
                times[library.__name__].append(time.perf_counter() - start)
                scores[library.__name__].append(model.score(X_test, y_test))
    return {key: (np.mean(scores[key]), np.std(scores[key]), np.mean(times[key]))
            for key in scores}


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    args = p.parse_args()
    seeds = range(1 if args.quick else args.seeds)
    chosen = [d for d in DATASETS if d[0] in ("iris", "diabetes")] if args.quick else DATASETS
    print(f"anynn.sklearn (backend={args.backend}) vs scikit-learn, seeds {list(seeds)}")
    header = (f"{'data set':<14} {'metric':<8} {'anynn':>15} {'scikit-learn':>15} "
              f"{'fit s anynn/sklearn':>20} {'within 1 std':>12} {'speed-up':>8}")
    print(header)
    print("-" * len(header))
    for name, loader, classification, epochs in chosen:
        epochs = 10 if args.quick else epochs
        res = run(name, loader, classification, epochs, seeds, args.backend)
        (a_mean, a_std, a_time) = res["anynn.sklearn"]
        (s_mean, s_std, s_time) = res["sklearn.neural_network"]
        # within one standard deviation, or "higher" when anynn's score is above that
        within = abs(a_mean - s_mean) <= max(s_std, a_std)
        verdict = "yes" if within else ("higher" if a_mean > s_mean else "no")
        metric = "accuracy" if classification else "R2"
        label = f"{name} ({epochs} ep)"
        print(f"{label:<14} {metric:<8} {a_mean:>8.3f} ± {a_std:.3f} {s_mean:>8.3f} ± "
              f"{s_std:.3f} {a_time:>9.2f} / {s_time:<8.2f} {verdict:>12} "
              f"{s_time / a_time:>7.1f}x")


if __name__ == "__main__":
    main()
