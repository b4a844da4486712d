"""Funding: grant and partner streams that may end, and the part partners replace."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def grant_loss(amounts: ArrayLike, ends: ArrayLike, end_index: ArrayLike, replaced: ArrayLike) -> np.ndarray:
    """Unreplaced funding lost in each year [£/yr, positive = a pressure].

    Parameters
    ----------
    amounts : ndarray, shape (years,)
        Funding the MTFP counts on in each year [£/yr].
    ends : array, shape (n, 1)
        1 where the stream ends within the horizon, else 0 [flag].
    end_index : array, shape (n, 1)
        Index of the first year without the funding [year index].
    replaced : array, shape (n, 1)
        Share of the lost funding that partners replace [fraction].

    Returns
    -------
    ndarray, shape (n, years) [£/yr]
    """
    year = np.arange(np.shape(amounts)[-1])
    lost = (ends > 0.5) & (year >= end_index)
    return np.where(lost, np.asarray(amounts) * (1.0 - replaced), 0.0)
