"""Arc-cosine kernels and the analytic neural tangent kernel (NTK) of a two-layer ReLU network.

The network in NTK parametrisation (the chapter "The kernel view" uses it throughout):

    f(x) = m^{-1/2} sum_j a_j relu(w_j . x~),   a_j ~ N(0, 1),  w_j ~ N(0, I_k)  independent,

where ``x~ = (x, 1)`` when the network has a first-layer bias (the bias is the last entry of ``w_j``) and
``x~ = x`` without bias. Both layers are trained. As the width m grows, the tangent kernel
``sum_p d f(x)/d theta_p * d f(y)/d theta_p`` converges to

    Theta(x, y) = k1(x~, y~) + (x~ . y~) k0(x~, y~),

with the arc-cosine kernels of Cho & Saul (2009), for u ~ N(0, I_k) and theta the angle between x and y:

    k0(x, y) = E[1{u.x >= 0} 1{u.y >= 0}] = (pi - theta) / (2 pi),
    k1(x, y) = E[relu(u.x) relu(u.y)]     = |x| |y| (sin theta + (pi - theta) cos theta) / (2 pi).

Shapes: inputs ``x`` of shape (n,) (one-dimensional data) or (n, d); Gram matrices of shape (n_x, n_y).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_samples


def augment(x: ArrayLike, bias: bool = True) -> np.ndarray:
    """Return the network's effective input ``x~``: shape (n, d + 1) as ``[x, 1]`` with bias, else (n, d)."""
    X, _ = as_samples(x)
    if bias:
        return np.hstack([X, np.ones((X.shape[0], 1))])
    return X


def _angles(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Norms of the rows of X (n,1), of Y (1,n') and the angles between them (n, n'); zero rows get angle pi/2.

    The angle is ``2 atan2(|u - v|, |u + v|)`` for the unit vectors u, v: accurate even for nearly parallel rows,
    where ``arccos`` of the cosine loses half the digits.
    """
    nx = np.linalg.norm(X, axis=1)
    ny = np.linalg.norm(Y, axis=1)
    U = X / np.where(nx > 0, nx, 1.0)[:, None]
    V = Y / np.where(ny > 0, ny, 1.0)[:, None]
    diff = np.zeros((X.shape[0], Y.shape[0]))
    summ = np.zeros_like(diff)
    for k in range(X.shape[1]):  # one coordinate at a time keeps memory at (n, n')
        diff += (U[:, k, None] - V[None, :, k]) ** 2
        summ += (U[:, k, None] + V[None, :, k]) ** 2
    theta = 2.0 * np.arctan2(np.sqrt(diff), np.sqrt(summ))
    theta = np.where((nx[:, None] > 0) & (ny[None, :] > 0), theta, np.pi / 2)
    return nx[:, None], ny[None, :], theta


def _pair(x, y):
    X, _ = as_samples(x)
    Y = X if y is None else as_samples(y, name="y")[0]
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"x has dimension {X.shape[1]} but y has dimension {Y.shape[1]}; pass points of equal dimension")
    return X, Y


def arccos_kernel(x: ArrayLike, y: ArrayLike | None = None, order: int = 1) -> np.ndarray:
    """Arc-cosine kernel of order 0 (step) or 1 (ReLU) between the rows of ``x`` and ``y`` (no augmentation).

    ``order=0``: ``E[1{u.x>=0} 1{u.y>=0}]``; ``order=1``: ``E[relu(u.x) relu(u.y)]``, u ~ N(0, I). Shape (n_x, n_y).
    """
    if order not in (0, 1):
        raise ValueError(f"order must be 0 (step activation) or 1 (ReLU); got {order!r}")
    X, Y = _pair(x, y)
    nx, ny, theta = _angles(X, Y)
    if order == 0:
        return (np.pi - theta) / (2 * np.pi)
    return nx * ny * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)


def relu_ntk(x: ArrayLike, y: ArrayLike | None = None, bias: bool = True) -> np.ndarray:
    """Analytic NTK ``Theta(x, y) = k1(x~, y~) + (x~.y~) k0(x~, y~)`` of the two-layer ReLU network, shape (n_x, n_y).

    ``bias=True`` augments the inputs with a constant 1 (a trained first-layer bias); ``y=None`` means ``y = x``.
    The diagonal is ``Theta(x, x) = |x~|^2``: the kernel is unbounded in x, unlike the kernels of classical theory.
    """
    second_layer, first_layer = relu_ntk_parts(x, y, bias=bias)
    return second_layer + first_layer


def relu_ntk_parts(x: ArrayLike, y: ArrayLike | None = None, bias: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The two summands of :func:`relu_ntk`: ``(second-layer part k1, first-layer part (x~.y~) k0)``."""
    X, Y = _pair(x, y)
    if bias:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
        Y = np.hstack([Y, np.ones((Y.shape[0], 1))])
    return arccos_kernel(X, Y, order=1), (X @ Y.T) * arccos_kernel(X, Y, order=0)
