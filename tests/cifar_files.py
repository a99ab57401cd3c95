"""Small CIFAR datasets in torchvision's on-disk format, written by the tests themselves
(a module of its own: ``conftest`` is ambiguous beside tests/browser/conftest.py)."""

import pickle

import numpy as np


def write_cifar(root, name="cifar100", train_per_class=2, test_per_class=1, seed=0) -> dict:
    """CIFAR files as torchvision extracts them (python pickles of uint8 rows), with
    ``train_per_class`` random images per class. Returns what was written."""
    classes, key = (100, "fine_labels") if name == "cifar100" else (10, "labels")
    folder = root / ("cifar-100-python" if name == "cifar100" else "cifar-10-batches-py")
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    def batch(per_class):
        labels = np.repeat(np.arange(classes), per_class)
        return {"data": rng.integers(0, 256, (len(labels), 3072)).astype(np.uint8),
                key: labels.tolist()}  # fmt: skip

    train, test = batch(train_per_class), batch(test_per_class)
    if name == "cifar100":
        files = {
            "train": train,
            "test": test,
            "meta": {"fine_label_names": list(map(str, range(100)))},
        }
    else:
        parts = np.array_split(np.arange(len(train[key])), 5)
        labels = np.asarray(train[key])
        files = {
            f"data_batch_{i + 1}": {"data": train["data"][p], key: labels[p].tolist()}
            for i, p in enumerate(parts)
        }
        files.update(
            {"test_batch": test, "batches.meta": {"label_names": list(map(str, range(10)))}}
        )
    for file, content in files.items():
        (folder / file).write_bytes(pickle.dumps(content))
    return {"train": train, "test": test, "folder": folder}
