"""How similar two networks' representations are, block by block: linear CKA.

Linear centered kernel alignment (Kornblith et al., ICML 2019) compares the features
X (n, p) and Y (n, q) of the same n inputs::

    CKA(X, Y) = ||Y_c^T X_c||_F^2 / (||X_c^T X_c||_F ||Y_c^T Y_c||_F),

with X_c, Y_c centred over the inputs. It is 1 when Y is a rotation and scaling of X and
near 0 for unrelated features, so it compares what two blocks compute, not their weights
(a block can move its weights far and compute nearly the same features, or the reverse).
"""

from __future__ import annotations

import torch
from torch import nn


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Linear CKA of features ``x`` (..., n, p) and ``y`` (..., n, q) of the same n
    inputs, per leading index (one value per seed): (...). With fewer inputs than
    features it works on the n x n Gram matrices K = X_c X_c^T, the same numbers
    (||Y_c^T X_c||_F^2 = <K_X, K_Y>_F and ||X_c^T X_c||_F = ||K_X||_F) at a fraction of
    the cost for a wide block."""
    x, y = x.double(), y.double()
    x = x - x.mean(-2, keepdim=True)
    y = y - y.mean(-2, keepdim=True)
    if x.shape[-2] < max(x.shape[-1], y.shape[-1]):
        kx, ky = x @ x.transpose(-1, -2), y @ y.transpose(-1, -2)
        cross = (kx * ky).sum((-1, -2))
    else:
        kx, ky = x.transpose(-1, -2) @ x, y.transpose(-1, -2) @ y
        cross = (y.transpose(-1, -2) @ x).square().sum((-1, -2))
    norm_x = kx.square().sum((-1, -2)).sqrt()
    norm_y = ky.square().sum((-1, -2)).sqrt()
    return (cross / (norm_x * norm_y)).float()


@torch.no_grad()
def block_outputs(blocks: nn.Sequential, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each named block's output for inputs ``x`` (S, n, ...), flattened: {name: (S, n, d)}."""
    out = {}
    for name, block in blocks.named_children():
        x = block(x)
        out[name] = x.flatten(2)
    return out


@torch.no_grad()
def block_similarity(first: nn.Sequential, last: nn.Sequential, x: torch.Tensor) -> list[dict]:
    """Per seed, the linear CKA of each named block's output in ``first`` and in ``last``
    (two copies of the same blocks) on the inputs ``x`` (S, n, ...): [{block: CKA}]."""
    a, b = block_outputs(first, x), block_outputs(last, x)
    cka = {name: linear_cka(a[name], b[name]).tolist() for name in a}
    return [{name: values[s] for name, values in cka.items()} for s in range(len(x))]
