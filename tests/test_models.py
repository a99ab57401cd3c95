"""Backbones: exact parameter counts (REFERENCE.md), feature sizes, the growing classifier."""

import pytest
import torch

from cl_teach.models import IncrementalNet, count_parameters, make_backbone


def _blocks(net, names):
    return sum(count_parameters(getattr(net, n)) for n in names)


def _gens(n):
    return [torch.Generator().manual_seed(s) for s in range(n)]


def test_resnet32_matches_pycil_and_memo_counts():
    net = make_backbone("resnet32", (3, 32, 32))
    assert count_parameters(net) == 463_504
    assert _blocks(net, ["stem", "stage1", "stage2"]) == 112_016  # MEMO's generalized blocks
    assert _blocks(net, ["stage3", "pool"]) == 351_488  # one specialized block


def test_resnet18_imagenet_counts():
    net = make_backbone("resnet18", (3, 224, 224), stem="imagenet")
    assert count_parameters(net) == 11_176_512
    assert _blocks(net, ["stem", "layer1", "layer2", "layer3"]) == 2_782_784
    assert count_parameters(net.layer4) == 8_393_728


@pytest.mark.parametrize(
    "name,shape",
    [
        ("mlp", (1, 8, 8)),
        ("cnn", (1, 8, 8)),
        ("cnn", (1, 28, 28)),
        ("resnet32", (3, 32, 32)),
        ("resnet18", (3, 32, 32)),
    ],
)
def test_backbones_expose_their_feature_size(name, shape):
    net = make_backbone(name, shape, _gens(3)).eval()
    assert net(torch.zeros(3, 2, *shape)).shape == (3, 2, net.out_dim)  # (seeds, batch, features)


def test_small_cnn_is_cheaper_than_the_digits_training_set():
    net = make_backbone("cnn", (1, 8, 8))
    assert count_parameters(net) == 5_944  # 23,776 bytes = 371 digit images of 64 bytes


def test_unknown_backbone():
    with pytest.raises(ValueError, match="unknown backbone 'vgg'"):
        make_backbone("vgg", (1, 8, 8))


def test_classifier_grows_and_keeps_old_rows():
    net = IncrementalNet(make_backbone("mlp", (1, 8, 8), _gens(2)))
    net.add_classes(2, _gens(2))
    old_w, old_b = net.fc.weight.detach().clone(), net.fc.bias.detach().clone()
    net.add_classes(3, _gens(2))
    assert net.num_classes == 5 and net.fc.weight.shape == (2, 5, net.feature_dim)
    assert torch.equal(net.fc.weight[:, :2], old_w) and torch.equal(net.fc.bias[:, :2], old_b)


def test_classifier_rows_start_as_pycil_simple_linear():
    """Kaiming-uniform with gain 1 (bound sqrt(3 / fan_in)) and zero bias, not PyTorch's
    nn.Linear default (bound 1 / sqrt(fan_in))."""
    net = IncrementalNet(make_backbone("cnn", (1, 8, 8)))
    net.add_classes(500, _gens(1))
    w, bound = net.fc.weight, (3 / net.feature_dim) ** 0.5
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound
    assert w.std().item() == pytest.approx(bound / 3**0.5, rel=0.05)  # uniform on [-b, b]
    assert (net.fc.bias == 0).all()


@pytest.mark.parametrize("name", ["mlp", "cnn", "resnet32"])
def test_each_seed_has_its_own_initialisation_whatever_runs_beside_it(name):
    shape = (3, 32, 32) if name == "resnet32" else (1, 8, 8)
    three = make_backbone(name, shape, _gens(3))
    alone = make_backbone(name, shape, [torch.Generator().manual_seed(2)])
    for p3, p1 in zip(three.parameters(), alone.parameters(), strict=True):
        assert torch.equal(p3[2], p1[0])
    w = next(three.parameters())
    assert not torch.equal(w[0], w[1])


def test_resnet18_cifar_stem_has_torchvisions_layout():
    """The package's ResNet-18 is torchvision's with the 3x3 stride-1 stem and no max pool
    (Dohare et al.'s adaptation, without the conv biases they add): the same parameter
    count as torchvision's model with that stem and no classifier."""
    import torchvision

    tv = torchvision.models.resnet18()
    tv.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    reference = sum(p.numel() for n, p in tv.named_parameters() if not n.startswith("fc."))
    assert count_parameters(make_backbone("resnet18", (3, 32, 32))) == reference == 11_168_832
