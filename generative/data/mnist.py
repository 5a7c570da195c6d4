"""MNIST from the standard IDX files: read from a directory, downloaded when missing and possible.

The four files (``train-images-idx3-ubyte.gz`` ...) may be gzip-compressed or not. The default
directory is ``$MNIST_DIR`` if set, else ``../shared/data/mnist`` (where these machines keep a copy),
else ``~/.cache/vime-curiosity/mnist``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import urllib.request
from pathlib import Path

import numpy as np
import torch

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# MD5 of the uncompressed files of the official release.
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/")


def default_mnist_dir() -> Path:
    """The directory searched when none is given (see module docstring)."""
    if os.environ.get("MNIST_DIR"):
        return Path(os.environ["MNIST_DIR"])
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        shared = base.parent / "shared" / "data" / "mnist"
        if shared.is_dir():
            return shared
    return Path.home() / ".cache" / "vime-curiosity" / "mnist"


def _read_idx(raw: bytes, name: str) -> np.ndarray:
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    if magic >> 8 != 0x08 or ndim not in (1, 3):
        raise ValueError(f"{name} is not an IDX file of unsigned bytes (magic {magic:#x})")
    shape = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{name} is truncated: expected {int(np.prod(shape))} values, found {data.size}")
    return data.reshape(shape)


def _find(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def _download(directory: Path, stem: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    errors = []
    for mirror in MIRRORS:
        target = directory / f"{stem}.gz"
        try:
            with urllib.request.urlopen(mirror + stem + ".gz", timeout=30) as response:
                payload = response.read()
            if hashlib.md5(gzip.decompress(payload)).hexdigest() != MD5[stem]:
                raise ValueError("checksum mismatch")
            tmp = target.with_suffix(".part")
            tmp.write_bytes(payload)
            tmp.replace(target)
            return target
        except Exception as exc:  # network errors, HTTP errors, bad checksum: try the next mirror
            errors.append(f"{mirror}: {exc}")
    raise FileNotFoundError(
        f"MNIST file {stem} is not in {directory} and could not be downloaded ({'; '.join(errors)}). "
        "Put the four IDX files there, or set MNIST_DIR to a directory that holds them."
    )


def load_mnist(
    split: str = "train", directory: str | os.PathLike | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load an MNIST split.

    Args:
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000 images).
        directory: where the IDX files are (or go); defaults to :func:`default_mnist_dir`.
        download: fetch missing files from the public mirrors.

    Returns:
        ``(images, labels)``: ``uint8`` tensors of shapes ``(N, 28, 28)`` and ``(N,)``.

    Raises:
        ValueError: unknown split, or a file that is not a valid IDX file.
        FileNotFoundError: a file is missing and could not be downloaded.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    directory = Path(directory) if directory is not None else default_mnist_dir()
    arrays = []
    for kind in ("images", "labels"):
        stem = FILES[f"{split}_{kind}"]
        path = _find(directory, stem)
        if path is None:
            if not download:
                raise FileNotFoundError(f"MNIST file {stem}(.gz) not found in {directory} (download=False)")
            path = _download(directory, stem)
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        arrays.append(_read_idx(raw, path.name))
    images, labels = arrays
    if len(images) != len(labels):
        raise ValueError(f"MNIST {split}: {len(images)} images but {len(labels)} labels")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))
