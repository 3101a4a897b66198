"""Synthetic demo data for the example projects (retail, bank, B2B, linked systems), by seed."""

from tierwise.demo.generate import (
    AS_OF,
    DirtyRow,
    write_b2b,
    write_bank,
    write_dirty_retail,
    write_linked,
    write_retail,
)

__all__ = ["AS_OF", "DirtyRow", "write_b2b", "write_bank", "write_dirty_retail", "write_linked",
           "write_retail"]
