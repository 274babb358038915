"""The book's two-layer score network as a ``torch.nn.Module``, for the Adam baselines.

:class:`TorchTwoLayerNet` has exactly the parametrisation of :class:`convexscore.TwoLayerNet` (shapes ``W1``
(m, d), ``b1`` (m,), ``W2`` (m, d), ``b2`` (d,), optional skip ``V`` (d, d)) and converts both ways
(:meth:`TorchTwoLayerNet.from_numpy`, :meth:`TorchTwoLayerNet.to_numpy`). Everything is float64 by default.

The SM objective needs ``tr grad_x f(x)``. It is computed exactly, never by a stochastic estimator:

* ``trace="analytic"`` (default): for a two-layer net ``tr grad f(x) = sum_j act'(W1_j . x + b1_j) (W1_j . W2_j)
  + tr V``, with the book's convention ``relu'(0) = 1`` and ``sign(0) = +1``; any d.
* ``trace="autograd"``: differentiate the network with ``torch.autograd`` (one backward pass in 1-D, the exact
  Jacobian through ``torch.func.jacrev`` for d > 1). PyTorch uses ``relu'(0) = 0``, so the two agree except at
  points lying exactly on a kink.

Both make the *bias* gradient of the trace term exactly zero for ReLU (see :func:`trace_term_gradients`).
"""
from __future__ import annotations

import numpy as np
import torch

from ._validation import as_samples, check_activation, check_nonnegative, check_positive, dsm_order
from .network import TwoLayerNet

__all__ = ["TorchTwoLayerNet", "torch_sm_loss", "torch_dsm_loss", "trace_term_gradients"]


class TorchTwoLayerNet(torch.nn.Module):
    """``f(x) = act(x W1^T + b1) W2 + b2 + x V^T`` on inputs of shape (n, d); output (n, d).

    Parameters are ``torch.nn.Parameter`` with the shapes of :class:`convexscore.TwoLayerNet`; ``V`` is None
    without a skip connection. Build one with :meth:`from_numpy` or :meth:`init` (random initialisation).
    """

    def __init__(self, W1, b1, W2, b2, V=None, activation: str = "relu", dtype=torch.float64):
        super().__init__()
        self.activation = check_activation(activation)

        def param(a):
            return torch.nn.Parameter(torch.as_tensor(np.asarray(a), dtype=dtype).clone())

        self.W1, self.b1, self.W2, self.b2 = param(W1), param(b1), param(W2), param(b2)
        self.V = None if V is None else param(V)
        m, d = self.W1.shape
        if self.b1.shape != (m,) or self.W2.shape != (m, d) or self.b2.shape != (d,) or (
                self.V is not None and self.V.shape != (d, d)):
            raise ValueError(f"inconsistent shapes W1 {tuple(self.W1.shape)}, b1 {tuple(self.b1.shape)}, "
                             f"W2 {tuple(self.W2.shape)}, b2 {tuple(self.b2.shape)}; expected (m, d), (m,), (m, d), (d,)")

    # -- conversion ---------------------------------------------------------------------------------------------
    @classmethod
    def from_numpy(cls, net: TwoLayerNet, dtype=torch.float64) -> "TorchTwoLayerNet":
        """A module with the parameters of ``net`` (copied)."""
        return cls(net.W1, net.b1, net.W2, net.b2, net.V, activation=net.activation, dtype=dtype)

    def to_numpy(self) -> TwoLayerNet:
        """The current parameters as a :class:`convexscore.TwoLayerNet` (float64 copies)."""
        def arr(p):
            return p.detach().cpu().numpy().astype(np.float64)

        return TwoLayerNet(arr(self.W1), arr(self.b1), arr(self.W2), arr(self.b2),
                           None if self.V is None else arr(self.V), activation=self.activation)

    @classmethod
    def init(cls, dim: int, width: int, activation: str = "relu", skip: bool = False, seed: int = 0,
             dtype=torch.float64) -> "TorchTwoLayerNet":
        """Random initialisation, PyTorch's ``nn.Linear`` default written out and seeded.

        ``W1`` and ``b1`` are i.i.d. ``U(-1/sqrt(d), 1/sqrt(d))`` (fan-in d), ``W2`` and ``b2`` i.i.d.
        ``U(-1/sqrt(m), 1/sqrt(m))`` (fan-in m), the skip ``V`` starts at 0. Draws come from a
        ``torch.Generator`` seeded with ``seed``, in the order W1, b1, W2, b2, so runs are reproducible.
        """
        if int(dim) != dim or dim < 1 or int(width) != width or width < 1:
            raise ValueError(f"dim and width must be positive integers; got dim={dim}, width={width}")
        g = torch.Generator().manual_seed(int(seed))

        def unif(shape, bound):
            return (2 * torch.rand(shape, generator=g, dtype=dtype) - 1) * bound

        d, m = int(dim), int(width)
        W1, b1 = unif((m, d), d**-0.5), unif((m,), d**-0.5)
        W2, b2 = unif((m, d), m**-0.5), unif((d,), m**-0.5)
        V = torch.zeros((d, d), dtype=dtype) if skip else None
        return cls(W1, b1, W2, b2, V, activation=activation, dtype=dtype)

    # -- evaluation ---------------------------------------------------------------------------------------------
    def _act(self, u):
        return torch.relu(u) if self.activation == "relu" else torch.abs(u)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._act(x @ self.W1.T + self.b1) @ self.W2 + self.b2
        if self.V is not None:
            out = out + x @ self.V.T
        return out

    def jacobian_trace(self, x: torch.Tensor, trace: str = "analytic") -> torch.Tensor:
        """``tr grad_x f(x_i)`` for each row, shape (n,); differentiable in the parameters."""
        if trace == "analytic":
            u = x @ self.W1.T + self.b1
            gate = (u >= 0).to(u.dtype) if self.activation == "relu" else torch.where(u >= 0, 1.0, -1.0).to(u.dtype)
            out = gate @ (self.W1 * self.W2).sum(1)  # the gate is piecewise constant: no gradient flows through it
            return out + torch.trace(self.V) if self.V is not None else out
        if trace == "autograd":
            if x.shape[1] == 1:
                xr = x.detach().clone().requires_grad_(True)
                (g,) = torch.autograd.grad(self.forward(xr).sum(), xr, create_graph=True)
                return g[:, 0]
            params = dict(self.named_parameters())

            def f_single(p, xi):
                return torch.func.functional_call(self, p, (xi[None, :],))[0]

            J = torch.func.vmap(torch.func.jacrev(f_single, argnums=1), in_dims=(None, 0))(params, x)
            return torch.diagonal(J, dim1=1, dim2=2).sum(1)
        raise ValueError(f"trace must be 'analytic' or 'autograd'; got {trace!r}")

    def penalty(self) -> torch.Tensor:
        """``0.5 (|W1|_F^2 + |W2|_F^2)``: the weight decay divided by beta (biases and skip unpenalised)."""
        return 0.5 * ((self.W1**2).sum() + (self.W2**2).sum())


def _tensor(x, name: str, dtype) -> torch.Tensor:
    X, _ = as_samples(x, name=name)
    return torch.as_tensor(X, dtype=dtype)


def torch_sm_loss(model: TorchTwoLayerNet, x, beta: float, trace: str = "analytic") -> torch.Tensor:
    """SM objective ``sum_i [0.5 |f(x_i)|^2 + tr grad f(x_i)] + beta/2 (|W1|^2 + |W2|^2)`` as a scalar tensor.

    ``x``: array or tensor of shape (n,) (1-D) or (n, d). Equals :func:`convexscore.score_matching_loss` of
    ``model.to_numpy()``.
    """
    beta = check_nonnegative(beta, "beta")
    X = x if isinstance(x, torch.Tensor) else _tensor(x, "x", model.W1.dtype)
    if X.ndim == 1:
        X = X[:, None]
    F = model(X)
    return 0.5 * (F**2).sum() + model.jacobian_trace(X, trace).sum() + beta * model.penalty()


def torch_dsm_loss(model: TorchTwoLayerNet, x, noise, sigma: float, beta: float) -> torch.Tensor:
    """DSM objective ``sum_i 0.5 |f(x_i + sigma z_i) + z_i/sigma|^2 + beta/2 (|W1|^2 + |W2|^2)`` as a tensor.

    ``noise`` holds the fixed standard normal draws ``z_i`` (shape of ``x``). Equals
    :func:`convexscore.denoising_score_matching_loss` (same argument order: data, noise, sigma, beta).
    """
    noise, beta = dsm_order(noise, beta, "torch_dsm_loss")
    beta, sigma = check_nonnegative(beta, "beta"), check_positive(sigma, "sigma")
    dtype = model.W1.dtype
    X = x if isinstance(x, torch.Tensor) else _tensor(x, "x", dtype)
    Z = noise if isinstance(noise, torch.Tensor) else _tensor(noise, "noise", dtype)
    if X.ndim == 1:
        X = X[:, None]
    if Z.ndim == 1:
        Z = Z[:, None]
    if Z.shape != X.shape:
        raise ValueError(f"noise has shape {tuple(Z.shape)} but x has shape {tuple(X.shape)}; "
                         "pass one standard normal draw per coordinate")
    R = model(X + sigma * Z) + Z / sigma
    return 0.5 * (R**2).sum() + beta * model.penalty()


def trace_term_gradients(net: TwoLayerNet, x, trace: str = "analytic") -> dict[str, np.ndarray]:
    """Gradients of the SM derivative term ``sum_i tr grad f(x_i)`` with respect to every parameter.

    Why ReLU SM training stalls: for ReLU the term equals ``sum_i sum_j 1{W1_j . x_i + b1_j >= 0} (W1_j . W2_j)``
    (+ n tr V). As a function of the bias ``b1_j`` it is piecewise *constant*: it only changes when a kink crosses
    a data point. So its gradient in ``b1`` is exactly zero at every parameter where no kink sits on a data point
    (almost everywhere), whatever the differentiation method. The term that rewards negative slopes at the data is
    invisible to gradient descent on the biases: the kinks move only to shrink ``0.5 |f|^2``. The same holds for
    the absolute value. Returns ``{"W1": ..., "b1": ..., "W2": ..., "b2": ..., "V": ... or None}``.
    """
    model = TorchTwoLayerNet.from_numpy(net)
    X = _tensor(x, "x", model.W1.dtype)
    model.zero_grad()
    model.jacobian_trace(X, trace).sum().backward()

    def grad(p):
        if p is None:
            return None
        return np.zeros(tuple(p.shape)) if p.grad is None else p.grad.detach().numpy().copy()

    return {"W1": grad(model.W1), "b1": grad(model.b1), "W2": grad(model.W2), "b2": grad(model.b2), "V": grad(model.V)}
