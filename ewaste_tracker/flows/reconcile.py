r"""Data reconciliation: weighted least squares under linear mass-balance constraints.

Measured (or prior) values :math:`y` of :math:`K` flows with independent errors of variance
:math:`\Sigma = \mathrm{diag}(\sigma^2)` are adjusted to the values :math:`\hat x` that
balance, :math:`A \hat x = 0` (one row of :math:`A` per node balance or definition), while
moving the measurements as little as their precision allows:

.. math::

   \hat x = \arg\min_x (x - y)^\top \Sigma^{-1} (x - y) \quad\text{s.t.}\quad A x = 0,
   \qquad \hat x = y - \Sigma A^\top (A \Sigma A^\top)^{-1} A y,

with covariance :math:`\mathrm{Cov}(\hat x) = \Sigma - \Sigma A^\top (A \Sigma A^\top)^{-1}
A \Sigma`. The global test statistic of the constraint residuals :math:`r = A y`,

.. math:: h = r^\top (A \Sigma A^\top)^{-1} r \sim \chi^2_{\mathrm{rank}(A)},

is the minimised objective; its p-value says whether the data and the balances agree as a
whole. The measurement test of each value is its normalised residual

.. math:: z_i = \frac{|\hat x_i - y_i|}{\sqrt{\sigma_i^2 - \mathrm{Var}(\hat x_i)}},

standard normal when the value has no gross error, flagged beyond 3 (Narasimhan & Jordache
2000, *Data Reconciliation and Gross Error Detection*, Gulf, ch. 3 and 7; the method of STAN,
Cencic & Rechberger 2008, *Journal of Environmental Engineering and Management* 18(1), 3-7).
Values whose adjustment has no variance (not redundant, or fixed) cannot be tested: ``nan``.
Inverses are pseudo-inverses, so redundant constraints and zero variances are allowed; a
value of variance zero is kept exactly.

**Non-negativity.** Where a flow declared non-negative comes out below zero it is fixed at
zero (value 0, variance 0) and the system solved again, until none is negative (a primal
active-set step of the bounded problem; each fixed flow is marked ``clipped``). The chi-square
statistic is then the objective at the bounded solution.

**Gross errors.** Values in one balance share their normalised residuals in part, so a single
gross error can push several of them past 3. :func:`serial_elimination` flags only the largest
beyond 3 in each system, replaces it by a fallback (the model's own value and variance), and
solves again until none is left (the serial elimination strategy, Narasimhan & Jordache 2000,
ch. 8).

Every system is solved at once: arrays carry a leading batch axis ``B`` (region x year x
product group) and the linear algebra runs over stacked small matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FLAG_THRESHOLD", "Reconciled", "reconcile", "serial_elimination"]

FLAG_THRESHOLD = 3.0
"""Normalised residual beyond which a value is flagged (a 3-sigma measurement test)."""


@dataclass(frozen=True)
class Reconciled:
    """Reconciled values of ``B`` systems of ``K`` flows.

    Attributes
    ----------
    x, var
        ``(B, K)`` reconciled values and their variances (diagonal of :math:`\\mathrm{Cov}(\\hat
        x)`, never negative).
    normalised
        ``(B, K)`` normalised residuals :math:`z_i` (``nan`` where not testable).
    flagged
        ``(B, K)`` :math:`z_i > 3`.
    clipped
        ``(B, K)`` flows fixed at zero by the non-negativity bound.
    chi2, dof, p_value
        ``(B,)`` global test: statistic, degrees of freedom (rank of :math:`A\\Sigma A^\\top`)
        and :math:`P(\\chi^2_{dof} \\ge h)`.
    """

    x: np.ndarray
    var: np.ndarray
    normalised: np.ndarray
    flagged: np.ndarray
    clipped: np.ndarray
    chi2: np.ndarray
    dof: np.ndarray
    p_value: np.ndarray


CHUNK = 4096
"""Systems solved together: bounds the temporary arrays to about ``CHUNK * K * M * 8`` bytes
each (a few megabytes for the lifecycle system), whatever the number of systems."""


def _solve(y: np.ndarray, var: np.ndarray, A: np.ndarray) -> tuple[np.ndarray, ...]:
    """One closed-form pass: ``(x, var_x, var_adjustment, dof)`` of every system."""
    if len(y) > CHUNK:  # a loop over chunks of systems, each solved at once
        parts = [_solve(y[i : i + CHUNK], var[i : i + CHUNK], A[i : i + CHUNK])
                 for i in range(0, len(y), CHUNK)]  # fmt: skip
        return tuple(np.concatenate([p[j] for p in parts]) for j in range(4))
    # S = A Σ Aᵀ, (B, M, M); Σ Aᵀ = var[:, :, None] * Aᵀ
    SA = var[:, :, None] * np.swapaxes(A, -1, -2)  # (B, K, M)
    S = A @ SA
    scale = np.maximum(np.abs(S).max(axis=(-1, -2), keepdims=True), 1e-300)
    # one symmetric eigendecomposition gives the pseudo-inverse and the rank (tolerance of
    # numpy's matrix_rank: largest eigenvalue x M x machine epsilon)
    w, V = np.linalg.eigh(S / scale)
    tol = w.max(axis=-1, keepdims=True) * S.shape[-1] * np.finfo(float).eps
    keep = w > tol
    inv_w = np.where(keep, 1.0 / np.where(keep, w, 1.0), 0.0)
    S_pinv = (V * inv_w[:, None, :]) @ np.swapaxes(V, -1, -2) / scale
    r = A @ y[:, :, None]  # (B, M, 1)
    G = SA @ S_pinv  # (B, K, M)
    x = y - (G @ r)[:, :, 0]
    x -= (G @ (A @ x[:, :, None]))[:, :, 0]  # one refinement step: the rounding of the first
    adj_var = np.clip(np.sum(G * SA, axis=-1), 0.0, var)
    return x, var - adj_var, adj_var, keep.sum(axis=-1)


def reconcile(
    y: np.ndarray,
    var: np.ndarray,
    A: np.ndarray,
    *,
    nonnegative: np.ndarray | None = None,
    atol: float = 1e-9,
) -> Reconciled:
    """Reconcile measured values with linear balances (equations in the module doc).

    Parameters
    ----------
    y
        ``(B, K)`` measured or prior values.
    var
        ``(B, K)`` their variances (``>= 0``; 0 keeps a value fixed).
    A
        ``(M, K)`` constraint matrix shared by all systems, or ``(B, M, K)``.
    nonnegative
        ``(K,)`` or ``(B, K)`` flows bounded below by zero (default none).
    atol
        Values above ``-atol * max|y|`` of their system count as non-negative.

    Returns
    -------
    Reconciled
    """
    y = np.atleast_2d(np.asarray(y, dtype=float))
    var0 = np.atleast_2d(np.asarray(var, dtype=float))
    if np.any(~np.isfinite(var0)) or np.any(var0 < 0) or np.any(~np.isfinite(y)):
        raise ValueError("values must be finite and variances finite and non-negative")
    A = np.asarray(A, dtype=float)
    A = np.broadcast_to(A, (y.shape[0], *A.shape[-2:]))
    bound = (
        np.zeros(y.shape, dtype=bool)
        if nonnegative is None
        else np.broadcast_to(np.asarray(nonnegative, dtype=bool), y.shape)
    )
    tol = atol * np.maximum(np.abs(y).max(axis=1, keepdims=True), 1.0)
    clipped = np.zeros(y.shape, dtype=bool)
    x, var_x, adj_var, dof = _solve(y, var0, A)
    dof = np.broadcast_to(dof, (y.shape[0],)).copy()
    neg = bound & (x < -tol)
    for _ in range(y.shape[1]):  # active-set passes (at most K), only the systems with news
        rows = np.flatnonzero(neg.any(axis=1))
        if rows.size == 0:
            break
        clipped[rows] |= neg[rows]
        c = clipped[rows]
        x[rows], var_x[rows], adj_var[rows], dof[rows] = _solve(
            np.where(c, 0.0, y[rows]), np.where(c, 0.0, var0[rows]), A[rows]
        )
        neg = np.zeros_like(neg)
        neg[rows] = bound[rows] & ~c & (x[rows] < -tol[rows])
    # clipped flows are zero; bounded flows within the tolerance below zero are rounding: zero
    x = np.where(clipped | (bound & (x < 0)), 0.0, x)
    diff = x - y
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.where(var0 > 0, diff**2 / var0, 0.0).sum(axis=1)
        sd_adj = np.sqrt(adj_var)
        testable = sd_adj > 1e-12 * np.maximum(np.sqrt(var0), 1e-300)
        z = np.where(testable, np.abs(diff) / np.where(testable, sd_adj, 1.0), np.nan)
    dof = dof.astype(int)
    from scipy import stats  # 1-3 s to import: only when a reconciliation runs

    p = np.where(dof > 0, stats.chi2.sf(chi2, np.maximum(dof, 1)), np.nan)
    return Reconciled(
        x=x,
        var=np.maximum(var_x, 0.0),
        normalised=z,
        flagged=np.nan_to_num(z, nan=0.0) > FLAG_THRESHOLD,
        clipped=clipped,
        chi2=chi2,
        dof=dof,
        p_value=p,
    )


def serial_elimination(
    y: np.ndarray,
    var: np.ndarray,
    A: np.ndarray,
    *,
    tested: np.ndarray,
    fallback_y: np.ndarray,
    fallback_var: np.ndarray,
    nonnegative: np.ndarray | None = None,
    threshold: float = FLAG_THRESHOLD,
) -> tuple[Reconciled, Reconciled, np.ndarray, np.ndarray]:
    """Reconcile, flag the largest normalised residual beyond ``threshold``, drop it, repeat.

    Parameters
    ----------
    y, var, A, nonnegative
        As :func:`reconcile`.
    tested
        ``(B, K)`` values that may be flagged (the measurements; model priors are not).
    fallback_y, fallback_var
        ``(B, K)`` what replaces a flagged value (its prior).
    threshold
        Flag beyond this normalised residual.

    Returns
    -------
    (Reconciled, Reconciled, numpy.ndarray, numpy.ndarray)
        The reconciliation of all values, the final one without the flagged values, the
        ``(B, K)`` flags and the ``(B, K)`` normalised residual of each value (when it was
        flagged, else in the final pass).
    """
    y = np.atleast_2d(np.asarray(y, dtype=float)).copy()
    var = np.atleast_2d(np.asarray(var, dtype=float)).copy()
    tested = np.broadcast_to(np.asarray(tested, dtype=bool), y.shape)
    flagged = np.zeros(y.shape, dtype=bool)
    z_at = np.full(y.shape, np.nan)
    A = np.broadcast_to(np.asarray(A, dtype=float), (y.shape[0], *np.shape(A)[-2:]))
    bound = np.broadcast_to(
        np.zeros(y.shape, bool) if nonnegative is None else np.asarray(nonnegative, bool), y.shape
    )
    first = reconcile(y, var, A, nonnegative=bound)
    cur = {f: np.array(getattr(first, f)) for f in first.__dataclass_fields__}
    for _ in range(int(tested.sum(axis=1).max(initial=0))):  # passes; re-solve flagged systems
        z = np.where(tested & ~flagged, np.nan_to_num(cur["normalised"], nan=-1.0), -1.0)
        worst = np.argmax(z, axis=1)
        rows = np.flatnonzero(z[np.arange(len(z)), worst] > threshold)
        if rows.size == 0:
            break
        cols = worst[rows]
        flagged[rows, cols] = True
        z_at[rows, cols] = z[rows, cols]
        y[rows, cols] = fallback_y[rows, cols]
        var[rows, cols] = fallback_var[rows, cols]
        sub = reconcile(y[rows], var[rows], A[rows], nonnegative=bound[rows])
        for f, arr in cur.items():
            arr[rows] = getattr(sub, f)
    out = Reconciled(**cur)
    z_at = np.where(flagged, z_at, out.normalised)
    return first, out, flagged, z_at
