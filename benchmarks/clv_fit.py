"""Time the CLV fitters on synthetic customer summaries: BG/NBD plus Gamma-Gamma.

    python benchmarks/clv_fit.py --customers 1M 10M [--seed 1]

Each size runs in a fresh Python process. It draws per-customer summaries from the BG/NBD
generative process (Fader, Hardie & Lee 2005) with numpy, and spend from the Gamma-Gamma process
(Fader & Hardie 2013), then times what the ``clv`` method will do:

1. collapse identical (frequency, recency, T) rows into weights (:func:`collapse`);
2. fit BG/NBD on the collapsed rows;
3. fit Gamma-Gamma on the repeat buyers.

Times are wall seconds of those steps (data generation excluded); peak RSS is the child process's
(``os.wait4``), generation and imports included. Target (the task's): under 60 s at 10M.

The data look like a year of daily purchase logs summarised in weeks: first purchases spread
evenly over 365 days before the as-of date, recency in whole days, spend rounded to cents. Whole
days keep the number of distinct rows small, which is what makes collapsing pay; the
Gamma-Gamma fitter likewise merges repeat buyers with the same (frequency, spend).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

import numpy as np

#: The parameters the data are drawn from; the fits should recover them.
BGNBD = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "v": 15.0}
DAYS = 365
TARGET_SECONDS = 60.0


def size(text: str) -> int:
    """``1M`` -> 1_000_000; ``250k`` -> 250_000; plain integers as they are."""
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def summaries(n: int, seed: int) -> dict[str, np.ndarray]:
    """Draw ``n`` customers' (frequency, recency, T, monetary value), time in weeks.

    BG/NBD: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); the customer drops out right after
    repeat purchase D ~ Geometric(p). With N ~ Poisson(lambda T) purchases in (0, T], the
    observed frequency is x = min(D, N), and the x-th of N uniform purchase times is
    T * Beta(x, N - x + 1). Spend: nu ~ Gamma(q, rate v); the mean of x purchases of
    Gamma(p, rate nu) value is Gamma(p x, rate nu) / x.
    """
    rng = np.random.default_rng(seed)
    days = rng.integers(1, DAYS + 1, size=n)
    age = days / 7.0
    lam = rng.gamma(BGNBD["r"], 1 / BGNBD["alpha"], size=n)
    drop = rng.beta(BGNBD["a"], BGNBD["b"], size=n)
    dropout_after = rng.geometric(drop)
    bought = rng.poisson(lam * age)
    x = np.minimum(dropout_after, bought)
    del lam, drop, dropout_after
    repeat = x > 0
    last = np.zeros(n)
    last[repeat] = age[repeat] * rng.beta(x[repeat], bought[repeat] - x[repeat] + 1)
    # Whole days between the first and the last purchase date: both dates are whole days, so the
    # difference is the continuous one rounded (flooring it would bias recency down by half a day).
    recency = np.round(last * 7.0) / 7.0
    nu = rng.gamma(GAMMA_GAMMA["q"], 1 / GAMMA_GAMMA["v"], size=n)
    spend = np.zeros(n)
    spend[repeat] = rng.gamma(GAMMA_GAMMA["p"] * x[repeat], 1 / nu[repeat]) / x[repeat]
    spend = np.round(spend, 2)
    return {"frequency": x.astype(np.float64), "recency": recency, "T": age, "spend": spend}


def one(n: int, seed: int) -> dict[str, Any]:
    """Generate, then time collapse + BG/NBD + Gamma-Gamma on ``n`` customers."""
    from tierwise.methods.lifetime import BetaGeoFitter, GammaGammaFitter, collapse

    started = time.perf_counter()
    data = summaries(n, seed)
    generated = time.perf_counter() - started

    t0 = time.perf_counter()
    x, t_x, age, weights = collapse(data["frequency"], data["recency"], data["T"])
    t1 = time.perf_counter()
    transactions = BetaGeoFitter().fit(x, t_x, age, weights=weights)
    t2 = time.perf_counter()
    repeat = data["frequency"] > 0
    spend = GammaGammaFitter().fit(data["frequency"][repeat], data["spend"][repeat])
    t3 = time.perf_counter()
    return {
        "customers": n,
        "distinct_rows": int(x.size),
        "repeat_buyers": int(repeat.sum()),
        "generate_s": round(generated, 2),
        "collapse_s": round(t1 - t0, 2),
        "bgnbd_s": round(t2 - t1, 2),
        "gamma_gamma_s": round(t3 - t2, 2),
        "fit_total_s": round(t3 - t0, 2),
        "bgnbd": {k: round(v, 4) for k, v in transactions.params_.items()},
        "gamma_gamma": {k: round(v, 4) for k, v in spend.params_.items()},
    }


def measure(n: int, seed: int) -> dict[str, Any]:
    """Run :func:`one` in a fresh process; add its peak RSS."""
    cmd = [sys.executable, __file__, "--one", str(n), "--seed", str(seed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"benchmark child for {n:,} customers failed with status {status}")
    result: dict[str, Any] = json.loads(out)
    result["peak_rss_mib"] = round(usage.ru_maxrss / 1024)
    return result


def report(result: dict[str, Any]) -> None:
    """Print one size's figures and the ratio to the 60 s target."""
    n = result["customers"]
    print(
        f"\n{n:,} customers ({result['distinct_rows']:,} distinct rows, "
        f"{result['repeat_buyers']:,} repeat buyers); data generated in {result['generate_s']} s"
    )
    print(f"  collapse {result['collapse_s']:>7.2f} s")
    print(f"  BG/NBD   {result['bgnbd_s']:>7.2f} s  {result['bgnbd']}  (true {BGNBD})")
    print(
        f"  Gamma-G. {result['gamma_gamma_s']:>7.2f} s  {result['gamma_gamma']}  "
        f"(true {GAMMA_GAMMA})"
    )
    total = result["fit_total_s"]
    print(
        f"  total    {total:>7.2f} s  = {total / TARGET_SECONDS:.2f} of the {TARGET_SECONDS:g} s "
        f"target; peak RSS {result['peak_rss_mib']:,} MiB"
    )


def main() -> None:
    """Parse arguments; run each size in its own process (or, with --one, be that process)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", nargs="+", default=["1M", "10M"], type=str)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.seed)))
        return
    for text in args.customers:
        report(measure(size(text), args.seed))


if __name__ == "__main__":
    main()
