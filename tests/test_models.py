"""Backbones: exact parameter counts (REFERENCE.md), feature sizes, the growing classifier."""

import pytest
import torch

from cl_teach.models import IncrementalNet, count_parameters, make_backbone


def _blocks(net, names):
    return sum(count_parameters(getattr(net, n)) for n in names)


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
    net = make_backbone(name, shape).eval()
    assert net(torch.zeros(2, *shape)).shape == (2, net.out_dim)


def test_small_cnn_is_cheaper_than_the_digits_training_set():
    net = make_backbone("cnn", (1, 8, 8))
    assert count_parameters(net) == 5_944  # 23,776 bytes = 371 digit images of 64 bytes


def test_unknown_backbone():
    with pytest.raises(ValueError, match="unknown backbone 'vgg'"):
        make_backbone("vgg", (1, 8, 8))


def test_classifier_grows_and_keeps_old_rows():
    net = IncrementalNet(make_backbone("mlp", (1, 8, 8)))
    net.add_classes(2)
    old_w, old_b = net.fc.weight.detach().clone(), net.fc.bias.detach().clone()
    net.add_classes(3)
    assert net.num_classes == 5 and net.fc.weight.shape == (5, net.feature_dim)
    assert torch.equal(net.fc.weight[:2], old_w) and torch.equal(net.fc.bias[:2], old_b)
