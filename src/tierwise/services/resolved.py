"""A scheme resolved once for a run: its spec, tiers and indicators, fixed for the whole run."""

from __future__ import annotations

from dataclasses import dataclass

from tierwise import methods
from tierwise.spec.models import SchemeSpec, TierSpec


@dataclass(frozen=True)
class ResolvedScheme:
    """One scheme as a run grades it, computed once instead of at every step.

    Attributes:
        name: The scheme's name in the project.
        spec: Its spec (a saved version's, in a recorded run).
        tiers: Its tiers, best first (RFM: its segment map; cluster: c1..ck unless given).
        indicators: The indicators its method reads directly (dependencies come with the
            feature plan), then the project's reported value (``reporting: value``), so the
            run's features hold what the results overview sums per tier, then what the
            scheme's actions read (their conditions and budget rankings).

    """

    name: str
    spec: SchemeSpec
    tiers: tuple[TierSpec, ...]
    indicators: tuple[str, ...]

    @classmethod
    def of(cls, name: str, spec: SchemeSpec, *, reported: str | None = None,
           also: tuple[str, ...] = ()) -> ResolvedScheme:
        """Resolve ``spec`` (named ``name``) through its method.

        ``reported``: the project's reported value; ``also``: more indicators the run keeps.
        """
        read = [*methods.scheme_indicators(spec), *([reported] if reported else []), *also]
        return cls(name, spec, tuple(methods.scheme_tiers(spec)), tuple(dict.fromkeys(read)))

    @property
    def has_value(self) -> bool:
        """Whether the scheme names a value indicator (summed per tier in the counts)."""
        return self.spec.value is not None


def indicators_of(schemes: list[ResolvedScheme]) -> list[str]:
    """The indicators several schemes read, in order, each once."""
    return list(dict.fromkeys(n for s in schemes for n in s.indicators))
