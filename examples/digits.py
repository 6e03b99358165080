"""Handwritten digits: anynn against scikit-learn's MLPClassifier and PyTorch.

The same 64-128-64-10 relu/softmax network, Adam (lr 1e-3), the same epochs and batch
size, on scikit-learn's bundled 8x8 digits (no download). Prints a table of test
accuracy and training time, and saves anynn's training curves as a PNG.

    python examples/digits.py [--backend numpy] [--epochs 60] [--quick] [--plot PATH]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import anynn as nn

BATCH = 32
LR = 1e-3
SEED = 0


def run_anynn(data, epochs: int, backend: str, plot: str | None) -> tuple[float, float]:
    X_train, X_test, y_train, y_test = data
    net = nn.Network(
        64,
        [(128, True, "relu"), (64, True, "relu"), (10, True, "softmax")],
        backend=backend,
        seed=SEED,
    )
    start = time.perf_counter()
    history = net.fit(
        X_train,
        y_train,
        epochs=epochs,
        batch_size=BATCH,
        loss="cce",
        optimizer=nn.optimizers.Adam(LR),
        metrics=["accuracy"],
        validation_data=(X_test, y_test),
        verbose=0,
    )
    seconds = time.perf_counter() - start
    if plot:
        history.plot(plot)
    predicted = np.argmax(nn.to_numpy(net.predict(X_test)), axis=1)
    return float(np.mean(predicted == y_test)), seconds


def run_sklearn(data, epochs: int) -> tuple[float, float]:
    X_train, X_test, y_train, y_test = data
    clf = MLPClassifier(
        hidden_layer_sizes=(128, 64),
        activation="relu",
        solver="adam",
        alpha=0.0,
        batch_size=BATCH,
        learning_rate_init=LR,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=SEED,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return float(clf.score(X_test, y_test)), seconds


def run_torch(data, epochs: int) -> tuple[float, float] | None:
    try:
        import torch
    except ImportError:
        return None
    X_train, X_test, y_train, y_test = data
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    Xt = torch.tensor(X_train, dtype=torch.float32)
    yt = torch.tensor(y_train, dtype=torch.long)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(Xt))
        for i in range(0, len(Xt), BATCH):
            idx = order[i : i + BATCH]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        predicted = model(torch.tensor(X_test, dtype=torch.float32)).argmax(dim=1).numpy()
    return float(np.mean(predicted == y_test)), seconds


def main(argv: list[str] | None = None) -> dict[str, tuple[float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", help="numpy, cupy or array_api_strict")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="3 epochs: a smoke run")
    parser.add_argument("--plot", default="digits_curves.png", help="PNG of anynn's curves")
    args = parser.parse_args(argv)
    epochs = 3 if args.quick else args.epochs

    digits = load_digits()
    data = train_test_split(
        digits.data / 16.0,
        digits.target,
        test_size=0.25,
        random_state=SEED,
        stratify=digits.target,
    )
    results = {f"anynn ({args.backend})": run_anynn(data, epochs, args.backend, args.plot)}
    results["scikit-learn MLPClassifier"] = run_sklearn(data, epochs)
    torch_result = run_torch(data, epochs)
    if torch_result is not None:
        results["PyTorch"] = torch_result

    print(
        f"digits: {len(data[0])} train / {len(data[1])} test samples, {epochs} epochs, "
        f"batch {BATCH}, Adam lr {LR}"
    )
    print(f"{'library':<30} {'test accuracy':>14} {'train time (s)':>15}")
    for name, (accuracy, seconds) in results.items():
        print(f"{name:<30} {100 * accuracy:>13.2f}% {seconds:>15.2f}")
    if args.plot:
        print(f"training curves: {args.plot}")
    return results


if __name__ == "__main__":
    main()
