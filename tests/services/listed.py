"""The months project with customer attributes and more customers, for the customer list.

The five customers of :mod:`tests.services.conftest` keep their orders, and so their tiers: on
2026-06-30 C1 is gold (since 2026-05-31), C4 moved down from silver to bronze, the others stay
bronze. C6..C40 never order (bronze). Names, phones in several formats and cities are set so
that searches and sorting have something to find; C2's name would be a spreadsheet formula.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.conftest import write
from tests.services.conftest import PROJECT, write_months
from tierwise.services import runs
from tierwise.services.grading import Project

CUSTOMERS_SECTION = """  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
"""
WITH_ATTRIBUTES = """  customers:
    label: {en: Customers, zh: 客户}
    path: customers.csv
    columns:
      customer_id: {type: string}
      name: {type: string, label: {en: Name, zh: 姓名, zh-Hant: 姓名}}
      phone: {type: string, required: false, label: {en: Mobile, zh: 手机号, zh-Hant: 手機號}}
      city: {type: string, label: {en: City, zh: 城市, zh-Hant: 城市}}
"""
NAMES = {"C1": "王芳", "C2": "=HYPERLINK(\"http://evil.example\",\"x\")", "C3": "Li Lei",
         "C4": "张伟", "C5": "Zhang Wei"}
PHONES = {"C1": "+86 138-0013-8000", "C2": "13900139000", "C3": "0086 137 0000 1234",
          "C4": "8615800158000", "C5": ""}
COUNT = 40


def write_listed(folder: Path, store_url: str | None = None) -> Path:
    """Write the project (its store at ``store_url`` when given) and its data."""
    text = PROJECT.replace(CUSTOMERS_SECTION, WITH_ATTRIBUTES).replace(
        "label: Gold", "label: {en: Gold, zh: 金卡, zh-Hant: 金卡}")
    if store_url:
        text = text.replace("as_of: 2026-06-30\n", f"as_of: 2026-06-30\nstore: {store_url}\n")
    write_months(folder, text)
    rows = ["customer_id,name,phone,city"]
    for i in range(1, COUNT + 1):
        cid = f"C{i}"
        name = NAMES.get(cid, f"Customer {i:02d}")
        quoted = '"' + name.replace('"', '""') + '"'
        rows.append(f"{cid},{quoted},{PHONES.get(cid, f'1300000{i:04d}')},"
                    f"{'上海' if i % 2 else '北京'}")
    write(folder, "customers.csv", "\n".join(rows) + "\n")
    return folder


def record_two_runs(folder: Path, schemes: tuple[str, ...] = ("tier", "steady")) -> Project:
    """Record the runs of 2026-05-31 and 2026-06-30."""
    project = Project.open(folder)
    runs.backfill(project, list(schemes), [date(2026, 5, 31), date(2026, 6, 30)])
    return project
