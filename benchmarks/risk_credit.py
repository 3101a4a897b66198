"""Time the AML risk rating and credit grading against the rules method on the same data.

    python benchmarks/risk_credit.py --size 100M    # 10M customers; 1M: 100k customers

The target (issue 16): grading 10M customers with a ``risk`` scheme, and with a ``credit``
scheme's frozen points table, takes at most twice the time of the ``rules`` method on the same
data, with peak memory under 8 GiB. This writes ``benchmarks/data/<size>/risk_credit/
tierwise.yaml`` (the benchmark project of run.py plus the schemes below) and runs each scheme in
a fresh process (``run_schemes(project, [scheme])``: load, check, indicators, grade, write) once
the cores are idle:

* ``value``: the retail rules of the benchmark project (the reference);
* ``aml``: a risk rating with three binned factors, a floor and a ceiling, review dates and a
  first-rating deadline table over a calendar with holidays;
* ``credit``: a credit scorecard graded by a frozen points table (three characteristics, reason
  codes), with its stability measured against the table's development shares.

It prints each scheme's wall time, CPU time and peak RSS, and the ratios to ``value``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import run as bench  # noqa: E402

SCHEMES = ("value", "aml", "credit")
#: The target: each scheme within this multiple of the rules method's wall time.
TARGET_RATIO = 2.0
TARGET_PEAK_MIB = 8 * 1024

EXTRA = """
  signup:
    attribute: signup_date
"""

SCHEME_YAML = """
  aml:
    method: risk
    value: spend_12m
    factors:
      - {indicator: spend_12m, weight: 40, default: 0,
         bins: [[null, 0], [1000, 30], [5000, 60], [20000, 100]]}
      - {indicator: orders_12m, weight: 30, default: 0, bins: [[null, 0], [5, 40], [20, 100]]}
      - {indicator: days_since_last_order, weight: 30, default: 50,
         bins: [[null, 50], [30, 20], [180, 0]]}
    tiers:
      - {key: high, min_score: 60, review_months: 6, due_diligence: enhanced}
      - {key: medium, min_score: 30, review_months: 12}
      - {key: low, review_months: 24, due_diligence: simplified}
    floors: [{when: "spend_12m >= 50000", at_least: high, reason: very large spend}]
    ceilings: [{when: "orders_12m == 0", at_most: medium, reason: no order this year}]
    reviews:
      onboarded: signup
      calendar: {holidays: [2026-01-01, 2026-05-01, 2026-10-01, 2026-10-02]}
  credit:
    method: credit
    value: spend_12m
    characteristics: [spend_12m, orders_12m, days_since_last_order]
    points_table:
      characteristics:
        - indicator: spend_12m
          missing: 150
          missing_share: 0.05
          bins:
            - {lower: null, points: 120, share: 0.4}
            - {lower: 1000, points: 150, share: 0.35}
            - {lower: 5000, points: 180, share: 0.25}
        - indicator: orders_12m
          missing: 150
          missing_share: 0.0
          bins:
            - {lower: null, points: 110, share: 0.3}
            - {lower: 3, points: 150, share: 0.4}
            - {lower: 10, points: 190, share: 0.3}
        - indicator: days_since_last_order
          missing: 120
          missing_share: 0.1
          bins:
            - {lower: null, points: 200, share: 0.3}
            - {lower: 60, points: 160, share: 0.3}
            - {lower: 180, points: 120, share: 0.3}
    tiers:
      - {key: A, min_score: 520}
      - {key: B, min_score: 450}
      - {key: C}
"""


def write_project(size: str) -> Path:
    """The benchmark project with the risk and credit schemes."""
    return bench.write_variant(size, "risk_credit", EXTRA, SCHEME_YAML)


def child(folder: Path, scheme: str) -> dict[str, object]:
    """One scheme through the grading service: its steps and tier counts."""
    from tierwise.services import grading

    project = grading.Project.open(folder)
    start = time.perf_counter()
    (done,) = grading.run_schemes(project, [scheme])
    service = time.perf_counter() - start
    return {"service": service, "steps": dict(done.timings), "customers": done.customers,
            "tiers": {t.key: t.customers for t in done.tiers}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(generate.SIZES), required=True)
    parser.add_argument("--child", choices=SCHEMES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        folder = generate.size_dir(args.size) / "risk_credit"
        print(json.dumps(child(folder, args.child)))
        return 0
    generate.generate(args.size, quiet=True)
    write_project(args.size)
    bench.warm(generate.size_dir(args.size))
    print(f"tierwise code: {bench.code_state()}")
    results = {}
    for scheme in SCHEMES:
        res = bench.spawn(scheme, args.size, script=Path(__file__))
        report = res["report"]
        assert isinstance(report, dict)
        steps = ", ".join(f"{k} {v:.2f}" for k, v in report["steps"].items())
        print(f"{scheme}: {res['wall']:.2f} s wall, {res['cpu']:.2f} s CPU, "
              f"{res['peak_mib']:.0f} MiB peak, {report['customers']:,} customers "
              f"{report['tiers']}; other processes used {res['other_cpu']:.1f} CPU s\n"
              f"  steps (s): {steps}")
        results[scheme] = res
    base = float(str(results["value"]["wall"]))
    ok = True
    for scheme in ("aml", "credit"):
        ratio = float(str(results[scheme]["wall"])) / base
        peak = float(str(results[scheme]["peak_mib"]))
        met = ratio <= TARGET_RATIO and peak < TARGET_PEAK_MIB
        ok = ok and met
        print(f"{scheme} / value: {ratio:.2f} (target <= {TARGET_RATIO}); peak {peak:.0f} MiB "
              f"(target < {TARGET_PEAK_MIB}): {'met' if met else 'NOT met'}")
    bench.RESULTS.mkdir(exist_ok=True)
    (bench.RESULTS / f"risk_credit-{args.size}.json").write_text(
        json.dumps({"size": args.size, "code": bench.code_state(), "runs": results}, indent=2,
                   default=str), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
