"""The shared test env and bonus (``tests/fakes.py``) as fixtures for the SB3-glue tests."""

import pytest
import torch

from tests.fakes import CounterEnv, NextObsBonus


@pytest.fixture
def counter_env():
    return CounterEnv


@pytest.fixture
def next_obs_bonus():
    return NextObsBonus


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
