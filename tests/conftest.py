import os
import shutil

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.keywords and shutil.which("chromium") is None:
            item.add_marker(pytest.mark.skip(reason="Debian chromium missing: apt-get install -y chromium"))
        if "stockfish" in item.keywords and not (shutil.which("stockfish") or os.path.exists("/usr/games/stockfish")):
            item.add_marker(pytest.mark.skip(reason="stockfish missing: apt-get install -y stockfish"))
