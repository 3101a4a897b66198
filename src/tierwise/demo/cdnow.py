"""The CDNOW sample as a tierwise project's data: 2,357 customers' CD purchases, 1997-1998.

CDNOW is the data set on which BG/NBD, Pareto/NBD and Gamma-Gamma were published (Fader, Hardie
and Lee 2005; Fader and Hardie 2013): the customers who first bought in the first quarter of
1997, followed to the end of June 1998 (78 weeks). tierwise does not ship it; the ``lifetimes``
package (MIT) does, and this module only reads its data file, without importing the package
(whose code no longer runs on pandas 3)::

    pip install lifetimes
    python -m tierwise.demo.cdnow examples/cdnow/data

The file has one row per customer, day and purchase: customer id, sample id, date (YYYYMMDD),
number of CDs, dollar amount. Rows are written as they are: several purchases on one day stay
several orders, and the indicators count distinct days where the models need purchase occasions.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa

from tierwise.demo._common import write_csv
from tierwise.errors import DataError
from tierwise.i18n import _

SAMPLE = "CDNOW_sample.txt"


def cdnow_file(name: str = SAMPLE) -> Path:
    """Where the installed ``lifetimes`` package keeps a CDNOW data file."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(_("the CDNOW data comes with the lifetimes package; pip install "
                          "lifetimes (tierwise reads its data file only)"))
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    if not path.is_file():
        raise DataError(_("{path} is missing from the installed lifetimes package; reinstall it").format(
            path=path))
    return path


def write_cdnow(folder: Path, *, source: Path | None = None) -> tuple[int, int]:
    """Write ``customers.csv`` and ``orders.csv`` under ``folder``; (customers, orders)."""
    path = source or cdnow_file()
    ids: list[str] = []
    days: list[date] = []
    quantity: list[int] = []
    amount: list[float] = []
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5:
            raise DataError(_("{path}:{number}: expected 5 fields (id, sample id, date, CDs, "
                              "dollars), got {n}: {line!r}").format(path=path, number=number,
                                n=len(parts), line=line.strip()))
        stamp = parts[2]
        ids.append(f"C{int(parts[1]):04d}")
        days.append(date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:])))
        quantity.append(int(parts[3]))
        amount.append(float(parts[4]))
    customers = sorted(set(ids))
    write_csv(pa.table({"customer_id": pa.array(customers)}), folder / "customers.csv")
    write_csv(pa.table({
        "order_id": pa.array([f"O{i:05d}" for i in range(1, len(ids) + 1)]),
        "customer_id": pa.array(ids), "order_date": pa.array(days, pa.date32()),
        "quantity": pa.array(quantity, pa.int64()), "amount": pa.array(amount, pa.float64()),
    }), folder / "orders.csv")
    return len(customers), len(ids)


if __name__ == "__main__":  # pragma: no cover - a convenience entry point
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/cdnow/data")
    n_customers, n_orders = write_cdnow(target)
    print(_("wrote {n_customers:,} customers and {n_orders:,} orders to {target}").format(
        n_customers=n_customers, n_orders=n_orders, target=target))
