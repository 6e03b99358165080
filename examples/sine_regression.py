"""Regression of y = sin(pi * x1) * x2 on [-1, 1]^2 (shared/seeds/004, example 2):
a 2-16-16-1 network, tanh hidden layers, identity output, mini-batch SGD on the MSE.

    python examples/sine_regression.py [--backend numpy] [--quick]
"""

from __future__ import annotations

import numpy as np
from _common import parser

import anynn
from anynn import Network


def target(X: np.ndarray) -> np.ndarray:
    """The function to learn, one value per row of ``X``."""
    return np.sin(np.pi * X[:, 0]) * X[:, 1]


def main() -> int:
    args = parser(__doc__.splitlines()[0], seed=0).parse_args()
    epochs = 100 if args.quick else 300
    rng = np.random.default_rng(args.seed)
    X_train, X_test = rng.uniform(-1, 1, (256, 2)), rng.uniform(-1, 1, (256, 2))
    y_train, y_test = target(X_train), target(X_test)

    net = Network(
        inputs=2,
        layers=[(16, True, "tanh"), (16, True, "tanh"), (1, True, "identity")],
        backend=args.backend,
        seed=args.seed,
    )
    history = net.fit(X_train, y_train, epochs=epochs, lr=0.1, batch_size=16, loss="mse")
    losses = history.history["loss"]
    for epoch in range(0, epochs, max(1, epochs // 5)):
        print(f"epoch {epoch + 1:4d}  train MSE {losses[epoch]:.5f}")

    predicted = anynn.to_numpy(net.predict(X_test)).reshape(-1)
    print("\n   x1      x2     target  predicted")
    for x, want, got in zip(X_test[:6], y_test[:6], predicted[:6], strict=True):
        print(f"{x[0]:6.3f}  {x[1]:6.3f}   {want:7.4f}  {got:7.4f}")
    print(f"\nvariance of the target (MSE of predicting the mean): {np.var(y_test):.5f}")
    print(f"test MSE: {net.evaluate(X_test, y_test, loss='mse'):.5f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
