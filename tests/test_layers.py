"""The seed-axis layers: each seed's slice is the convolution (BatchNorm, network) of its
own weights, and a seed computes bit-identical numbers alone (S = 1) or beside others,
for every convolution shape the package uses and on each of ATen's CPU kernels."""

import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from cl_teach.layers import (
    IM2COL_MAX_MACS,
    BatchNorm2d,
    Conv2d,
    channel_major,
    from_channel_major,
)
from cl_teach.models import IncrementalNet, make_backbone

#: every convolution of the package's backbones: (name, c_in, c_out, kernel, stride,
#: padding, image size, batch), at a training batch (a small one for the large images)
CONVS = [
    ("cnn_narrow stem, digits", 1, 4, 3, 1, 1, 8, 32),
    ("cnn_narrow stage 1, digits", 4, 8, 3, 2, 1, 8, 32),
    ("cnn_narrow stage 2, digits", 8, 16, 3, 2, 1, 4, 32),
    ("cnn stem, digits", 1, 8, 3, 1, 1, 8, 64),
    ("cnn stage 1, digits", 8, 16, 3, 2, 1, 8, 64),
    ("cnn stage 2, digits, a test batch", 16, 32, 3, 2, 1, 4, 359),
    ("cnn width 32, stage 1, digits", 32, 64, 3, 2, 1, 8, 64),
    ("cnn stem, MNIST", 1, 8, 3, 1, 1, 28, 32),
    ("cnn stage 1, MNIST", 8, 16, 3, 2, 1, 28, 16),
    ("resnet32 stem, CIFAR", 3, 16, 3, 1, 1, 32, 4),
    ("resnet32 stage 2, stride 2", 16, 32, 3, 2, 1, 32, 4),
    ("resnet32 stage 3", 64, 64, 3, 1, 1, 8, 4),
    ("resnet18 stem, CIFAR", 3, 64, 3, 1, 1, 32, 2),
    ("resnet18 layer 2, stride 2", 64, 128, 3, 2, 1, 32, 2),
    ("resnet18 1x1 shortcut, stride 2", 64, 128, 1, 2, 0, 32, 2),
    ("resnet18 ImageNet stem, 7x7 stride 2", 3, 64, 7, 2, 3, 32, 2),
    ("a 1x1 convolution, stride 1", 4, 4, 1, 1, 0, 6, 8),
]
IDS = [c[0] for c in CONVS]


@pytest.fixture(autouse=True)
def one_thread():
    """Runs use one CPU thread (``experiment.one_thread_on_cpu``); with more, a kernel may
    split its work by the sizes of all seeds together."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _gens(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def _conv(c_in, c_out, k, stride, padding, seeds, bias=False):
    return Conv2d(c_in, c_out, k, _gens(seeds), stride, padding, bias=bias)


def _inputs(S, B, c, size):
    """Per seed its own images; seed s's are the same whatever S is."""
    return torch.stack(
        [
            torch.randn(B, c, size, size, generator=torch.Generator().manual_seed(s))
            for s in range(S)
        ]
    )


def _forward_backward(layer, x):
    """The layer's output, and the gradients of a fixed random function of it."""
    x = x.clone().requires_grad_()
    y = layer(x)
    g = torch.randn(y.shape[1:], generator=torch.Generator().manual_seed(7)).expand_as(y)
    grads = torch.autograd.grad(y, [x, *layer.parameters()], g)
    return y.detach(), grads


@pytest.mark.parametrize("name,c_in,c_out,k,stride,padding,size,B", CONVS, ids=IDS)
def test_a_seed_convolves_the_same_alone_or_beside_others(
    name, c_in, c_out, k, stride, padding, size, B
):
    beside = _conv(c_in, c_out, k, stride, padding, [0, 1, 2], bias=True)
    alone = _conv(c_in, c_out, k, stride, padding, [2], bias=True)
    x = _inputs(3, B, c_in, size)
    y3, grads3 = _forward_backward(beside, x)
    y1, grads1 = _forward_backward(alone, x[2:])
    assert torch.equal(y3[2:], y1)
    for g3, g1 in zip(grads3, grads1, strict=True):
        assert torch.equal(g3[2:], g1)  # input, weight and bias gradients


@pytest.mark.parametrize("name,c_in,c_out,k,stride,padding,size,B", CONVS, ids=IDS)
def test_each_seeds_slice_is_its_own_convolution(name, c_in, c_out, k, stride, padding, size, B):
    conv = _conv(c_in, c_out, k, stride, padding, [0, 1], bias=True)
    x = _inputs(2, B, c_in, size)
    y, (gx, gw, gb) = _forward_backward(conv, x)
    for s in range(2):
        xs, ws, bs = (t[s].detach().clone().requires_grad_() for t in (x, conv.weight, conv.bias))
        ys = F.conv2d(xs, ws, bs, stride, padding)
        g = torch.randn(ys.shape, generator=torch.Generator().manual_seed(7))
        ys.backward(g)
        for mine, torchs in (
            (y[s], ys.detach()),
            (gx[s], xs.grad),
            (gw[s], ws.grad),
            (gb[s], bs.grad),
        ):
            # sums over a batch of images round differently in another order
            assert (mine - torchs).abs().max() <= 1e-5 * torchs.abs().max()


def test_both_computations_are_covered():
    """The digits' convolutions run as im2col + a batched product, the large ones per seed."""
    macs = {
        c[0]: c[2] * c[1] * c[3] ** 2 * ((c[6] + 2 * c[5] - c[3]) // c[4] + 1) ** 2 for c in CONVS
    }
    assert macs["cnn stage 1, digits"] <= IM2COL_MAX_MACS < macs["resnet32 stage 3"]


#: how a layer may find its input stored: as made, channel-major (after im2col), batch first
#: (after F.conv2d per seed)
LAYOUTS = {
    "contiguous": lambda x: x,
    "channel-major": lambda x: from_channel_major(channel_major(x)),
    "batch-first": lambda x: x.transpose(0, 1).contiguous().transpose(0, 1),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_a_seed_batch_normalises_the_same_alone_or_beside_others(training, layout):
    x = _inputs(3, 16, 8, 4)
    beside, alone = BatchNorm2d(8, _gens([0, 1, 2])), BatchNorm2d(8, _gens([2]))
    for bn in (beside, alone):
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(1))
            bn.running_var.fill_(2.0)
        bn.train(training)
    with torch.no_grad():
        alone.weight.copy_(beside.weight[2:])
    store = LAYOUTS[layout]
    y3, grads3 = _forward_backward(beside, store(x))
    y1, grads1 = _forward_backward(alone, store(x[2:].clone()))
    assert torch.equal(y3[2:], y1)
    for g3, g1 in zip(grads3, grads1, strict=True):
        assert torch.equal(g3[2:], g1)
    assert torch.equal(beside.running_mean[2:], alone.running_mean)
    assert torch.equal(beside.running_var[2:], alone.running_var)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_batchnorm_normalises_each_seeds_channels_as_nn_batchnorm2d(layout):
    x = _inputs(2, 16, 8, 4)
    bn = BatchNorm2d(8, _gens([0, 1]))
    y = bn(LAYOUTS[layout](x))
    for s in range(2):
        ref = torch.nn.BatchNorm2d(8)
        torch.testing.assert_close(y[s], ref(x[s]), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(bn.running_var[s], ref.running_var)


#: every backbone, on images of a size it is used with (small batches keep it quick)
BACKBONES = [
    ("mlp", (1, 8, 8), {}),
    ("cnn", (1, 8, 8), {}),
    ("cnn_narrow", (1, 8, 8), {}),
    ("cnn", (1, 28, 28), {}),
    ("resnet32", (3, 32, 32), {}),
    ("resnet18", (3, 32, 32), {}),
    ("resnet18", (3, 32, 32), {"stem": "imagenet"}),
]


@pytest.mark.parametrize(
    "name,shape,kwargs", BACKBONES, ids=[f"{b[0]}-{b[1][1]}px-{b[2]}" for b in BACKBONES]
)
def test_every_backbone_gives_a_seed_the_same_numbers_alone_or_beside_others(name, shape, kwargs):
    def net(seeds):
        model = IncrementalNet(make_backbone(name, shape, _gens(seeds), **kwargs))
        model.add_classes(10, _gens(seeds))
        return model

    beside, alone = net([0, 1, 2]), net([2])
    x = _inputs(3, 2 if shape[-1] > 8 else 32, shape[0], shape[-1])
    results = []
    for model, inputs in ((beside, x), (alone, x[2:])):
        logits = model(inputs)["logits"]
        g = torch.randn(logits.shape[1:], generator=torch.Generator().manual_seed(7))
        grads = torch.autograd.grad((logits * g).sum(), list(model.parameters()))
        results.append((logits.detach(), grads))
    (l3, g3), (l1, g1) = results
    assert torch.equal(l3[2:], l1)
    for a, b in zip(g3, g1, strict=True):
        assert torch.equal(a[2:], b)


@pytest.mark.parametrize("capability", ["avx2", "default"])
def test_alone_equals_beside_on_each_cpu_kernel(capability):
    """ATen picks its vectorised CPU kernels by the processor (AVX-512 here, AVX2 on many
    laptops, none on others); ``ATEN_CPU_CAPABILITY`` forces a lesser one. The numbers may
    differ between kernels, never between a seed alone and beside others."""
    env = {**os.environ, "ATEN_CPU_CAPABILITY": capability}
    tests = "alone and not cpu_kernel"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider", "-k", tests],
        env=env,
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    check = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    used = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
    assert used.stdout.strip().lower() in (capability, "default"), used.stdout
