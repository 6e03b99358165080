import sys, time, warnings
sys.path.insert(0, "tests")
from activation_corpus import CORPUS
from anynn import activations
from anynn.errors import ActivationError, ActivationWarning
ok = 0
for name, e, exp in CORPUS:
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            a = activations.get(e); got = "warns" if any(issubclass(x.category, ActivationWarning) for x in w) else "accepted"; msg = a.form.key.split("|",1)[1]
        except ActivationError as err:
            got = "refused"; msg = str(err)[:300]
    dt = time.perf_counter() - t
    ok += got == exp
    print(f"{'OK ' if got==exp else 'BAD'} {name:22s} {got:9s} {dt:5.2f}s {msg}")
print(ok, len(CORPUS))
