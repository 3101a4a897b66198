"""``tierwise init``: a commented starter project with sample data.

The starter is the retail example (rules, RFM and the Chinese RFM value map, every field
commented) with a small synthetic data set, so `tierwise run value` works at once and a new user
edits a working project rather than a blank page. Its header states what was written (counted
from the files, not assumed) and the commands to run next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tierwise.errors import ConflictError
from tierwise.services.demo import examples_dir
from tierwise.spec import PROJECT_FILE


@dataclass(frozen=True)
class Starter:
    """What ``tierwise init`` wrote: the project file and the sample data it counted."""

    path: Path
    customers: int
    orders: int
    first: date
    last: date


_HEADER = """\
# A starter tierwise project written by `tierwise init`: a shop's customers graded four ways
# (value rules, RFM segments, the Chinese RFM value map and behaviour clusters). Every field is
# commented; edit them to fit your business, and point the sources at your own files.
#
# The sample data is synthetic, written with this file:
#   data/customers.csv   {customers:,} customers
#   data/orders.csv      {orders:,} orders and refunds, dated {first} to {last}
#
# Next, from this folder:
#   tierwise validate                   check this file; every problem with its line
#   tierwise check                      the data-quality report
#   tierwise run value                  grade with the value rules (`--all` runs every scheme)
#   tierwise explain C000001 -s value   one customer's tier, reasons and gap to the next tier
# The `clv` and `clusters` schemes fit models: they need pip install 'tierwise[ml]'.
"""


def write_starter(folder: Path, *, force: bool = False, customers: int = 300) -> Starter:
    """Write ``tierwise.yaml`` and ``data/`` into ``folder``.

    Raises:
        ConflictError: when ``folder`` already holds a project and ``force`` is not set.

    """
    if (folder / PROJECT_FILE).exists() and not force:
        raise ConflictError(
            f"{folder / PROJECT_FILE} already exists; pass --force to overwrite "
            "it (its data files are rewritten too)"
        )
    from tierwise.demo import write_retail

    folder.mkdir(parents=True, exist_ok=True)
    write_retail(folder / "data", customers=customers)
    written = _counted(folder / PROJECT_FILE, folder / "data")
    body = without_header((examples_dir() / "retail" / PROJECT_FILE).read_text(encoding="utf-8"))
    header = _HEADER.format(customers=written.customers, orders=written.orders,
                            first=written.first, last=written.last)
    written.path.write_text(header + "\n" + body, encoding="utf-8")
    return written


def without_header(text: str) -> str:
    """``text`` without its leading comment block (the lines up to the first blank line)."""
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and lines[start].startswith("#"):
        start += 1
    while start < len(lines) and not lines[start].strip():
        start += 1
    return "".join(lines[start:])


def _counted(path: Path, data: Path) -> Starter:
    """The sample data as written: customers, order rows and their first and last date."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    customers = csv.read_csv(data / "customers.csv")
    orders = csv.read_csv(data / "orders.csv", convert_options=csv.ConvertOptions(
        column_types={"order_date": pa.date32()}))
    dates = pc.min_max(orders["order_date"]).as_py()
    return Starter(path, customers.num_rows, orders.num_rows, dates["min"], dates["max"])
