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
from tierwise.i18n import _
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

_HEADER_HANS = """\
# 由 `tierwise init` 生成的 tierwise 入门项目：用四种方式给一家零售店的客户分级（价值规则、
# RFM 细分、RFM 八类客户价值、消费行为聚类）。每个字段都有注释；请按你的业务修改，
# 并把数据源指向你自己的文件。
#
# 示例数据是合成的，与本文件一起写入：
#   data/customers.csv   {customers:,} 位客户
#   data/orders.csv      {orders:,} 笔订单和退款，日期从 {first} 到 {last}
#
# 下一步，在本文件夹中运行：
#   tierwise validate                   检查本文件，每个问题都标出所在行
#   tierwise check                      数据质量报告
#   tierwise run value                  按价值规则分级（`--all` 运行全部方案）
#   tierwise explain C000001 -s value   查看一位客户的等级、原因和升级差距
# `clv` 和 `clusters` 两个方案需要拟合模型，须先安装：pip install 'tierwise[ml]'。
"""

_HEADER_HANT = """\
# 由 `tierwise init` 生成的 tierwise 入門專案：用四種方式給一家零售店的客戶分級（價值規則、
# RFM 細分、RFM 八類客戶價值、消費行為聚類）。每個欄位都有註解；請按你的業務修改，
# 並把資料來源指向你自己的檔案。
#
# 範例資料是合成的，與本檔案一起寫入：
#   data/customers.csv   {customers:,} 位客戶
#   data/orders.csv      {orders:,} 筆訂單和退款，日期從 {first} 到 {last}
#
# 下一步，在本資料夾中執行：
#   tierwise validate                   檢查本檔案，每個問題都標出所在行
#   tierwise check                      資料品質報告
#   tierwise run value                  按價值規則分級（`--all` 執行全部方案）
#   tierwise explain C000001 -s value   查看一位客戶的等級、原因和升級差距
# `clv` 和 `clusters` 兩個方案需要擬合模型，須先安裝：pip install 'tierwise[ml]'。
"""

#: The Chinese starters: the retail example translated, comments, labels and texts included.
_FILES = Path(__file__).resolve().parent / "starter_files"


def _template(lang: str) -> tuple[str, str]:
    """The header and the body of the starter in ``lang`` (en, zh-Hans or zh-Hant)."""
    if lang in ("zh-Hans", "zh-Hant"):
        body = (_FILES / f"retail.{lang}.yaml").read_text(encoding="utf-8")
        return (_HEADER_HANS if lang == "zh-Hans" else _HEADER_HANT), body
    example = (examples_dir() / "retail" / PROJECT_FILE).read_text(encoding="utf-8")
    return _HEADER, without_header(example)


def write_starter(folder: Path, *, force: bool = False, customers: int = 300,
                  lang: str = "en") -> Starter:
    """Write ``tierwise.yaml`` and ``data/`` into ``folder``.

    In Chinese (``lang`` zh-Hans or zh-Hant) the file's comments, labels, descriptions and
    strategies are Chinese and its ``language:`` is ``lang``; its schemes are the English ones.

    Raises:
        ConflictError: when ``folder`` already holds a project and ``force`` is not set.

    """
    if (folder / PROJECT_FILE).exists() and not force:
        raise ConflictError(
            _("{path} already exists; pass --force to overwrite it (its data files are rewritten "
              "too)").format(path=folder / PROJECT_FILE)
        )
    from tierwise.demo import write_retail

    folder.mkdir(parents=True, exist_ok=True)
    write_retail(folder / "data", customers=customers)
    written = _counted(folder / PROJECT_FILE, folder / "data")
    template, body = _template(lang)
    header = template.format(customers=written.customers, orders=written.orders,
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
