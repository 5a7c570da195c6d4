"""Image observations: frame preprocessing."""

from __future__ import annotations

import torch

from curiosity.images import ImagePreprocessor


def test_preprocessing_scales_frames_and_leaves_float_inputs_untouched() -> None:
    pre = ImagePreprocessor((4, 4, 3), scale=0.5)  # channel-last
    floats = torch.arange(48, dtype=torch.float32).reshape(1, 4, 4, 3)
    before = floats.clone()
    torch.testing.assert_close(pre(floats), before.permute(0, 3, 1, 2) * 0.5)
    torch.testing.assert_close(floats, before)  # scaled out of place: the caller's tensor is its own
    frames = torch.arange(48, dtype=torch.uint8).reshape(1, 4, 4, 3)
    torch.testing.assert_close(pre(frames), before.permute(0, 3, 1, 2) * 0.5)
