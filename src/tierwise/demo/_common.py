"""Helpers shared by the demo generators: dates as day numbers, money as cents, names, CSV output.

Dates are handled as int64 days since 1970-01-01 (Arrow's ``date32``) and money as int64 cents,
so every value is exact, formats the same way on every platform, and the files are byte-identical
for a given seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Strs = npt.NDArray[np.str_]

EPOCH = date(1970, 1, 1)

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
                "彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢")
# Surname frequencies fall off steeply in China (王, 李, 张 alone are about a fifth of people).
SURNAME_WEIGHTS = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.8
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀英", "霞", "平", "刚", "桂英", "华", "建华", "建国", "欣怡", "子涵", "梓轩",
         "浩然", "宇轩", "雨桐", "思远", "嘉怡", "晨", "婷", "鑫", "浩", "宇", "博", "文", "俊",
         "凯", "佳", "琳", "悦", "志强", "海燕", "晓东", "丽娟", "国平"]
LATIN_FIRST = ["James", "Emma", "Oliver", "Sophia", "Lucas", "Mia", "David", "Anna", "Michael",
               "Laura", "Daniel", "Julia", "Thomas", "Sarah", "Kevin", "Linda", "Peter", "Grace",
               "Alex", "Nina", "Mark", "Chloe", "Leo", "Hannah"]
LATIN_LAST = ["Smith", "Müller", "Martin", "Brown", "Rossi", "Garcia", "Wang", "Chen", "Lee",
              "Schmidt", "Dubois", "Tanaka", "Kim", "Novak", "Silva", "Wilson", "Zhang", "Ito"]
CITIES = ["上海", "北京", "深圳", "广州", "杭州", "成都", "南京", "武汉", "西安", "苏州", "重庆",
          "天津", "长沙", "青岛"]
# Roughly by size of the consumer market: tier-1 cities first.
CITY_WEIGHTS = [16, 14, 11, 10, 8, 7, 6, 6, 5, 5, 4, 4, 2, 2]


def day(value: date) -> int:
    """Days since 1970-01-01 (Arrow ``date32``)."""
    return (value - EPOCH).days


def month_ends(as_of: date, months: int) -> Ints:
    """The last ``months`` month-end days up to ``as_of`` (inclusive when it is a month end)."""
    first_next = np.datetime64(as_of, "D") + 1
    last_month = first_next.astype("datetime64[M]") - 1  # the month whose end is <= as_of
    starts = np.arange(last_month - (months - 1), last_month + 1, dtype="datetime64[M]")
    ends = (starts + 1).astype("datetime64[D]") - 1
    return ends.astype(np.int64)


def pick(rng: np.random.Generator, options: Sequence[str], size: int,
         weights: Sequence[float] | npt.NDArray[Any] | None = None) -> Strs:
    """``size`` draws from ``options`` with the given relative weights."""
    p = None
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        p = w / w.sum()
    return np.asarray(options)[rng.choice(len(options), size=size, p=p)]


def person_names(rng: np.random.Generator, size: int, *, latin_share: float) -> Strs:
    """Chinese names (surname + one or two characters) mixed with Latin ``First Last`` names."""
    chinese = np.char.add(pick(rng, SURNAMES, size, SURNAME_WEIGHTS), pick(rng, GIVEN, size))
    latin = np.char.add(np.char.add(pick(rng, LATIN_FIRST, size), " "),
                        pick(rng, LATIN_LAST, size))
    return np.where(rng.random(size) < latin_share, latin, chinese)


def ids(prefix: str, count: int, width: int) -> Strs:
    """``prefix`` + zero-padded 1-based numbers, e.g. ``C000001``."""
    return np.char.add(prefix, np.char.zfill(np.arange(1, count + 1).astype(str), width))


def cents(values: Floats) -> Ints:
    """Money as whole cents (round half to even, as numpy rounds)."""
    return np.round(values * 100).astype(np.int64)


def money(amounts: Ints) -> Any:
    """Cents as decimal text with two decimals and a dot (``-12.50``), as an Arrow array."""
    magnitude = np.abs(amounts)
    whole = pc.cast(pa.array(magnitude // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(magnitude % 100), pa.string()), width=2, padding="0")
    sign = pa.array(np.where(amounts < 0, "-", ""))
    return pc.binary_join_element_wise(sign, pc.binary_join_element_wise(whole, frac, "."), "")


def dates(days: Ints) -> Any:
    """Day numbers as an Arrow ``date32`` array (written as YYYY-MM-DD)."""
    return pa.array(days.astype(np.int32), pa.date32())


def table(columns: Mapping[str, Any]) -> Any:
    """An Arrow table from Arrow arrays or numpy arrays (text columns become strings)."""
    arrays = {name: col if isinstance(col, pa.Array | pa.ChunkedArray) else pa.array(col)
              for name, col in columns.items()}
    return pa.table(arrays)


def write_csv(tbl: Any, path: Path) -> None:
    """Write a table as UTF-8 CSV with a header and no quoting.

    Arrow refuses to write a value holding a comma, quote or line break without quoting, so an
    unquoted file is also proof that no generated value needed quotes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(tbl, path, pacsv.WriteOptions(quoting_style="none", quoting_header="none"))


def write_csvs(folder: Path, tables: Mapping[str, Any]) -> None:
    """Write each table of ``tables`` (file name to table) into ``folder`` with :func:`write_csv`."""
    for name, tbl in tables.items():
        write_csv(tbl, folder / name)
