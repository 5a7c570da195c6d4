"""How hard the sparse tasks are: ``python -m benchmarks.tasks.random_policy`` scores random policies."""
