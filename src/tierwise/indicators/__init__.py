"""Indicators declared in YAML, compiled to one feature table per as-of date."""

from tierwise.indicators.features import (
    CUSTOMER,
    after,
    feature_table,
    required_indicators,
    window_bounds,
)

__all__ = ["CUSTOMER", "after", "feature_table", "required_indicators", "window_bounds"]
