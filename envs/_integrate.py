"""Fixed-step integration shared by the classic tasks written here.

Pure-Python floats rather than numpy arrays: with four or so state variables the per-call overhead of
numpy would dominate, and a 500-step episode should cost milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable

State = tuple[float, ...]


def rk4_step(derivatives: Callable[..., State], state: State, h: float, *args: float) -> State:
    """One classic fourth-order Runge-Kutta step of size ``h`` for ``state' = derivatives(state, *args)``.

    Args:
        derivatives: maps ``(state, *args)`` to the time derivative of ``state`` (same length).
        state: the current state.
        h: the step size in seconds.
        *args: held constant over the step (e.g. the applied force: a zero-order hold).

    Returns:
        The state after ``h`` seconds.
    """
    k1 = derivatives(state, *args)
    k2 = derivatives(tuple(s + 0.5 * h * k for s, k in zip(state, k1, strict=True)), *args)
    k3 = derivatives(tuple(s + 0.5 * h * k for s, k in zip(state, k2, strict=True)), *args)
    k4 = derivatives(tuple(s + h * k for s, k in zip(state, k3, strict=True)), *args)
    return tuple(
        s + h / 6.0 * (a + 2.0 * b + 2.0 * c + d) for s, a, b, c, d in zip(state, k1, k2, k3, k4, strict=True)
    )
