"""Segmentation env ids and agent names (imports nothing heavy)."""

from palaestra.registration import EnvInfo

ENVS = [
    EnvInfo(
        "palaestra/Segmentation-v0",
        "palaestra.envs.segmentation.env:SegmentationEnv",
        "SegAgent's click-to-mask MDP: click points until the mask matches the described object "
        "(synthetic scenes, package images, your folder or COCO; graph cut / GrabCut / watershed / SAM).",
        "segmentation",
    ),
]

AGENTS = {"ritm": "palaestra.envs.segmentation.agents:ClickerAgent"}
