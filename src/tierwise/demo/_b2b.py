"""Synthetic B2B accounts, invoices and referrals.

Account size is lognormal (a few key accounts buy most of the volume, as ABC analysis expects),
invoice counts are Poisson with a gamma-distributed personal rate, and margin rates are beta
distributed with a low-margin group (price-driven accounts). Some accounts were lost during the
two years and stop being invoiced; accounts won recently start at their cooperation date.
Referrals are rare and more likely from accounts with a good strategic fit.

CRM interactions (a separate random stream, so the other files of a seed are unchanged): about a
third of the accounts have an open deal with a hidden stage (interested, hesitating, not now)
that shapes how often sales contact them, whether they ask for a quote, what they say and the
purchase date they give; the rest only have older contacts. Each region has its sales owners.
"""


from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tierwise.demo._common import CITIES, Strs, cents, dates, day, ids, money, pick, table

HISTORY_DAYS = 730
INDUSTRIES = {"manufacturing": "机械", "electronics": "电子", "chemicals": "化工", "pharma": "医药",
              "food": "食品", "logistics": "物流", "retail": "商贸", "construction": "建设"}
BRANDS = ["华信", "恒通", "鼎盛", "永泰", "金桥", "中联", "宏达", "瑞丰", "天成", "新源", "博远",
          "众合", "盛世", "海川", "利民", "东方", "长城", "凯达", "星辰", "佳和", "德润", "安泰",
          "万嘉", "信诚", "汇丰源", "九州", "嘉禾", "远航", "明德", "正泰"]
REGIONS = ["华东", "华南", "华北", "华中", "西南", "西北", "东北"]
REGION_WEIGHTS = [0.35, 0.2, 0.18, 0.1, 0.09, 0.04, 0.04]
FIT_WEIGHTS = [0.15, 0.25, 0.3, 0.2, 0.1]  # strategic fit 1..5
ANNUAL_MEDIAN, ANNUAL_SIGMA = 500_000.0, 1.5  # CNY revenue a year, lognormal
LOST_SHARE = 0.12
LOW_MARGIN_SHARE = 0.12


def company_names(rng: np.random.Generator, count: int) -> tuple[Strs, Strs]:
    """Distinct company names like ``上海华信机械有限公司`` and their industries."""
    inds = list(INDUSTRIES)
    combos = len(CITIES) * len(BRANDS) * len(inds)
    pick_ = rng.choice(combos, size=count, replace=count > combos)
    city = np.asarray(CITIES)[pick_ % len(CITIES)]
    brand = np.asarray(BRANDS)[(pick_ // len(CITIES)) % len(BRANDS)]
    industry = np.asarray(inds)[pick_ // (len(CITIES) * len(BRANDS))]
    word = np.asarray([INDUSTRIES[i] for i in industry])
    form = np.where(rng.random(count) < 0.2, "股份有限公司", "有限公司")
    names = np.char.add(np.char.add(np.char.add(city, brand), word), form)
    return names, industry


#: Sales owners per region (the deal owner of an interaction is the account's region's owner).
OWNERS = {"华东": ["east.1", "east.2"], "华南": ["south.1"], "华北": ["north.1"],
          "华中": ["central.1"], "西南": ["west.1"], "西北": ["west.1"], "东北": ["north.1"]}
#: The hidden deal stages, their shares among open deals, and per stage: contacts in 120 days,
#: chance a contact is a quote, chance a contact records the stage as said, and the days ahead
#: of the purchase date given (None: no date).
STAGES = {"interested": (0.3, 4.0, 0.25, 0.7, (10, 60)),
          "hesitating": (0.4, 2.5, 0.03, 0.5, None),
          "not_now": (0.3, 1.5, 0.0, 0.8, (60, 300))}
OPEN_DEAL_SHARE = 0.35
KINDS = ["call", "email", "visit"]


def interactions(region: Strs, *, as_of: date, seed: int) -> Any:
    """CRM contacts of the accounts (``region``: each account's), their last 365 days."""
    rng = np.random.default_rng([seed, 7])
    count, end = region.size, day(as_of)
    stage_names = list(STAGES)
    has_deal = rng.random(count) < OPEN_DEAL_SHARE
    stage = rng.choice(len(STAGES), size=count, p=[v[0] for v in STAGES.values()])
    per_stage = np.array([v[1] for v in STAGES.values()])
    # Open deals: contacts in the last 120 days; everyone: a few older contacts.
    recent = np.where(has_deal, np.maximum(rng.poisson(per_stage[stage]), 1), 0)
    older = rng.poisson(0.8, count)
    who = np.concatenate([np.repeat(np.arange(count), recent), np.repeat(np.arange(count), older)])
    ago = np.concatenate([rng.integers(0, 120, recent.sum()),
                          rng.integers(121, 365, older.sum())])
    is_recent = np.arange(who.size) < recent.sum()
    s = stage[who]
    quote_p = np.array([v[2] for v in STAGES.values()])[s]
    kind = np.where(is_recent & (rng.random(who.size) < quote_p), "quote",
                    np.asarray(KINDS)[rng.choice(3, who.size, p=[0.5, 0.3, 0.2])])
    said_p = np.array([v[3] for v in STAGES.values()])[s]
    said = is_recent & (kind != "email") & (rng.random(who.size) < said_p)
    # A hesitating prospect sometimes sounds interested, an interested one hesitant.
    shown = np.where(rng.random(who.size) < 0.15, rng.choice(len(STAGES), who.size), s)
    intent = np.asarray(stage_names)[shown]
    ahead = np.zeros(who.size, dtype=np.int64)
    dated = np.zeros(who.size, dtype=bool)
    for i, v in enumerate(STAGES.values()):
        if v[4] is not None:
            mine = said & (s == i)
            ahead[mine] = rng.integers(v[4][0], v[4][1], mine.sum())
            dated |= mine
    when = end - ago
    owners = np.array([OWNERS[r][i % len(OWNERS[r])] for i, r in enumerate(region.tolist())])
    order = np.lexsort((np.arange(who.size), who, when))
    return table({
        "interaction_id": ids("I", who.size, 6),
        "customer_id": ids("A", count, 4)[who[order]],
        "contact_date": dates(when[order]),
        "kind": kind[order],
        "stated_intent": pa.array(intent[order], pa.string(), mask=~said[order]),
        "expected_purchase": pa.array((when + ahead)[order].astype(np.int32), pa.date32(),
                                      mask=~dated[order]),
        "owner": owners[who[order]],
    })


def build(count: int, *, as_of: date, seed: int) -> tuple[Any, Any, Any]:
    """The accounts, invoices and referrals tables (Arrow)."""
    if not 1 <= count <= 9999:
        raise ValueError(f"accounts must be between 1 and 9999 (ids are A0001..A9999), got {count}")
    rng = np.random.default_rng(seed)
    end = day(as_of)
    start = end - HISTORY_DAYS + 1
    names, industry = company_names(rng, count)
    # Years of cooperation: many young relationships, a long tail of partners of 10-20 years.
    since = end - np.clip(rng.exponential(5.0 * 365, count), 30, 20 * 365).astype(np.int64)
    size = ANNUAL_MEDIAN * rng.lognormal(0.0, ANNUAL_SIGMA, count)
    # Bigger accounts are somewhat more often strategic: shift the fit by the size rank.
    rank = np.argsort(np.argsort(size)) / max(count - 1, 1)
    fit = np.clip(rng.choice(5, count, p=FIT_WEIGHTS) + 1 + (rng.random(count) < rank * 0.5), 1, 5)
    accounts = table({
        "customer_id": ids("A", count, 4),
        "company": names,
        "industry": industry,
        "since_date": dates(since),
        "strategic_fit": fit.astype(np.int64),
        "region": pick(rng, REGIONS, count, REGION_WEIGHTS),
    })
    account_id = accounts["customer_id"]

    first = np.maximum(since, start)
    lost = rng.random(count) < LOST_SHARE
    last = np.where(lost, end - rng.integers(30, HISTORY_DAYS, count), end)
    span = np.maximum(last - first + 1, 0)
    per_year = np.clip(rng.gamma(2.0, 6.0, count), 1.0, 120.0)
    n = rng.poisson(per_year * span / 365.0)
    who = np.repeat(np.arange(count), n)
    when = first[who] + np.floor(rng.random(who.size) * span[who]).astype(np.int64)
    revenue = size[who] / per_year[who] * rng.lognormal(-0.08, 0.4, who.size)
    low = rng.random(count) < LOW_MARGIN_SHARE
    rate = np.where(low, rng.beta(2.0, 60.0, count), rng.beta(6.0, 20.0, count))
    invoice_rate = np.clip(rate[who] + rng.normal(0.0, 0.02, who.size), 0.0, 0.6)
    rev_cents = np.maximum(cents(revenue), 10_000)
    margin_cents = np.round(rev_cents * invoice_rate).astype(np.int64)
    order = np.lexsort((np.arange(who.size), who, when))
    invoices = table({
        "invoice_id": ids("INV", who.size, 6),
        "customer_id": pc.take(account_id, pa.array(who[order])),
        "invoice_date": dates(when[order]),
        "revenue": money(rev_cents[order]),
        "margin": money(margin_cents[order]),
    })

    # About 0.4 referrals in two years for an average account; strategic, bigger ones refer more.
    active = np.maximum(end - np.maximum(since, start) + 1, 0) / HISTORY_DAYS
    refs = rng.poisson(0.1 * fit * active * (1 + rank))
    rwho = np.repeat(np.arange(count), refs)
    rfirst = np.maximum(since, start)[rwho]
    rwhen = rfirst + np.floor(rng.random(rwho.size) * (end - rfirst + 1)).astype(np.int64)
    referred, _ = company_names(rng, rwho.size)
    rorder = np.lexsort((np.arange(rwho.size), rwho, rwhen))
    referrals = table({
        "customer_id": pc.take(account_id, pa.array(rwho[rorder])),
        "referral_date": dates(rwhen[rorder]),
        "referred_company": referred[rorder],
    })
    return accounts, invoices, referrals
