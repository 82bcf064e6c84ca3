"""`palaestra serve ID --openenv`: an OpenEnv client plays a whole episode, same reward as local."""

import socket
import subprocess
import sys
import time

import gymnasium as gym
import httpx
import pytest

import palaestra  # noqa: F401  (registers the ids)

pytest.importorskip("openenv.core.env_server")


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "palaestra.cli", "serve", "palaestra/ConnectFour-v0", "--openenv",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read())
        time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _first_legal(text: str) -> str:
    line = [ln for ln in text.splitlines() if ln.startswith("Legal moves:")][-1]
    return line.split(":", 1)[1].split()[0]


def test_openenv_client_plays_an_episode_with_the_local_reward(server):
    from openenv.core.generic_client import GenericEnvClient

    seed = 3
    with GenericEnvClient(base_url=server).sync() as client:
        result = client.reset(seed=seed)
        assert "Connect Four" in result.observation["instructions"] or "connect four" in result.observation["instructions"].lower()
        remote_total, moves = 0.0, []
        while not result.done:
            move = _first_legal(result.observation["text"])
            moves.append(move)
            result = client.step({"text": move})
            remote_total += result.reward
        remote_success = result.observation["success"]
        # a refused action comes back as the env's own explanation, not an exception
        bad = client.step({"text": "9"})
        assert bad.observation["invalid_action"]

    env = gym.make("palaestra/ConnectFour-v0", text=True)
    obs, _ = env.reset(seed=seed)
    local_total = 0.0
    for move in moves:
        obs, reward, term, trunc, info = env.step(move)
        local_total += reward
    assert term or trunc
    assert local_total == remote_total and info["success"] == remote_success


def test_openenv_snapshots_restore_on_the_server(server):
    from openenv.core.generic_client import GenericEnvClient

    with GenericEnvClient(base_url=server).sync() as client:
        first = client.reset(seed=0)
        snap = client.state()["snapshot_id"]
        moved = client.step({"text": _first_legal(first.observation["text"])})
        assert moved.observation["text"] != first.observation["text"]
        back = client.step({"restore": snap})
        assert back.observation["text"] == first.observation["text"]
        missing = client.step({"restore": "s999999"})
        assert "no snapshot" in missing.observation["invalid_action"]
