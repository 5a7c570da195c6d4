"""Speed and memory benchmarks: the batched information gain (``infogain_speed``, ``gpu_check``), VIME's cost
inside PPO (``overhead``), a long run's memory (``memory``) and the cost of pixel observations
(``pixel_cost``). Each is a ``python -m benchmarks.speed.NAME`` command writing
``benchmarks/results/NAME.json``."""
