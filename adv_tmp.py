import time, sympy as sp
from anynn.symbolic import stable_form, X
from anynn.errors import ActivationError
E=sp.exp
cases = {
 "sum52tanh": sp.Add(*[sp.tanh(sp.Rational(i+1,7)*X) for i in range(52)]),
 "sum40softplus": sp.Add(*[sp.log(1+E(sp.Rational(i+1,3)*X)) for i in range(40)]),
 "sum30softplus_rate": sp.Add(*[sp.log(1+E((i%8+1)*X)) for i in range(30)]),
 "ratio_exp": sp.Add(*[E(k*X)/(1+E(2*k*X)) for k in range(1,5)])* sp.Add(*[1/(1+E(-k*X)) for k in range(1,5)]),
 "chain_tanh40": (lambda: (lambda e: e)(eval("X" + "".join([""]*0))))(),
 "piecewise_many": sp.Piecewise(*[(X*k, X < k) for k in range(-20, 20)], (X, True)),
 "sum_sigmoid_pow": sp.Add(*[X**3/(1+E(-X*sp.Rational(k,4))) for k in range(1,30)]),
 "mix": sp.Add(*[sp.erf(sp.log(1+E(X*k)))*sp.tanh(E(X/k)) for k in range(1,12)]),
}
e = X
for _ in range(45): e = sp.tanh(e + sp.Rational(1,3))
cases["chain_tanh45"] = e
e = X
for _ in range(20): e = sp.log(1 + E(e))
cases["chain_softplus20"] = e
for name, e in cases.items():
    t0=time.perf_counter(); c0=time.thread_time()
    try: f=stable_form(e,X); r="accepted "+f.key.split('|',1)[1][:60]
    except ActivationError as err: r="refused: "+str(err)[-160:]
    print(f"{name:20s} wall {time.perf_counter()-t0:6.2f} cpu {time.thread_time()-c0:6.2f} {r}", flush=True)
