"""L-BFGS: a quasi-Newton method that needs the loss re-evaluated (a closure), with an optional
strong-Wolfe line search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograd.grad_mode import enable_grad, no_grad
from autograd.tensor import Tensor

from . import validation
from .line_search import strong_wolfe
from .optimizer import Optimizer, _no_complex

#: The curvature ``y . s`` below which a step's pair is not added to the history (it would make
#: the inverse-Hessian estimate indefinite).
MIN_CURVATURE = 1e-10


class LBFGS(Optimizer):
    """L-BFGS (PyTorch's ``torch.optim.LBFGS``): each `step(closure)` runs up to `max_iter`
    iterations, each a search direction from the last `history_size` steps and gradient changes
    (the two-loop recursion) and a step along it.

    Args:
        params: the tensors to optimize (one group only: L-BFGS works on them as one vector).
        lr: the step length (the first iteration's is ``min(1, 1 / |g|_1) * lr``); with the line
            search, the first step length tried.
        max_iter: iterations per `step`.
        max_eval: loss evaluations per `step` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when the largest absolute gradient entry is at most this.
        tolerance_change: stop when the step, or the change of the loss, is smaller.
        history_size: how many (step, gradient change) pairs to keep.
        line_search_fn: None (fixed steps) or ``"strong_wolfe"``.

    State (``state[params[0]]``, as PyTorch keeps it): ``func_evals``, ``n_iter``, ``d``, ``t``,
    ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss``.

    Each iteration reads a few numbers back from the device (dot products, the loss): L-BFGS's
    control flow depends on them.

        >>> opt = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = loss_fn(model(x), y)
        ...     loss.backward()
        ...     return loss
        >>> opt.step(closure)
    """

    def __init__(self, params: Any, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None and isinstance(max_iter, int) and not isinstance(max_iter, bool):
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        for key in ("max_iter", "max_eval", "history_size"):
            value = group[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be an int >= 1, got {value!r}")
        validation.nonnegative(group, "tolerance_grad")
        validation.nonnegative(group, "tolerance_change")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"line_search_fn must be None or 'strong_wolfe', got "
                             f"{group['line_search_fn']!r}")

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # -- the parameters as one vector -------------------------------------------------------
    @property
    def _backend(self) -> Any:
        return self._params[0]._backend

    def _flat_grad(self) -> Any:
        """The gradients of all parameters, concatenated (zeros where a gradient is None)."""
        xp = self._backend.xp
        parts = []
        for p in self._params:
            _no_complex(self, p)
            if p.grad is None:
                parts.append(xp.zeros(p.array.size, dtype=p.array.dtype))
            else:
                parts.append(p.grad.array.reshape(-1))
        return xp.concatenate(parts) if len(parts) > 1 else parts[0].copy()

    def _add(self, t: float, d: Any) -> None:
        """Parameters += t * d (d flat, in parameter order)."""
        offset = 0
        for p in self._params:
            n = p.array.size
            step = (d[offset:offset + n] * t).reshape(p.array.shape)
            p.array[...] = p.array + step.astype(p.array.dtype, copy=False)
            p._version[0] += 1
            offset += n

    def _copy_params(self) -> list:
        return [p.array.copy() for p in self._params]

    def _restore(self, saved: list) -> None:
        for p, array in zip(self._params, saved):
            p.array[...] = array
            p._version[0] += 1

    def _host_float(self, array: Any) -> float:
        """A 0-d device result read on the host (explicitly: L-BFGS branches on it)."""
        return float(self._backend.to_numpy(array))

    def _dot(self, a: Any, b: Any) -> float:
        return self._host_float(self._backend.xp.dot(a, b))

    def _abs_max(self, a: Any) -> float:
        xp = self._backend.xp
        return self._host_float(xp.max(xp.abs(a))) if a.size else 0.0

    # -- the step ---------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Runs up to `max_iter` L-BFGS iterations.

        Args:
            closure: re-evaluates the model and returns the loss (zeroing the gradients and
                calling ``backward`` itself). Required.

        Returns:
            The loss of the first evaluation (before this step's updates), as PyTorch does.
        """
        if closure is None:
            raise TypeError("LBFGS.step: a closure is required (it re-evaluates the model and "
                            "returns the loss)")

        def evaluate() -> tuple[Any, float]:
            with enable_grad():
                out = closure()
            value = out.item() if isinstance(out, Tensor) else float(out)
            return out, value

        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search = group["history_size"], group["line_search_fn"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss, loss = evaluate()
        self._check_step()  # the hyperparameters, and the gradients the closure wrote
        evals = 1
        state["func_evals"] += 1
        with no_grad():
            flat_grad = self._flat_grad()
        if self._abs_max(flat_grad) <= tol_grad:
            return orig_loss

        d = _raw(state.get("d"))
        t = state.get("t")
        old_dirs = [_raw(v) for v in state.get("old_dirs", [])]
        old_stps = [_raw(v) for v in state.get("old_stps", [])]
        ro = list(state.get("ro", []))
        h_diag = state.get("H_diag")
        prev_flat_grad = _raw(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")

        n_iter = 0
        with no_grad():
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1:
                    d = -flat_grad
                    old_dirs, old_stps, ro, h_diag = [], [], [], 1.0
                else:
                    y = flat_grad - prev_flat_grad
                    s = d * t
                    ys = self._dot(y, s)
                    if ys > MIN_CURVATURE:
                        if len(old_dirs) == history_size:
                            old_dirs.pop(0)
                            old_stps.pop(0)
                            ro.pop(0)
                        old_dirs.append(y)
                        old_stps.append(s)
                        ro.append(1.0 / ys)
                        h_diag = ys / self._dot(y, y)
                    d = self._direction(flat_grad, old_dirs, old_stps, ro, h_diag)
                prev_flat_grad = flat_grad.copy()
                prev_loss = loss

                if state["n_iter"] == 1:
                    t = min(1.0, 1.0 / self._host_float(self._backend.xp.abs(flat_grad).sum())) * lr
                else:
                    t = lr
                slope = self._dot(flat_grad, d)
                if slope > -tol_change:  # not a descent direction any more
                    break

                if line_search is not None:
                    start = self._copy_params()

                    def at(step: float, start: list = start, d: Any = d) -> tuple[float, Any]:
                        self._add(step, d)
                        _, value = evaluate()
                        grad = self._flat_grad()
                        self._restore(start)
                        return value, grad

                    loss, flat_grad, t, ls_evals = strong_wolfe(
                        at, lambda g, d=d: self._dot(g, d), t, loss, flat_grad, slope,
                        tolerance_change=tol_change, d_norm=self._abs_max(d))
                    self._add(t, d)
                    done = self._abs_max(flat_grad) <= tol_grad
                else:
                    self._add(t, d)
                    ls_evals = 0
                    done = False
                    if n_iter != max_iter:
                        # the loss and gradient at the new point (skipped after the last
                        # iteration: the next step's first evaluation computes them)
                        _, loss = evaluate()
                        flat_grad = self._flat_grad()
                        done = self._abs_max(flat_grad) <= tol_grad
                        ls_evals = 1
                evals += ls_evals
                state["func_evals"] += ls_evals

                if n_iter == max_iter or evals >= max_eval or done:
                    break
                if self._abs_max(d) * abs(t) <= tol_change:
                    break
                if abs(loss - prev_loss) < tol_change:
                    break

        wrap = self._wrap
        state.update(d=wrap(d), t=t, old_dirs=[wrap(v) for v in old_dirs],
                     old_stps=[wrap(v) for v in old_stps], ro=ro, H_diag=h_diag,
                     prev_flat_grad=wrap(prev_flat_grad), prev_loss=prev_loss)
        return orig_loss

    def _direction(self, g: Any, dirs: list, stps: list, ro: list, h_diag: float) -> Any:
        """``-H g`` by the two-loop recursion (N&W algorithm 7.4): H is the inverse-Hessian
        estimate built from the stored pairs on the initial ``h_diag * I``."""
        q = -g
        alphas = [0.0] * len(dirs)
        for i in range(len(dirs) - 1, -1, -1):
            alphas[i] = self._dot(stps[i], q) * ro[i]
            q = q - alphas[i] * dirs[i]
        r = q * h_diag
        for i in range(len(dirs)):
            beta = self._dot(dirs[i], r) * ro[i]
            r = r + stps[i] * (alphas[i] - beta)
        return r

    def _wrap(self, array: Any) -> Any:
        return None if array is None else Tensor._make(array, self._backend)


def _raw(value: Any) -> Any:
    """The backend array of a state Tensor (None stays None)."""
    return value.array if isinstance(value, Tensor) else value
