"""Indicators declared in YAML, compiled to one feature table per as-of date."""

from tierwise.indicators.features import (
    after,
    feature_table,
    required_indicators,
    window_bounds,
)
from tierwise.spec.columns import CUSTOMER

__all__ = ["CUSTOMER", "after", "feature_table", "required_indicators", "window_bounds"]
