"""Three systems' customer tables with planted duplicates, for record linkage.

A retailer's online shop, its app and its stores each keep their own members. The same person
appears in one, two or all three, written differently in each, as real systems write people:

* the shop: Simplified characters, phones as ``13800138000``, ``+86 138 0013 8000`` or
  ``138-0013-8000``, most with an email; a few members registered twice;
* the app: the name in pinyin for some (``Zhang Wei``, ``WEI Zhang``, ``zhangwei``), phones as
  ``0086 ...`` or in full-width digits, emails in capitals, a few new phone numbers;
* the stores: Traditional characters for half the members (Hong Kong and Taiwan shoppers),
  phones with spaces, an ID card number for most, a few typos in a name or a phone.

Different people share names (张伟 is common), so a name alone never decides. Every record's
person is kept in ``truth``, against which linkage is scored. Seeded ``random.Random``: the
same arguments give the same tables.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from tierwise.demo._common import CITIES, GIVEN, SURNAMES

SYSTEMS = ("shop", "app", "store")
PRESENCE = {"shop": 0.8, "app": 0.6, "store": 0.5}  # share of people each system knows
STREETS = ["建国路", "人民路", "解放路", "中山路", "长江路", "和平路", "南京路", "新华路"]
DISTRICTS = ["朝阳区", "海淀区", "浦东新区", "徐汇区", "天河区", "南山区", "西湖区", "武侯区"]
MAIL_HOSTS = ["163.com", "qq.com", "126.com", "gmail.com", "outlook.com", "sina.com"]
# Characters written alike or read alike, for typos a clerk makes.
SLIPS = {"伟": "玮", "芳": "方", "娜": "那", "敏": "民", "静": "净", "丽": "莉", "强": "墙",
         "磊": "垒", "军": "君", "明": "铭", "华": "桦", "杰": "洁", "婷": "庭", "浩": "皓"}
# The ISO 7064 MOD 11-2 check of a mainland ID card number (GB 11643-1999).
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Person:
    """One real person, before any system writes them down."""

    key: str
    name: str
    mobile: str
    email: str
    id_card: str
    address: str
    birth: date


@dataclass(frozen=True)
class Systems:
    """The systems' member tables and the planted truth (record -> person)."""

    tables: dict[str, pa.Table]
    truth: pa.Table  # system, source_id, person


def _id_card(rng: random.Random, birth: date) -> str:
    body = f"{rng.choice(['110105', '310104', '440305', '330106', '510107'])}" \
           f"{birth:%Y%m%d}{rng.randrange(1000):03d}"
    check = _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return body + check


def _person(rng: random.Random, number: int, taken: set[str]) -> Person:
    from pypinyin import lazy_pinyin

    name = rng.choice(SURNAMES[:30]) + rng.choice(GIVEN)
    while True:
        mobile = rng.choice(["13", "15", "17", "18", "19"]) + f"{rng.randrange(10**9):09d}"
        if mobile not in taken:
            taken.add(mobile)
            break
    handle = "".join(lazy_pinyin(name)) + (str(rng.randrange(100)) if rng.random() < 0.7 else "")
    birth = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 45))
    address = (f"{rng.choice(CITIES)}市{rng.choice(DISTRICTS)}{rng.choice(STREETS)}"
               f"{rng.randrange(1, 400)}号")
    return Person(f"P{number:06d}", name, mobile, f"{handle}.{number}@{rng.choice(MAIL_HOSTS)}",
                  _id_card(rng, birth), address, birth)


def _pinyin_name(rng: random.Random, name: str) -> str:
    from pypinyin import lazy_pinyin

    surname, *given = lazy_pinyin(name)
    given_name = "".join(given)
    form = rng.randrange(3)
    if form == 0:
        return f"{surname.title()} {given_name.title()}"
    if form == 1:
        return f"{given_name.title()} {surname.upper()}"
    return surname + given_name


def _slip(rng: random.Random, text: str) -> str:
    """One character written as a look-alike or sound-alike one, where there is one."""
    spots = [i for i, c in enumerate(text) if c in SLIPS]
    if not spots:
        return text
    i = rng.choice(spots)
    return text[:i] + SLIPS[text[i]] + text[i + 1:]


def _swap_digits(rng: random.Random, digits: str) -> str:
    i = rng.randrange(3, len(digits) - 1)
    return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in text)


def _shop(rng: random.Random, p: Person) -> dict[str, Any]:
    m = p.mobile
    phone = rng.choice([m, f"+86 {m[:3]} {m[3:7]} {m[7:]}", f"{m[:3]}-{m[3:7]}-{m[7:]}"])
    return {"name": _slip(rng, p.name) if rng.random() < 0.03 else p.name, "mobile": phone,
            "email": p.email if rng.random() < 0.85 else None, "id_card": None,
            "address": p.address if rng.random() < 0.7 else None, "birth_date": None}


def _app(rng: random.Random, p: Person, taken: set[str]) -> dict[str, Any]:
    name = _pinyin_name(rng, p.name) if rng.random() < 0.4 else p.name
    mobile = p.mobile
    if rng.random() < 0.05:  # a new number since: linked by name and email
        mobile = rng.choice(["13", "18"]) + f"{rng.randrange(10**9):09d}"
        taken.add(mobile)
    phone = _full_width(mobile) if rng.random() < 0.2 else f"0086 {mobile}"
    email = p.email.upper() if rng.random() < 0.3 else p.email
    return {"name": name, "mobile": phone, "email": email if rng.random() < 0.9 else None,
            "id_card": None, "address": None,
            "birth_date": p.birth.isoformat() if rng.random() < 0.6 else None}


def _store(rng: random.Random, p: Person, traditional: Any) -> dict[str, Any]:
    name = traditional(p.name) if rng.random() < 0.5 else p.name
    if rng.random() < 0.03:
        name = _slip(rng, name)
    mobile = _swap_digits(rng, p.mobile) if rng.random() < 0.03 else p.mobile
    id_card = p.id_card if rng.random() < 0.75 else None
    if id_card and id_card.endswith("X") and rng.random() < 0.5:
        id_card = id_card[:-1] + "x"
    return {"name": name, "mobile": f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", "email": None,
            "id_card": id_card, "address": traditional(p.address) if rng.random() < 0.5 else None,
            "birth_date": p.birth.isoformat() if rng.random() < 0.8 else None}


def build(people: int, *, seed: int = 7, twice: float = 0.03) -> Systems:
    """``people`` persons spread over the three systems, ``twice`` of shop members twice."""
    import opencc

    traditional = opencc.OpenCC("s2t").convert
    rng = random.Random(seed)
    taken: set[str] = set()
    persons = [_person(rng, n + 1, taken) for n in range(people)]
    rows: dict[str, list[dict[str, Any]]] = {s: [] for s in SYSTEMS}
    truth: list[tuple[str, str, str]] = []
    prefix = {"shop": "S", "app": "A", "store": "M"}
    for p in persons:
        present = [s for s in SYSTEMS if rng.random() < PRESENCE[s]] or [rng.choice(SYSTEMS)]
        for system in present:
            copies = 2 if system == "shop" and rng.random() < twice else 1
            for _ in range(copies):
                record = (_shop(rng, p) if system == "shop" else _app(rng, p, taken)
                          if system == "app" else _store(rng, p, traditional))
                number = len(rows[system]) + 1
                record["member_id"] = f"{prefix[system]}{number:07d}"
                rows[system].append(record)
                truth.append((system, record["member_id"], p.key))
    columns = ["member_id", "name", "mobile", "email", "id_card", "address", "birth_date"]
    tables = {}
    for system, found in rows.items():
        rng.shuffle(found)  # ids in registration order, rows in no particular order
        tables[system] = pa.table({c: pa.array([r[c] for r in found], pa.string())
                                   for c in columns})
    return Systems(tables, pa.table({"system": [t[0] for t in truth],
                                     "source_id": [t[1] for t in truth],
                                     "person": [t[2] for t in truth]}))


#: The event file each system keeps, and its id column.
ORDER_FILES = {"shop": "shop_orders.csv", "app": "app_orders.csv", "store": "store_sales.csv"}
ORDER_PREFIX = {"shop": "SO", "app": "AO", "store": "MO"}
MEMBER_FILES = {"shop": "shop_members.csv", "app": "app_users.csv", "store": "store_members.csv"}


def orders(systems: Systems, *, as_of: date, seed: int = 7) -> dict[str, pa.Table]:
    """A year of each system's orders, a person's buying spread over the systems they use.

    A person buys at a rate and an order size of their own (so a person's value shows only
    when their systems' orders are added up); each order goes to one of their records.
    Per system: order_id, member_id, order_date, amount (CNY), sorted by date.
    """
    rng = random.Random(seed)
    records: dict[str, list[tuple[str, str]]] = {}
    for system, source_id, person in zip(*(systems.truth[c].to_pylist() for c in
                                           ("system", "source_id", "person")), strict=True):
        records.setdefault(person, []).append((system, source_id))
    rows: dict[str, list[tuple[str, date, float]]] = {s: [] for s in SYSTEMS}
    for person in sorted(records):
        count = int(rng.expovariate(1 / 6))  # orders in the year: many few, some many
        size = rng.lognormvariate(5.5, 0.6)  # about 250 CNY a typical order
        for _ in range(count):
            system, source_id = rng.choice(records[person])
            day = as_of - timedelta(days=rng.randrange(365))
            rows[system].append((source_id, day, round(size * rng.uniform(0.5, 1.5), 2)))
    out = {}
    for system, found in rows.items():
        found.sort(key=lambda r: (r[1], r[0]))
        out[system] = pa.table({
            "order_id": [f"{ORDER_PREFIX[system]}{i + 1:07d}" for i in range(len(found))],
            "member_id": [r[0] for r in found], "order_date": [r[1] for r in found],
            "amount": pa.array([r[2] for r in found], pa.float64())})
    return out


def write_linked(folder: Path, *, people: int = 2000, as_of: date, seed: int = 7) -> Systems:
    """Write the three systems' members and orders as CSV files (:data:`MEMBER_FILES`,
    :data:`ORDER_FILES`), and return the tables with their planted truth."""
    from tierwise.demo._common import write_csvs

    found = build(people, seed=seed)
    sold = orders(found, as_of=as_of, seed=seed)
    write_csvs(folder, {**{MEMBER_FILES[s]: t for s, t in found.tables.items()},
                        **{ORDER_FILES[s]: t for s, t in sold.items()}})
    return found

