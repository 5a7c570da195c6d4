"""The SB3 callback that trains the bonus on schedule, logs it, and (rollout mode) rewrites rollouts."""

from __future__ import annotations

from collections import deque

import numpy as np
import torch
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecNormalize

from agents.replay_buffer import CuriosityReplayBuffer
from agents.vec_env import EPISODE_KEY, CuriosityVecEnv, episodic_kwargs


class CuriosityCallback(BaseCallback):
    """Trains the bonus of the model's :class:`CuriosityVecEnv` and logs through SB3's logger.

    Schedule: after each rollout for on-policy algorithms (PPO, A2C, TRPO, MaskablePPO, RecurrentPPO);
    every ``train_freq`` environment steps for off-policy ones (SAC, TD3, DQN). Before each training, the
    raw bonuses seen since the last one are folded into the bonus's normalisation statistics (VIME: one
    batch median per training iteration, as in the paper).

    In the wrapper's ``"rollout"`` mode (on-policy only) the bonuses of the whole rollout are computed at
    its end, added to ``rollout_buffer.rewards``, and returns and advantages recomputed with GAE from the
    value of the state after the rollout's last step (:func:`rollout_end_values`); the transitions are then
    added to the bonus's pool and the bonus trained.

    Logged: ``rollout/ep_ext_rew_mean``, ``rollout/ep_int_rew_mean`` (episode returns, extrinsic and
    intrinsic, over the last 100 episodes; in rollout mode an episode's intrinsic return is known once the
    rollout that ends it is rewritten), ``curiosity/bonus_mean``, ``curiosity/bonus_max``,
    ``curiosity/raw_bonus_median``, ``curiosity/eta`` and the bonus's training metrics as
    ``curiosity/<name>``. A bonus whose ``eta`` is a schedule (SB3's convention) follows the algorithm's
    progress: the callback hands it ``_current_progress_remaining`` at every step.

    Args:
        train_freq: environment steps between trainings for off-policy algorithms (default 5,000, the
            VIME batch size); ignored for on-policy algorithms.
        value_targets: rollout mode: what the value function is fitted to. ``"augmented"`` (default):
            returns of the extrinsic plus intrinsic reward, as SB3 does for any reward. ``"extrinsic"``:
            returns of the extrinsic reward alone, while the advantages still use the augmented reward
            (openai/vime ``batch_polopt_expl.py``: the baseline is fitted on ``rewards_orig``), so the
            bonus enters the policy gradient only through the TD errors.
        verbose: SB3 verbosity.

    Raises:
        ValueError: no :class:`CuriosityVecEnv` under the model's env, a mode the algorithm cannot use,
            ``VecNormalize(norm_reward=True)`` above the wrapper outside step mode, or a non-positive
            ``train_freq``.
    """

    def __init__(self, train_freq: int = 5000, value_targets: str = "augmented", verbose: int = 0) -> None:
        super().__init__(verbose)
        if int(train_freq) != train_freq or train_freq < 1:
            raise ValueError(f"train_freq must be a positive integer, got {train_freq!r}")
        if value_targets not in ("augmented", "extrinsic"):
            raise ValueError(f"value_targets must be 'augmented' or 'extrinsic', got {value_targets!r}")
        self.train_freq = int(train_freq)
        self.value_targets = value_targets
        self.ext_returns: deque[float] = deque(maxlen=100)
        self.int_returns: deque[float] = deque(maxlen=100)
        self._int_running = np.zeros(0)  # rollout mode: intrinsic return so far of each env's episode
        #: rollout mode: per env, the intrinsic returns of its finished episodes, oldest first, until an
        #: :class:`~agents.recorder.EpisodeRecorder` takes them (bounded: without one they are dropped)
        self.episode_intrinsic_returns: list[deque[float]] = []
        self.rollouts_rewritten = 0  # rollout mode: rollouts whose bonuses are in the buffer (and summed)
        self._last_train_step = 0
        self.wrapper: CuriosityVecEnv

    def _init_callback(self) -> None:
        self.wrapper = find_curiosity_wrapper(self.training_env)
        mode = self.wrapper.mode
        if mode == "rollout" and not isinstance(self.model, OnPolicyAlgorithm):
            raise ValueError("the 'rollout' mode needs an on-policy algorithm (PPO, A2C, TRPO, ...)")
        if self.value_targets == "extrinsic" and mode != "rollout":
            raise ValueError(
                "value_targets='extrinsic' needs the wrapper's 'rollout' mode (in the other "
                f"modes the bonus is in the rewards before returns are computed); got {mode!r}"
            )
        if mode != "step" and _normalizes_reward_above(self.training_env, self.wrapper):
            raise ValueError(
                f"VecNormalize(norm_reward=True) above CuriosityVecEnv in {mode!r} mode would scale the "
                "extrinsic reward but not the bonus added after it; use VecNormalize(..., "
                "norm_reward=False), or the wrapper's mode='step' (VecNormalize then scales both together)"
            )
        if mode == "relabel":
            buffer = getattr(self.model, "replay_buffer", None)
            if not isinstance(buffer, CuriosityReplayBuffer):
                raise ValueError(
                    "the 'relabel' mode needs an off-policy algorithm built with "
                    "replay_buffer_class=agents.CuriosityReplayBuffer"
                )
            buffer.attach(self.wrapper.bonus)
        self._int_running = np.zeros(self.wrapper.num_envs)
        self.episode_intrinsic_returns = [deque(maxlen=1000) for _ in range(self.wrapper.num_envs)]
        self._last_train_step = self.model.num_timesteps  # a resumed run keeps the bonus's training cadence
        self.wrapper.callback_attached = True

    def _on_training_end(self) -> None:
        self.wrapper.callback_attached = False

    def _on_rollout_start(self) -> None:
        # SB3 empties its rollout buffer here (collect_rollouts: rollout_buffer.reset()); a rollout cut short
        # by a callback that stopped training must not be stitched to the next one
        self.wrapper.rollout.clear()

    def _on_step(self) -> bool:
        self.wrapper.bonus.set_progress(self.model._current_progress_remaining)  # a scheduled eta follows
        for info in self.locals.get("infos", []):
            episode = info.get(EPISODE_KEY)
            if episode is not None:
                self.ext_returns.append(episode["r_ext"])
                if np.isfinite(episode["r_int"]):  # NaN: not known at step time (rollout/relabel modes)
                    self.int_returns.append(episode["r_int"])
        due = self.num_timesteps - self._last_train_step >= self.train_freq
        if due and isinstance(self.model, OffPolicyAlgorithm):
            self._train()
        return True

    def _on_rollout_end(self) -> None:
        self.wrapper.bonus.set_progress(self.model._current_progress_remaining)
        self.logger.record("curiosity/eta", self.wrapper.bonus.eta)
        if isinstance(self.model, OnPolicyAlgorithm):
            if self.wrapper.mode == "rollout":
                self._rewrite_rollout()
            self._train()
        if self.ext_returns:
            self.logger.record("rollout/ep_ext_rew_mean", float(np.mean(self.ext_returns)))
        if self.int_returns:
            self.logger.record("rollout/ep_int_rew_mean", float(np.mean(self.int_returns)))

    def _train(self) -> None:
        """Fold the recent raw bonuses into the normaliser, then train the bonus and log."""
        bonus = self.wrapper.bonus
        raw = self.wrapper.take_pending_raw()
        if len(raw):
            bonus.normalize(raw, update=True)
            self.logger.record("curiosity/raw_bonus_median", float(np.median(raw)))
        for name, value in bonus.train().items():
            self.logger.record(f"curiosity/{name}", value)
        self._last_train_step = self.num_timesteps

    def _rewrite_rollout(self) -> None:
        """Original VIME semantics: bonuses for the whole rollout at once, then GAE recomputed."""
        bonus, buffer = self.wrapper.bonus, self.model.rollout_buffer
        obs, actions, next_obs, dones = self.wrapper.take_rollout()  # (n_steps, n_envs, ...)
        n_steps, n_envs = obs.shape[:2]
        if (n_steps, n_envs) != buffer.rewards.shape:
            raise RuntimeError(
                f"the wrapper stored {n_steps}x{n_envs} transitions but the rollout buffer holds "
                f"{buffer.rewards.shape}: are other wrappers skipping steps?"
            )
        last_values, last_dones = rollout_end_values(self.model)
        check_same_returns(buffer, last_values, last_dones, type(self.model).__name__)
        extrinsic_returns = buffer.returns.copy()  # the algorithm computed them from the extrinsic rewards
        flat = [x.reshape(n_steps * n_envs, *x.shape[2:]) for x in (obs, actions, next_obs)]
        episodes = episodic_kwargs(bonus, dones)  # (n_steps, n_envs): the rows are time-major
        intrinsic = bonus(*flat, update_stats=True, **episodes).reshape(n_steps, n_envs)
        buffer.rewards += intrinsic.astype(buffer.rewards.dtype)
        buffer.compute_returns_and_advantage(last_values=last_values, dones=last_dones)
        if self.value_targets == "extrinsic":
            buffer.returns[:] = extrinsic_returns
        bonus.add(*flat, **episodes)
        self._track_intrinsic_returns(intrinsic, dones)
        self.rollouts_rewritten += 1
        self.logger.record("curiosity/bonus_mean", float(intrinsic.mean()))
        self.logger.record("curiosity/bonus_max", float(intrinsic.max()))

    def _track_intrinsic_returns(self, intrinsic: np.ndarray, dones: np.ndarray) -> None:
        """Sum each env's bonuses over its episode (episodes span rollouts); keep the finished sums."""
        for step_bonus, step_dones in zip(intrinsic, dones, strict=True):
            self._int_running += step_bonus
            for i in np.flatnonzero(step_dones):
                self.int_returns.append(float(self._int_running[i]))
                self.episode_intrinsic_returns[i].append(float(self._int_running[i]))
                self._int_running[i] = 0.0


def rollout_end_values(model: OnPolicyAlgorithm) -> tuple[torch.Tensor, np.ndarray]:
    """V(s_T) and the dones of the step that ended the rollout, as ``collect_rollouts`` computed them.

    SB3 calls ``on_rollout_end`` after ``compute_returns_and_advantage``; PPO, A2C and TRPO hand their last
    values to callbacks in ``locals``, but sb3-contrib's MaskablePPO and RecurrentPPO do not refresh the
    locals, which then hold V(s_{T-1}). So the values are computed here, from the state every on-policy
    algorithm keeps after a rollout (``_last_obs``, ``_last_episode_starts`` and, for recurrent policies,
    ``_last_lstm_states``): the one place that reads SB3's internals (:func:`check_same_returns` and a test
    fail if they change).
    """
    last_obs, dones = rollout_end_state(model)
    obs = obs_as_tensor(last_obs, model.device)
    with torch.no_grad():
        if isinstance(model.policy, RecurrentActorCriticPolicy):
            starts = torch.tensor(dones, dtype=torch.float32, device=model.device)
            values = model.policy.predict_values(obs, model._last_lstm_states.vf, starts)
        else:
            values = model.policy.predict_values(obs)
    return values, dones


def rollout_end_state(model: OnPolicyAlgorithm) -> tuple[np.ndarray, np.ndarray]:
    """The observation after a rollout's last step and that step's dones, ``(n_envs, ...)`` and ``(n_envs,)``
    (SB3's ``_last_obs`` and ``_last_episode_starts``; read here only, see :func:`rollout_end_values`)."""
    return np.asarray(model._last_obs), np.asarray(model._last_episode_starts, dtype=bool)


def check_same_returns(
    buffer: RolloutBuffer, last_values: torch.Tensor, dones: np.ndarray, algo: str
) -> None:
    """Recompute the returns of the unchanged rollout and compare them with the algorithm's own.

    Proves that ``last_values`` are the ones the algorithm used, so the rewrite recomputes GAE correctly
    (an algorithm whose rollouts end differently is refused rather than given wrong returns).

    Raises:
        ValueError: the returns differ.
    """
    returns = buffer.returns.copy()
    buffer.compute_returns_and_advantage(last_values=last_values, dones=dones)
    if not np.allclose(buffer.returns, returns, rtol=1e-5, atol=1e-6):
        raise ValueError(
            f"CuriosityCallback cannot reproduce {algo}'s returns from the value after its rollout, so its "
            "'rollout' mode would give wrong advantages; use the wrapper's mode='step' with this algorithm"
        )


def _normalizes_reward_above(env: VecEnv | None, wrapper: CuriosityVecEnv) -> bool:
    """Whether a ``VecNormalize(norm_reward=True)`` sits between ``env`` (the top) and ``wrapper``."""
    while env is not None and env is not wrapper:
        if isinstance(env, VecNormalize) and env.norm_reward:
            return True
        env = env.venv if isinstance(env, VecEnvWrapper) else None
    return False


def find_curiosity_wrapper(env: VecEnv | None) -> CuriosityVecEnv:
    """The :class:`CuriosityVecEnv` in a stack of VecEnv wrappers."""
    while env is not None:
        if isinstance(env, CuriosityVecEnv):
            return env
        env = env.venv if isinstance(env, VecEnvWrapper) else None
    raise ValueError("no CuriosityVecEnv found: wrap the training env, e.g. CuriosityVecEnv(venv, bonus)")
