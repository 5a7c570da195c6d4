"""Device resolution and device-independent states (curiosity.runtime, curiosity.serialization)."""

from collections import OrderedDict

import pytest
import torch

from curiosity.runtime import resolve_device
from curiosity.serialization import to_cpu


def fake_cuda(monkeypatch, available: bool, count: int = 1) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count if available else 0)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)


def test_auto_is_the_cpu_without_cuda_and_the_current_gpu_with_it(monkeypatch):
    fake_cuda(monkeypatch, available=False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device() == torch.device("cpu")
    fake_cuda(monkeypatch, available=True, count=2)
    assert resolve_device("auto") == torch.device("cuda", 0)
    assert resolve_device("cuda") == torch.device("cuda", 0)
    assert resolve_device(" CUDA:1 ") == torch.device("cuda", 1)
    assert resolve_device(torch.device("cuda", 1)) == torch.device("cuda", 1)


@pytest.mark.parametrize("device", ["cpu", "CPU", torch.device("cpu")])
def test_the_cpu_can_be_named_either_way(device):
    assert resolve_device(device) == torch.device("cpu")


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "mps", "", torch.device("meta")])
def test_unknown_devices_are_refused_with_the_accepted_ones(device):
    with pytest.raises(ValueError, match=r"device must be 'auto' \(CUDA when available, else CPU\), 'cpu', "
                                         r"'cuda', 'cuda:N' or a torch.device, got"):  # fmt: skip
        resolve_device(device)


def test_a_device_that_is_not_a_name_is_a_type_error():
    with pytest.raises(TypeError, match=r"device must be .* got a int: 1"):
        resolve_device(1)


def test_cuda_that_this_machine_lacks_is_refused(monkeypatch):
    fake_cuda(monkeypatch, available=False)
    with pytest.raises(ValueError, match="device 'cuda' asks for CUDA, which is not available here"):
        resolve_device("cuda")
    fake_cuda(monkeypatch, available=True, count=1)
    with pytest.raises(ValueError, match="device 'cuda:3' asks for CUDA device 3, but this machine has 1"):
        resolve_device("cuda:3")


def test_to_cpu_keeps_cpu_states_as_they_are():
    state = {"a": torch.ones(2), "b": [torch.zeros(1), (3, "x")], "c": OrderedDict(w=torch.ones(1))}
    assert to_cpu(state) is state  # nothing to move: nothing copied


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_to_cpu_moves_a_cuda_module_state_and_keeps_its_metadata():
    module = torch.nn.BatchNorm1d(3).cuda()
    state = to_cpu({"module": module.state_dict(), "steps": [torch.ones(1, device="cuda"), 4]})
    assert all(t.device.type == "cpu" for t in state["module"].values())
    assert state["module"]._metadata == module.state_dict()._metadata
    assert state["steps"][0].device.type == "cpu" and state["steps"][1] == 4
    torch.nn.BatchNorm1d(3).load_state_dict(state["module"])
