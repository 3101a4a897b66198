"""The editor's form for every method's own settings, and each tier's texts in three languages.

The rules and scorecard tier lists are the editor's (:mod:`tierwise.web.editor`); this module adds
what the other methods decide by (RFM scores and segment map, ABC shares, CLV horizon and cut-offs,
cluster k, model settings, scorecard normalisation) and, for every method, each tier's label in
Traditional Chinese, description and strategy in en/zh/zh-Hant. Fields are named by their path in
the scheme (``scores``, ``target.top_share``, ``tiers[2].status``, ``tiers[0].strategy.zh``), so a
problem reported at a path shows next to its field. Values are validated by the services.
"""

from __future__ import annotations

from typing import Any

from tierwise.i18n import N_
from tierwise.services.scheme_admin import full_spec, method_tiers

Choice = tuple[str, ...]
#: A setting: its path in the scheme and its kind (int, float, text, bool, indicator, choices).
Setting = tuple[str, str | Choice]

SETTINGS: dict[str, tuple[Setting, ...]] = {
    "rfm": (("recency", "indicator"), ("frequency", "indicator"), ("monetary", "indicator"),
            ("scores", "int"), ("segments", ("standard11", "cn8"))),
    "abc": (("value", "indicator"), ("by", ("value", "customers"))),
    "clv": (("model", ("bgnbd", "paretonbd")), ("horizon", "text"), ("discount_rate", "float"),
            ("unit_days", "int"), ("rank_by", ("clv", "p_alive", "expected_purchases",
                                                "predicted_value")),
            ("penalizer", "float"), ("seed", "int")),
    "cluster": (("k", "int"), ("algorithm", ("kmeans", "gmm")),
                ("scale", ("standard", "robust", "none")), ("log", "bool"), ("seed", "int"),
                ("sample", "int")),
    "model": (("algorithm", ("gradient_boosting", "logistic")),
              ("calibration", ("sigmoid", "isotonic")), ("folds", "int"), ("seed", "int"),
              ("target.top_share", "float")),
}
#: What each method reads from a tier besides its texts.
TIER_SETTINGS: dict[str, tuple[Setting, ...]] = {
    "rules": (("status", "bool"),),
    "rfm": (("status", "bool"),),
    "abc": (("cumulative", "float"),),
    "clv": (("top_share", "float"), ("min_score", "float")),
    "model": (("top_share", "float"), ("min_score", "float")),
}
NORMALIZE: Choice = ("minmax", "percentile", "zscore")
#: The settings' names as the form labels them (``word('setting', path)``).
SETTING_NAMES = {
    "recency": N_("Recency: days since the last purchase"), "frequency": N_("Frequency"),
    "monetary": N_("Monetary value"), "scores": N_("Scores per dimension (2-10)"),
    "segments": N_("Segment map"), "value": N_("Value indicator"), "by": N_("Classes by share of"),
    "model": N_("Purchase model"), "horizon": N_("Horizon (e.g. 12m or 39w)"),
    "discount_rate": N_("Monthly discount rate (0.01 = 1%)"),
    "unit_days": N_("Days in the model's time unit"), "rank_by": N_("Tiers cut by"),
    "penalizer": N_("Penalty on the parameters (0: none)"), "seed": N_("Random seed"),
    "k": N_("Number of clusters (k)"), "algorithm": N_("Algorithm"), "scale": N_("Scaling"),
    "log": N_("Log-transform every indicator"), "sample": N_("Most customers the fit reads"),
    "calibration": N_("Probability calibration"), "folds": N_("Cross-validation folds"),
    "target.top_share": N_("Outcome: top share to reach (0.2 = 20%)"),
    "status": N_("A status outside the value ladder"),
    "cumulative": N_("Cumulative share where the class ends (0.8 = 80%)"),
    "top_share": N_("Top share of customers (cumulative, 0.05 = 5%)"),
    "min_score": N_("Lowest score"), "normalize": N_("Normalisation"),
}
#: The choices' names (``word('choice', code)``).
CHOICE_NAMES = {
    "standard11": N_("11 standard RFM segments"), "cn8": N_("8 Chinese RFM value classes"),
    "customers": N_("customers"), "bgnbd": N_("BG/NBD"), "paretonbd": N_("Pareto/NBD"),
    "clv": N_("expected lifetime value"), "p_alive": N_("probability still active"),
    "expected_purchases": N_("expected purchases"), "predicted_value": N_("predicted value"),
    "kmeans": N_("k-means"), "gmm": N_("Gaussian mixture"), "standard": N_("standard"),
    "robust": N_("robust (median, IQR)"), "none": N_("none"),
    "gradient_boosting": N_("gradient boosting"), "logistic": N_("logistic regression"),
    "sigmoid": N_("sigmoid"), "isotonic": N_("isotonic"), "minmax": N_("min-max"),
    "percentile": N_("percentile"), "zscore": N_("z-score"),
}
LANGS = ("en", "zh", "zh-Hant")
#: Each tier's texts as form fields (the editor's own: label.en and label.zh).
TEXT_FIELDS = ("label.zh-Hant", *(f"{part}.{lang}" for part in ("description", "strategy")
                                  for lang in LANGS))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _get(spec: dict[str, Any], path: str) -> Any:
    node: Any = spec
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _texts(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    return {k: str(v) for k, v in (value or {}).items()}


def tiers_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The tiers the form lists: an RFM scheme's whole segment map, else the spec's tiers."""
    if spec.get("method") == "rfm":
        return method_tiers(spec)
    return list(spec.get("tiers") or [])


def values(spec: dict[str, Any]) -> dict[str, str]:
    """The method's settings and every tier's texts as form fields, by path."""
    method = str(spec.get("method", ""))
    shown = full_spec(spec)  # defaults the stored spec leaves out, shown as the value in force
    out = {path: _text(_get(shown, path)) for path, _kind in SETTINGS.get(method, ())}
    tiers = tiers_of(spec)
    if method == "rfm":  # the segment map, each segment a tier (labels, status)
        out["tiers.count"] = str(len(tiers))
        for i, tier in enumerate(tiers):
            out[f"tiers[{i}].key"] = str(tier["key"])
            label = _texts(tier.get("label"))
            out[f"tiers[{i}].label.en"] = label.get("en", "")
            out[f"tiers[{i}].label.zh"] = label.get("zh", "")
    for i, tier in enumerate(tiers):
        for path, _kind in TIER_SETTINGS.get(method, ()):
            out[f"tiers[{i}].{path}"] = _text(tier.get(path))
        for field in TEXT_FIELDS:
            part, _dot, lang = field.partition(".")
            out[f"tiers[{i}].{field}"] = _texts(tier.get(part)).get(lang, "")
    for i, dim in enumerate(spec.get("dimensions") or []):
        normalize = dim.get("normalize")
        kind = normalize.get("method", "minmax") if isinstance(normalize, dict) else normalize
        out[f"dimensions[{i}].normalize"] = str(kind or "minmax")
    return out


def _typed(text: str, kind: str | Choice) -> Any:
    """A typed value; text that is no number stays text, for the validation to report."""
    if kind == "bool":
        return text == "yes"
    try:
        return int(text) if kind == "int" else float(text) if kind == "float" else text
    except ValueError:
        return text


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    if value is None:
        target.pop(last, None)
    else:
        target[last] = value


def apply(spec: dict[str, Any], form: dict[str, str]) -> None:
    """Write the method's settings and the tiers' texts from ``form`` into ``spec``, in place.

    Fields the form does not carry stay as they were; a blank setting returns to its default.
    """
    method = str(spec.get("method", ""))
    for path, kind in SETTINGS.get(method, ()):
        if path in form:
            text = form[path].strip()
            _put(spec, path, _typed(text, kind) if text else None)
    tiers = spec.get("tiers") or []
    for i, tier in enumerate(tiers):
        at = f"tiers[{i}]"
        for path, kind in TIER_SETTINGS.get(method, ()):
            if f"{at}.{path}" in form:
                text = form[f"{at}.{path}"].strip()
                value = _typed(text, kind) if text else None
                _put(tier, path, None if value is False and path == "status" else value)
        for part in ("label", "description", "strategy"):
            if not any(f"{at}.{part}.{lang}" in form for lang in LANGS):
                continue
            texts = _texts(tier.get(part))
            for lang in LANGS:
                if f"{at}.{part}.{lang}" in form:
                    texts[lang] = form[f"{at}.{part}.{lang}"].strip()
            kept = {k: v for k, v in texts.items() if v}
            _put(tier, part, kept or None)
    for i, dim in enumerate(spec.get("dimensions") or []):
        chosen = form.get(f"dimensions[{i}].normalize", "").strip()
        if chosen in NORMALIZE:
            normalize = dim.get("normalize")
            normalize = dict(normalize) if isinstance(normalize, dict) else {}
            if normalize.get("method") != "bins":
                normalize["method"] = chosen
                dim["normalize"] = normalize
