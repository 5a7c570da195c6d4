"""Saving a bonus beside its SB3 model, atomically, in files that cannot run code when loaded.

Loading never unpickles: ``bonus.pt`` and the policy inside SB3's ``model.zip`` are read with
``torch.load(weights_only=True)`` after the archive's checksums are verified, and every error names the file.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch
from stable_baselines3.common.base_class import BaseAlgorithm

from curiosity import IntrinsicBonus
from curiosity.serialization import atomic_save

#: SB3's ``model.zip`` keeps the policy's ``state_dict`` under this name (the rest is pickled data)
POLICY_ENTRY = "policy.pth"


def save_bonus(bonus: IntrinsicBonus, path: str | os.PathLike) -> Path:
    """Write the bonus's full state (weights, optimiser, statistics, RNG) to ``path`` atomically."""
    return atomic_save({"bonus_class": type(bonus).__name__, "state": bonus.state_dict()}, path)


def load_bonus(bonus: IntrinsicBonus, path: str | os.PathLike) -> IntrinsicBonus:
    """Restore a state written by :func:`save_bonus` into ``bonus`` (built with the same settings).

    Loading uses ``torch.load(weights_only=True)``: a crafted file cannot execute code.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: a truncated, corrupted or foreign file, or one that holds another kind of bonus.
        pickle.UnpicklingError: the file holds objects other than plain data (a crafted payload).
    """
    payload = read_tensors(path)
    if not isinstance(payload, dict) or "state" not in payload:
        raise ValueError(f"{path} is not a bonus state written by agents.save_bonus")
    if payload.get("bonus_class") != type(bonus).__name__:
        raise ValueError(f"{path} holds a {payload.get('bonus_class')} state, not a {type(bonus).__name__}")
    bonus.load_state_dict(payload["state"])
    return bonus


def load_policy(model: BaseAlgorithm, path: str | os.PathLike) -> BaseAlgorithm:
    """Load the policy weights of an SB3 ``model.zip`` into ``model`` (built with the same settings).

    Only the zip's ``policy.pth`` (a tensor ``state_dict``) is read, with ``weights_only=True``; SB3's own
    ``load`` would unpickle every ``":serialized:"`` entry of the zip's ``data``, running any code planted
    there.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not an SB3 model archive, a corrupted one, or weights that do not fit ``model``.
    """
    state = read_tensors(path, entry=POLICY_ENTRY)
    try:
        model.policy.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as error:
        raise ValueError(f"{path}: the policy weights do not fit the rebuilt {type(model).__name__}: "
                         f"{str(error).splitlines()[0]}") from error  # fmt: skip
    return model


def read_tensors(path: str | os.PathLike, entry: str | None = None) -> Any:
    """``torch.load(weights_only=True)`` of a file (or of one ``entry`` of a zip) after checking its CRCs.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not a zip archive, a checksum mismatch, a missing entry or unreadable contents, with the
            file named.
        pickle.UnpicklingError: contents other than plain data (a crafted payload).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()  # torch.load itself ignores the CRCs
            if broken is not None:
                raise ValueError(f"{path} is corrupted: the checksum of its entry {broken!r} does not match")
            if entry is not None:
                names = [n for n in archive.namelist() if n == entry]
                if not names:
                    raise ValueError(f"{path} holds no {entry!r}: not a model saved by Stable-Baselines3")
                data = io.BytesIO(archive.read(entry))
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise ValueError(f"{path} is not a readable archive (empty, truncated or not written by this "
                         f"toolkit / SB3): {error}") from error  # fmt: skip
    try:
        return torch.load(data if entry is not None else path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise pickle.UnpicklingError(f"{path}: refused to load objects other than tensors and plain data "
                                     f"({str(error).splitlines()[0]})") from error  # fmt: skip
    except (RuntimeError, EOFError, ValueError, KeyError) as error:
        raise ValueError(f"{path} could not be read: {str(error).splitlines()[0]}") from error
