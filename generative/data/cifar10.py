"""CIFAR-10 from the standard python batches (``cifar-10-batches-py``), downloaded when missing and possible.

The default directory is ``$CIFAR10_DIR`` if set, else ``../shared/data/cifar10``, else
``~/.cache/vime-curiosity/cifar10``; the batches are looked for in it or in its ``cifar-10-batches-py``
sub-folder. The pickles are read with a restricted unpickler that only rebuilds numpy arrays, lists,
dicts, strings and numbers.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
import urllib.request
from pathlib import Path

import numpy as np
import torch

__all__ = ["default_cifar10_dir", "load_cifar10"]

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR-10 batch file")


def default_cifar10_dir() -> Path:
    """The directory searched when none is given (see module docstring)."""
    if os.environ.get("CIFAR10_DIR"):
        return Path(os.environ["CIFAR10_DIR"])
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        shared = base.parent / "shared" / "data" / "cifar10"
        if shared.is_dir():
            return shared
    return Path.home() / ".cache" / "vime-curiosity" / "cifar10"


def _batch_dir(directory: Path) -> Path | None:
    for candidate in (directory / "cifar-10-batches-py", directory):
        if (candidate / "test_batch").is_file():
            return candidate
    return None


def _download(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(URL, timeout=60) as response:
            payload = response.read()
    except Exception as exc:
        raise FileNotFoundError(
            f"CIFAR-10 is not in {directory} and could not be downloaded from {URL} ({exc}). Put the "
            "extracted 'cifar-10-batches-py' folder there, or set CIFAR10_DIR to a directory that holds it."
        ) from exc
    if hashlib.md5(payload).hexdigest() != MD5:
        raise ValueError(f"the CIFAR-10 archive from {URL} has a bad checksum; try again")
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        tar.extractall(directory, filter="data")
    return directory / "cifar-10-batches-py"


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One python batch file -> ``(uint8 images (n, 3, 32, 32), int64 labels (n,))``."""
    with open(path, "rb") as f:
        entry = _NumpyOnlyUnpickler(f, encoding="bytes").load()
    data = entry.get(b"data", entry.get("data"))
    labels = entry.get(b"labels", entry.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path} is not a CIFAR-10 python batch (no 'data'/'labels' entries)")
    images = np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32)
    return images, np.asarray(labels, dtype=np.int64)


def load_cifar10(
    split: str = "train", directory: str | os.PathLike | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load a CIFAR-10 split.

    Args:
        split: ``"train"`` (50,000 images) or ``"test"`` (10,000 images).
        directory: where ``cifar-10-batches-py`` is (or goes); defaults to :func:`default_cifar10_dir`.
        download: fetch and extract the archive when missing.

    Returns:
        ``(images, labels)``: ``uint8 (N, 3, 32, 32)`` and ``int64 (N,)`` tensors.

    Raises:
        ValueError: unknown split or a malformed file.
        FileNotFoundError: the batches are missing and could not be downloaded.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    directory = Path(directory) if directory is not None else default_cifar10_dir()
    folder = _batch_dir(directory)
    if folder is None:
        if not download:
            raise FileNotFoundError(f"CIFAR-10 python batches not found in {directory} (download=False)")
        folder = _download(directory)
    parts = [read_batch(folder / name) for name in (TRAIN_FILES if split == "train" else TEST_FILES)]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return torch.from_numpy(images), torch.from_numpy(labels)
