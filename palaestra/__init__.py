"""palaestra: agentic environments in the Gymnasium style.

Importing the package registers every env id with gymnasium::

    import gymnasium, palaestra
    env = gymnasium.make("palaestra/ConnectFour-v0", text=True)
"""

__version__ = "0.1.0"

from .core import InvalidAction, PalaestraEnv, Task  # noqa: E402
from .registration import register_all  # noqa: E402

ENV_IDS = register_all()

__all__ = ["InvalidAction", "PalaestraEnv", "Task", "ENV_IDS", "__version__"]
