"""Statistical core of the ``clv`` method: buy-till-you-die and spend models fitted from scratch.

* :class:`BetaGeoFitter` - BG/NBD (Fader, Hardie & Lee 2005): purchases and dropout.
* :class:`ParetoNBDFitter` - Pareto/NBD (Schmittlein, Morrison & Colombo 1987; Fader, Hardie &
  Lee 2005 notes): purchases and dropout in continuous time.
* :class:`GammaGammaFitter` - Gamma-Gamma (Fader & Hardie 2013): spend per purchase, and the
  discounted customer lifetime value built on a transaction model.
* :func:`collapse` - merge identical (frequency, recency, T) rows into weights.

Pure numpy/scipy (scipy comes with the ``[ml]`` extra, imported when a model is used);
scikit-learn shaped: ``fit()`` returns the fitter and fitted values end in ``_``.
"""

from __future__ import annotations

from tierwise.methods.lifetime._fit import MIN_REPEAT_BUYERS, collapse
from tierwise.methods.lifetime.bgnbd import BetaGeoFitter
from tierwise.methods.lifetime.gammagamma import GammaGammaFitter, TransactionModel
from tierwise.methods.lifetime.paretonbd import ParetoNBDFitter

__all__ = [
    "MIN_REPEAT_BUYERS",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ParetoNBDFitter",
    "TransactionModel",
    "collapse",
]
