"""rllab's horizon: a path cut at ``max_path_length`` is treated as finished, with no value beyond it."""

from __future__ import annotations

from stable_baselines3.common.vec_env import VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

#: the info key by which SB3's on-policy algorithms recognise a time-limit truncation
TRUNCATED_KEY = "TimeLimit.truncated"


class HorizonAsTermination(VecEnvWrapper):
    """Hides time-limit truncations from SB3, so that it does not bootstrap the value at the horizon.

    SB3's on-policy algorithms add ``gamma * V(s_T)`` to the last reward of an episode cut by a time limit.
    rllab (and so the VIME paper) did not: its GAE appended a value of 0 after the last step of every path
    (``batch_polopt_expl.py``: ``np.append(self.baseline.predict(path), 0)``), and its baselines were fitted
    on plain discounted sums of the path's rewards. On a sparse task the difference is not small: before
    any reward, SB3's bootstrapped value of a randomly initialised critic acts as a random reward at the
    horizon, which shapes the policy; rllab's returns are all zero. The true final observation stays in
    ``info["terminal_observation"]`` for exploration bonuses.
    """

    def reset(self):
        return self.venv.reset()

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        for info in infos:
            if info.get(TRUNCATED_KEY):
                info[TRUNCATED_KEY] = False
        return obs, rewards, dones, infos
