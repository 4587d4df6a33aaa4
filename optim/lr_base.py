"""The learning-rate scheduler base class (`LRScheduler`), which every scheduler in
`optim.lr_scheduler`, `optim.lr_policies` and `optim.lr_cycles` extends, and `LambdaLR`, which
`MultiplicativeLR` extends; their own file so that none of those imports another."""

from __future__ import annotations

import copy
import numbers
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .optimizer import Optimizer
from .validation import MAX_COUNT, brief, finite

__all__ = ["LRScheduler", "LambdaLR"]


def _check_optimizer(name: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")


# -- value checks shared by the constructors and load_state_dict ----------------------------------
def check_int(key: str, value: Any, minimum: int) -> None:
    """`value` is an int (not a bool) >= `minimum` and at most 2**53 (floats count exactly to
    there; schedules compute with floats of their counts)."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_COUNT:
        what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{key} must be {what} (at most 2**53), got {brief(value)}")


def check_real(key: str, value: Any, ok: Callable[[float], bool] = lambda v: True,
               expected: str = "a finite number") -> None:
    """`value` is a finite real number (not a bool) for which `ok` holds."""
    if not finite(value) or not ok(value):
        raise ValueError(f"{key} must be {expected}, got {brief(value)}")


def check_choice(key: str, value: Any, choices: tuple) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{key} must be {' or '.join(map(repr, choices))}, got {brief(value)}")


def check_per_group(key: str, values: Any, n: int, ok: Callable[[float], bool] = lambda v: v >= 0,
                    expected: str = "a finite number >= 0") -> None:
    """`values` is a list of `n` numbers, one per parameter group, each passing `ok`."""
    if not isinstance(values, (list, tuple)) or len(values) != n:
        raise ValueError(f"{key} must be a list of {n} values (one per parameter group), got "
                         f"{brief(values)}")
    for i, v in enumerate(values):
        check_real(f"{key}[{i}]", v, ok, expected)


def _family(value: Any) -> type:
    """The type a loaded value must share with the current one (numbers are one family)."""
    if isinstance(value, bool):
        return bool
    if isinstance(value, numbers.Real):
        return numbers.Real
    for family in (str, dict):
        if isinstance(value, family):
            return family
    if isinstance(value, (list, tuple)):
        return list
    return type(value)


_FAMILY_NAMES = {numbers.Real: "a number", list: "a list", dict: "a dict", bool: "a bool",
                 str: "a string"}


class LRScheduler:
    """Base class: tracks ``last_epoch`` and writes ``get_lr()`` into the groups on ``step()``.

    Args:
        optimizer: the optimizer whose learning rates are scheduled.
        last_epoch: the index of the last epoch when resuming (-1 to start afresh); resuming
            needs ``"initial_lr"`` in every group (saved along with the optimizer's state).

    Attributes:
        base_lrs: each group's ``initial_lr`` (its lr when the first scheduler was attached).
        last_epoch: how many times ``step()`` has been called since the start (0 after
            construction, which takes the first step).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        self._checked(type(self).__name__, self._check_hyperparameters)
        self._checked(type(self).__name__, lambda: check_int("last_epoch", last_epoch, -1))
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param 'initial_lr' is not specified in "
                        f"param_groups[{i}] when resuming (last_epoch={last_epoch})"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rates for ``last_epoch`` (chainable form: from the current lrs)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per parameter group."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advances one epoch and sets the new learning rates.

        Args:
            epoch: jump to this epoch instead (uses the closed form where the scheduler has
                one; kept for PyTorch compatibility and for SequentialLR).
        """
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Everything but the optimizer (plain Python values)."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores a state saved by :meth:`state_dict` of a scheduler of this type.

        Checked before anything changes: the keys must be this scheduler's own (a StepLR's state
        does not load into a CosineAnnealingLR), each value of the type of the value it
        replaces, and the values in range as the constructor checks them.

        Raises:
            ValueError, TypeError: naming the scheduler and the key at fault.
        """
        self._prepare_load(state_dict)()

    # -- checks ---------------------------------------------------------------------------------
    def _check_hyperparameters(self) -> None:
        """Raises ValueError for a hyperparameter out of range: the constructor runs it on its
        arguments (set as attributes first), ``load_state_dict`` on the loaded values."""

    def _check_progress(self) -> None:
        """Raises ValueError for a loaded progress counter or lr list out of range."""
        n = len(self.optimizer.param_groups)
        d = self.__dict__
        if "last_epoch" in d:
            check_int("last_epoch", self.last_epoch, -1)
        if "_step_count" in d:
            check_int("_step_count", self._step_count, 0)
        for key in ("base_lrs", "_last_lr", "min_lrs"):
            if key in d:
                check_per_group(key, d[key], n)

    def _checked(self, name: str, check: Callable[[], None]) -> None:
        """Runs `check`, its error naming `name` (the scheduler, or its method)."""
        try:
            check()
        except (TypeError, ValueError) as e:
            if type(e) not in (TypeError, ValueError):
                raise
            raise type(e)(f"{name}: {e}") from None

    def _prepare_load(self, state_dict: Any, special: tuple[str, ...] = ()) -> Callable[[], None]:
        """Checks `state_dict` for this scheduler; returns the function that loads it (so that a
        composite scheduler checks all its parts before it changes any). The `special` keys
        are left to the subclass that calls this (which checked and will load them)."""
        name = f"{type(self).__name__}.load_state_dict"
        state = self._matching(name, state_dict, special)
        shadow = copy.copy(self)
        shadow.__dict__.update(state)
        shadow._checked(name, shadow._check_hyperparameters)
        shadow._checked(name, shadow._check_progress)
        return lambda: self.__dict__.update(shadow.__dict__)

    def _matching(self, name: str, state_dict: Any, special: tuple[str, ...]) -> dict:
        """A copy of `state_dict` if its keys are this scheduler's and each value has the type of
        the value it replaces (so loading never replaces a method or the optimizer)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{name}: expected a dict made by state_dict(), got "
                            f"{type(state_dict).__name__}")
        own = self.state_dict()
        unexpected = [str(k) for k in state_dict if k not in own]
        missing = [k for k in own if k not in state_dict]
        if unexpected or missing:
            parts = ([f"unexpected {', '.join(unexpected)}"] if unexpected else []) + \
                ([f"missing {', '.join(missing)}"] if missing else [])
            raise ValueError(f"{name}: the state does not fit a {type(self).__name__} "
                             f"({'; '.join(parts)}): is it another scheduler's state?")
        state = {k: v for k, v in state_dict.items() if k not in special}
        for key, value in state.items():
            family = _family(own[key])
            if own[key] is not None and _family(value) is not family:
                expected = _FAMILY_NAMES.get(family, f"a {family.__name__}")
                raise TypeError(f"{name}: {key} must be {expected}, got {type(value).__name__} "
                                f"{brief(value)}")
        return copy.deepcopy(state)

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(epoch).

    Args:
        lr_lambda: a function of the epoch index, or one per parameter group.

    ``state_dict`` saves the ``__dict__`` of callable objects but not plain functions or
    lambdas (pass them again when rebuilding the scheduler).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer("LambdaLR", optimizer)
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per group), "
                                 f"got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict:
        state = {k: copy.deepcopy(v) for k, v in self.__dict__.items()
                 if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else copy.deepcopy(fn.__dict__)
            for fn in self.lr_lambdas
        ]
        return state

    def _prepare_load(self, state_dict: Any) -> Callable[[], None]:
        name = "LambdaLR.load_state_dict"
        lambdas = state_dict.get("lr_lambdas") if isinstance(state_dict, Mapping) else None
        if not isinstance(lambdas, list) or len(lambdas) != len(self.lr_lambdas) or not all(
                saved is None or isinstance(saved, dict) for saved in lambdas):
            raise ValueError(f"{name}: lr_lambdas must be a list of {len(self.lr_lambdas)} "
                             "entries (None, or the attributes of a callable object)")
        load = super()._prepare_load(state_dict, special=("lr_lambdas",))
        lambdas = copy.deepcopy(lambdas)

        def commit() -> None:
            load()
            for fn, saved in zip(self.lr_lambdas, lambdas):
                if saved is not None:
                    fn.__dict__.update(saved)

        return commit
