"""Time the methods that learn (clv, cluster, model) on the benchmark data.

    python benchmarks/methods.py --size 10M        # 1M customers; 100M: 10M customers

docs/architecture.md sets no target for these methods; this script records what a run of each costs, so a
user can tell how far each scales on a 2-core machine. It writes
``benchmarks/data/<size>/methods/tierwise.yaml``: the benchmark project (run.py's) plus the
indicators these methods read and three schemes,

* ``clv``: BG/NBD and Gamma-Gamma on purchase days, first and last purchase and sales, top 5%
  by 12-month CLV;
* ``clusters``: k-means, k = 4, on log-scaled orders, spend, basket and recency;
* ``model``: gradient boosting learning who reaches the top 20% of next year's spend, trained on
  the features of a year earlier, with 3-fold calibration;

then runs each scheme in a fresh process (``run_schemes(project, [scheme])``: load, check,
indicators, fit, grade, write) once the cores are idle, and prints wall time, CPU time, peak
RSS, the run's own steps and what the method fitted.
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

SCHEMES = ("clv", "clusters", "model")

EXTRA = """
  purchase_days:
    source: transactions
    agg: count_distinct
    column: order_date
    where: "kind == 'sale'"
  days_since_first_order:
    source: transactions
    agg: days_since_first
    where: "kind == 'sale'"
  sales_total:
    source: transactions
    agg: sum
    column: amount
    where: "kind == 'sale'"
  avg_order_value:
    expr: div(spend_12m, orders_12m, 0)
"""

SCHEME_YAML = """
  clv:
    method: clv
    model: bgnbd
    purchases: purchase_days
    first: days_since_first_order
    last: days_since_last_order
    spend: sales_total
    horizon: 12m
    value: spend_12m
    tiers:
      - {key: top, top_share: 0.05}
      - {key: rest}
  clusters:
    method: cluster
    value: spend_12m
    indicators: [orders_12m, spend_12m, avg_order_value, days_since_last_order]
    algorithm: kmeans
    k: 4
    log: true
    scale: standard
    seed: 0
  model:
    method: model
    features: [orders_12m, orders_6m, spend_12m, avg_order_value, days_since_last_order]
    target: {outcome: spend_12m, top_share: 0.2}
    folds: 3
    value: spend_12m
    tiers:
      - {key: likely, top_share: 0.2}
      - {key: maybe, top_share: 0.5}
      - {key: unlikely}
"""


def write_project(size: str) -> Path:
    """The benchmark project with the learning methods' indicators and schemes."""
    return bench.write_variant(size, "methods", EXTRA, SCHEME_YAML)


def child(folder: Path, scheme: str) -> dict[str, object]:
    """One scheme through the grading service; its steps and the lines describing its model."""
    from tierwise import methods
    from tierwise.services import grading

    project = grading.Project.open(folder)
    start = time.perf_counter()
    (done,) = grading.run_schemes(project, [scheme])
    service = time.perf_counter() - start
    info = json.loads((done.folder / "run.json").read_text(encoding="utf-8"))
    model = methods.describe_model(project.scheme(scheme), info.get("model"))
    return {"service": service, "steps": dict(done.timings), "customers": done.customers,
            "model": [f"{k}: {v}" for k, v in model]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(generate.SIZES), required=True)
    parser.add_argument("--scheme", action="append", choices=SCHEMES)
    parser.add_argument("--child", choices=SCHEMES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        folder = generate.size_dir(args.size) / "methods"
        print(json.dumps(child(folder, args.child)))
        return 0
    generate.generate(args.size, quiet=True)
    write_project(args.size)
    bench.warm(generate.size_dir(args.size))
    print(f"tierwise code: {bench.code_state()}")
    results = {}
    for scheme in args.scheme or SCHEMES:
        res = bench.spawn(scheme, args.size, script=Path(__file__))
        report = res["report"]
        assert isinstance(report, dict)
        steps = ", ".join(f"{k} {v:.2f}" for k, v in report["steps"].items())
        print(f"\n{scheme}: {res['wall']:.2f} s wall, {res['cpu']:.2f} s CPU, "
              f"{res['peak_mib']:.0f} MiB peak, {report['customers']:,} customers; other "
              f"processes used {res['other_cpu']:.1f} CPU s\n  steps (s): {steps}")
        for line in report["model"]:
            print(f"  {line}")
        results[scheme] = res
    bench.RESULTS.mkdir(exist_ok=True)
    (bench.RESULTS / f"methods-{args.size}.json").write_text(
        json.dumps({"size": args.size, "code": bench.code_state(), "runs": results}, indent=2,
                   default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
