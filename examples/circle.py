"""A circular decision boundary, x1^2 + x2^2 > 0.5 (shared/seeds/004, example 3):
a 2-16-1 network, tanh hidden layer, sigmoid output, binary cross-entropy.

    python examples/circle.py [--backend numpy] [--quick]
"""

from __future__ import annotations

import numpy as np
from _common import binary_accuracy, parser

import anynn
from anynn import Network


def labels(X: np.ndarray) -> np.ndarray:
    """1 outside the circle of radius sqrt(0.5), 0 inside."""
    return (X[:, 0] ** 2 + X[:, 1] ** 2 > 0.5).astype(int)


def ascii_map(net: Network, size: int = 21) -> str:
    """The learnt region on a grid over [-1, 1]^2: '#' outside, '.' inside."""
    axis = np.linspace(-1, 1, size)
    grid = np.array([[x1, x2] for x2 in axis[::-1] for x1 in axis])
    inside = anynn.to_numpy(net.predict(grid)).reshape(size, size) <= 0.5
    return "\n".join("".join("." if cell else "#" for cell in row) for row in inside)


def main() -> int:
    args = parser(__doc__.splitlines()[0], seed=0).parse_args()
    epochs = 100 if args.quick else 300
    rng = np.random.default_rng(args.seed)
    X_train, X_test = rng.uniform(-1, 1, (400, 2)), rng.uniform(-1, 1, (400, 2))
    y_train, y_test = labels(X_train), labels(X_test)

    net = Network(
        inputs=2,
        layers=[(16, True, "tanh"), (1, True, "sigmoid")],
        backend=args.backend,
        seed=args.seed,
    )
    history = net.fit(X_train, y_train, epochs=epochs, lr=0.3, batch_size=16, loss="bce")
    losses = history.history["loss"]
    for epoch in range(0, epochs, max(1, epochs // 5)):
        print(f"epoch {epoch + 1:4d}  train loss {losses[epoch]:.4f}")

    print("\nlearnt region ('.' inside the circle):")
    print(ascii_map(net))
    train_acc = binary_accuracy(anynn.to_numpy(net.predict(X_train)), y_train)
    test_acc = binary_accuracy(anynn.to_numpy(net.predict(X_test)), y_test)
    print(f"\ntrain accuracy: {100 * train_acc:.1f}%")
    print(f"test accuracy: {100 * test_acc:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
