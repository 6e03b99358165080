"""XNOR with two architectures, as in shared/seeds/004: [2, 2, 1] and [2, 4, 3, 1],
sigmoid everywhere, lr 1.0, full-batch gradient descent on the four patterns.

    python examples/xnor.py [--backend numpy] [--quick]

(The article's data table is in fact XOR's, [0, 1, 1, 0]; this example trains the true
XNOR, [1, 0, 0, 1], which is the same problem with the labels flipped.)
"""

from __future__ import annotations

import numpy as np
from _common import binary_accuracy, parser

import anynn
from anynn import Network

ARCHITECTURES = ([2, 2, 1], [2, 4, 3, 1])


def main() -> int:
    args = parser(__doc__.splitlines()[0], seed=0).parse_args()
    epochs = 5000 if args.quick else 10000
    report_every = epochs // 4

    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[1], [0], [0], [1]])

    for arch in ARCHITECTURES:
        print(f"\n=== architecture {arch} ===")
        net = Network(
            inputs=arch[0], layers=arch[1:], activation="sigmoid",
            backend=args.backend, seed=args.seed,
        )
        for done in range(report_every, epochs + 1, report_every):
            history = net.fit(X, y, epochs=report_every, lr=1.0, batch_size=4, shuffle=False)
            print(f"epoch {done:5d}  loss {history.history['loss'][-1]:.6f}")
        outputs = anynn.to_numpy(net.predict(X))
        print("predictions:", (outputs.reshape(-1) > 0.5).astype(int), "expected:", y.ravel())
        print(f"{arch} accuracy: {100 * binary_accuracy(outputs, y):.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
