"""Pixel versions of the sparse tasks: the agent sees rendered frames instead of the low-dimensional state.

:class:`PixelObservation` replaces every observation by a ``uint8`` frame ``(height, width, channels)``
(64x64 RGB by default), optionally converted to grey (one channel) and stacked over the last
``frame_stack`` steps along the channel axis (``channels = 3 * frame_stack`` or ``frame_stack``), the
channel-last layout Stable-Baselines3's ``CnnPolicy`` expects. Rewards, termination and ``info`` (e.g.
``is_success``, ``position``, ``velocity``) pass through unchanged.

Registered ids (:data:`PIXEL_ENV_IDS`, keyword arguments ``width``, ``height``, ``grayscale``,
``frame_stack`` accepted by ``gym.make``):

| id | task |
| --- | --- |
| ``PixelSparseMountainCar-v0`` | ``SparseMountainCar-v0`` seen through its renderer |
| ``PixelSparseCartPoleSwingup-v0`` | ``SparseCartPoleSwingup-v0`` seen through its renderer |
| ``PixelSparseDoublePendulum-v0`` | ``SparseDoublePendulum-v0`` seen through its renderer |
| ``PixelSparseHalfCheetah-v0`` | ``SparseHalfCheetah-v0`` through its tracking camera (MuJoCo, headless) |
| ``PixelDoorKey-v0`` | MiniGrid ``MiniGrid-DoorKey-5x5-v0``, the full grid as an image |
| ``PixelMultiRoom-v0`` | MiniGrid ``MiniGrid-MultiRoom-N2-S4-v0``, the full grid as an image |

The MiniGrid tasks need the optional extra ``minigrid`` (``pip install 'vime-curiosity[minigrid]'``);
minigrid is imported only when one of them is made. Their frames come from minigrid's
``RGBImgObsWrapper`` (or ``RGBImgPartialObsWrapper`` with ``partial=True``) and ``ImgObsWrapper``, drawn
with tiles just large enough for the requested size and then resized; ``info["is_success"]`` is added
(true on the step that reaches the goal, i.e. terminates with a positive reward).

Frames from the classic-control renderers are drawn at the requested size directly (no resampling), so
a pixel task and its state task share physics, seeding and horizon (500 steps). HalfCheetah renders
offscreen (set ``MUJOCO_GL=egl`` on a machine without a display) through the camera that follows the
cheetah, as pixel-based control benchmarks do: the moving floor shows its speed, but not how far it is
from the goal at x = 5, which the agent must infer from its history.
"""

from __future__ import annotations

import collections
import math
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs._render import check_frame_size

#: side of the default square frame
DEFAULT_SIZE = 64

#: ITU-R BT.601 luma weights of the RGB channels, for greyscale frames
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

#: id -> (entry point, fixed keyword arguments)
PIXEL_ENV_IDS: dict[str, tuple[str, dict[str, Any]]] = {
    "PixelSparseMountainCar-v0": ("envs.pixels:make_pixel_env", {"env_id": "SparseMountainCar-v0"}),
    "PixelSparseCartPoleSwingup-v0": ("envs.pixels:make_pixel_env", {"env_id": "SparseCartPoleSwingup-v0"}),
    "PixelSparseDoublePendulum-v0": ("envs.pixels:make_pixel_env", {"env_id": "SparseDoublePendulum-v0"}),
    # MuJoCo's "track" camera follows the body (its default camera is fixed, and the cheetah runs out of it)
    "PixelSparseHalfCheetah-v0": (
        "envs.pixels:make_pixel_env", {"env_id": "SparseHalfCheetah-v0", "camera_name": "track"}
    ),
    "PixelDoorKey-v0": ("envs.pixels:make_minigrid_pixel_env", {"env_id": "MiniGrid-DoorKey-5x5-v0"}),
    "PixelMultiRoom-v0": ("envs.pixels:make_minigrid_pixel_env", {"env_id": "MiniGrid-MultiRoom-N2-S4-v0"}),
}

#: ids whose environments need the optional ``minigrid`` package
MINIGRID_IDS = ("PixelDoorKey-v0", "PixelMultiRoom-v0")


def register_pixel_envs() -> None:
    """Register the pixel tasks with gymnasium; calling it again is a no-op."""
    for env_id, (entry_point, kwargs) in PIXEL_ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, kwargs=dict(kwargs))


# -- frame processing ----------------------------------------------------------------------------------


def to_grayscale(frame: np.ndarray) -> np.ndarray:
    """RGB ``(H, W, 3)`` uint8 to luma ``(H, W, 1)`` uint8 (BT.601 weights, rounded)."""
    return np.rint(frame[..., :3].astype(np.float32) @ LUMA).clip(0, 255).astype(np.uint8)[..., None]


def resize_frame(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an RGB or single-channel uint8 frame ``(h, w, C)`` to ``(height, width, C)`` (bilinear, PIL).

    Returns the frame itself when it already has the requested size.
    """
    if frame.shape[:2] == (height, width):
        return frame
    from PIL import Image  # a dependency of matplotlib; imported here to keep `import envs` light

    squeeze = frame.shape[-1] == 1
    image = Image.fromarray(frame[..., 0] if squeeze else frame)
    out = np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), dtype=np.uint8)
    return out[..., None] if squeeze else out


def _check_rgb(frame: Any, source: str) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype != np.uint8:
        raise ValueError(
            f"{source} must be an RGB uint8 frame of shape (H, W, 3), got shape {frame.shape} and dtype "
            f"{frame.dtype}; make the env with render_mode='rgb_array'"
        )
    return frame


class PixelObservation(gym.Wrapper):
    """Replace observations by (resized, optionally grey, optionally stacked) ``uint8`` frames.

    Args:
        env: the environment. With ``from_render=True`` it must have ``render_mode="rgb_array"``; with
            ``from_render=False`` its observations must already be RGB frames ``(h, w, 3)`` uint8.
        width: frame width in pixels (default: the source frame's width).
        height: frame height in pixels (default: the source frame's height).
        grayscale: keep one luma channel instead of RGB.
        frame_stack: number of most recent frames concatenated along the channel axis (oldest first);
            after a reset the first frame is repeated.
        from_render: take frames from ``env.render()`` (True) or from the observations (False).

    Observation space: ``Box(0, 255, (height, width, channels * frame_stack), uint8)``, ``channels`` 1 or 3.

    Raises:
        ValueError: a non-positive size or ``frame_stack``, a ``render_mode`` other than ``"rgb_array"``,
            or frames that are not RGB uint8.
    """

    def __init__(
        self,
        env: gym.Env,
        *,
        width: int | None = None,
        height: int | None = None,
        grayscale: bool = False,
        frame_stack: int = 1,
        from_render: bool = True,
    ) -> None:
        super().__init__(env)
        if isinstance(frame_stack, bool) or not isinstance(frame_stack, (int, np.integer)) or frame_stack < 1:
            raise ValueError(f"frame_stack must be an integer >= 1, got {frame_stack!r}")
        if from_render and env.render_mode != "rgb_array":
            raise ValueError(
                f"PixelObservation renders frames: make the env with render_mode='rgb_array', got "
                f"render_mode={env.render_mode!r}"
            )
        self.grayscale, self.frame_stack, self.from_render = bool(grayscale), int(frame_stack), from_render
        source_height, source_width = self._source_size()
        self.height = int(height) if height is not None else source_height
        self.width = int(width) if width is not None else source_width
        check_frame_size(self.width, self.height)
        channels = (1 if self.grayscale else 3) * self.frame_stack
        self.observation_space = spaces.Box(0, 255, (self.height, self.width, channels), np.uint8)
        self._frames: collections.deque[np.ndarray] = collections.deque(maxlen=self.frame_stack)

    def _source_size(self) -> tuple[int, int]:
        """``(height, width)`` of the source frames, known before the first reset."""
        if self.from_render:
            base = self.env.unwrapped
            if not (hasattr(base, "height") and hasattr(base, "width")):
                raise ValueError(f"cannot tell the frame size of {base}: pass width and height")
            return int(base.height), int(base.width)
        shape = self.env.observation_space.shape
        if shape is None or len(shape) != 3 or shape[-1] != 3:
            raise ValueError(
                f"with from_render=False the observations must be RGB frames (h, w, 3), got space "
                f"{self.env.observation_space}"
            )
        return int(shape[0]), int(shape[1])

    def _source_frame(self, obs: Any) -> np.ndarray:
        if self.from_render:
            return _check_rgb(self.env.render(), "env.render()")
        return _check_rgb(obs, "the observation")

    def frame(self, obs: Any = None) -> np.ndarray:
        """The processed frame ``(height, width, 1 or 3)``; ``obs`` is its source when not rendering."""
        frame = resize_frame(self._source_frame(obs), self.height, self.width)
        return to_grayscale(frame) if self.grayscale else frame

    def _observation(self) -> np.ndarray:
        return np.concatenate(tuple(self._frames), axis=-1)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        first = self.frame(obs)
        self._frames.clear()
        self._frames.extend([first] * self.frame_stack)
        return self._observation(), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._frames.append(self.frame(obs))
        return self._observation(), reward, terminated, truncated, info


class SuccessInfo(gym.Wrapper):
    """Adds ``info["is_success"]``: true on a step ending the episode with a positive reward (MiniGrid)."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        return obs, {**info, "is_success": False}

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, {**info, "is_success": bool(terminated and reward > 0)}


# -- factories (the registered entry points) -----------------------------------------------------------


def make_pixel_env(
    env_id: str,
    *,
    width: int = DEFAULT_SIZE,
    height: int = DEFAULT_SIZE,
    grayscale: bool = False,
    frame_stack: int = 1,
    **env_kwargs: Any,
) -> gym.Env:
    """A registered task that renders ``rgb_array`` frames (the toolkit's classic tasks) seen as pixels.

    The task is made with ``gym.make(env_id, render_mode="rgb_array", width=width, height=height)``, so
    its renderer draws frames of the requested size (its horizon and checks come with it).

    Args:
        env_id: the state-based task, e.g. ``"SparseMountainCar-v0"``.
        width: frame width in pixels.
        height: frame height in pixels.
        grayscale: one luma channel instead of RGB.
        frame_stack: frames stacked along the channel axis.
        **env_kwargs: further keyword arguments of the task.

    Returns:
        The wrapped environment, observations ``(height, width, C)`` uint8.

    Raises:
        ValueError: bad sizes or ``frame_stack``.
    """
    check_frame_size(width, height)
    env = gym.make(env_id, render_mode="rgb_array", width=width, height=height, **env_kwargs)
    return PixelObservation(env, grayscale=grayscale, frame_stack=frame_stack)


def make_minigrid_pixel_env(
    env_id: str,
    *,
    width: int = DEFAULT_SIZE,
    height: int = DEFAULT_SIZE,
    grayscale: bool = False,
    frame_stack: int = 1,
    partial: bool = False,
    tile_size: int | None = None,
    **env_kwargs: Any,
) -> gym.Env:
    """A MiniGrid task as images: the whole grid (or the agent's view) drawn as RGB, then resized.

    Args:
        env_id: a MiniGrid id, e.g. ``"MiniGrid-DoorKey-5x5-v0"``.
        width: frame width in pixels.
        height: frame height in pixels.
        grayscale: one luma channel instead of RGB.
        frame_stack: frames stacked along the channel axis.
        partial: the agent's egocentric 7x7 view (``RGBImgPartialObsWrapper``) instead of the full grid.
        tile_size: pixels per grid cell before resizing (default: the smallest that reaches the size).
        **env_kwargs: further keyword arguments of the MiniGrid environment.

    Returns:
        The wrapped environment: observations ``(height, width, C)`` uint8, ``Discrete(7)`` actions,
        ``info["is_success"]``.

    Raises:
        ImportError: minigrid is not installed (the optional extra ``minigrid``).
        ValueError: bad sizes or ``frame_stack``.
    """
    check_frame_size(width, height)
    try:
        import minigrid  # noqa: F401  (registers the MiniGrid ids)
        from minigrid.wrappers import ImgObsWrapper, RGBImgObsWrapper, RGBImgPartialObsWrapper
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            f"{env_id} needs the optional package minigrid: pip install 'vime-curiosity[minigrid]' "
            "(or pip install minigrid)"
        ) from exc
    env = gym.make(env_id, **env_kwargs)
    if tile_size is None:
        cells_w, cells_h = (7, 7) if partial else (env.unwrapped.width, env.unwrapped.height)
        tile_size = max(1, math.ceil(width / cells_w), math.ceil(height / cells_h))
    image_wrapper = RGBImgPartialObsWrapper if partial else RGBImgObsWrapper
    env = SuccessInfo(ImgObsWrapper(image_wrapper(env, tile_size=tile_size)))
    return PixelObservation(
        env, width=width, height=height, grayscale=grayscale, frame_stack=frame_stack, from_render=False
    )
