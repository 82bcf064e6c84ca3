"""BFCL's executable API classes as one episode's world, and BFCL's turn checks.

The instances (file system, math, messaging, posting, tickets, trading, travel,
vehicle) come from ``bfcl_eval``'s own source, started from the entry's
``initial_config``. A call runs the instance's method with keyword arguments; its
result is rendered as BFCL renders it (strings as they are, dicts as JSON, errors as
``Error during execution: ...``). After each turn, the model's instances are
compared attribute by attribute (public attributes) with instances that ran the
ground-truth calls, and the ground truth's results must all be among the model's
results so far, as BFCL's multi-turn checker does.
"""

from __future__ import annotations

import copy
import decimal
import importlib
import inspect
import json
import math
import pickle

from ..calls import parse_action_text


def _instance(class_name: str, initial_config: dict, long_context: bool, memory: dict | None = None,
              web: tuple | None = None):
    from bfcl_eval.constants.executable_backend_config import CLASS_FILE_PATH_MAPPING, STATELESS_CLASSES

    if class_name == "WebSearchAPI":  # offline: the same functions over a local corpus
        from .web_search import OfflineWebSearch

        if web is None:
            raise ValueError("BFCL's web-search entries need an offline corpus: BFCLEnv(web_corpus=...).")
        return OfflineWebSearch(*web)
    cls = getattr(importlib.import_module(CLASS_FILE_PATH_MAPPING[class_name]), class_name)
    inst = cls()
    if class_name.startswith("MemoryAPI"):
        # BFCL loads a memory backend from the snapshot file its previous entry flushed;
        # here the snapshot comes in as a value (see memory_snapshot)
        for attr, value in (memory or {}).items():
            setattr(inst, attr, copy.deepcopy(value))
    elif class_name not in STATELESS_CLASSES:
        inst._load_scenario(copy.deepcopy(initial_config.get(class_name, {})), long_context=long_context)
    return inst


_MEMORY_BOOKKEEPING = ("snapshot_folder", "latest_snapshot_file", "test_id", "scenario")
MAX_MEMORY_SNAPSHOT = 1_000_000  # characters of a memory snapshot (as JSON) accepted at reset


def memory_snapshot(world: "APIWorld") -> dict:
    """The memory a backend holds, as BFCL flushes it (``core_memory``/``archival_memory``
    for ``kv``, ``memory`` for ``rec_sum``): what the next entry of the scenario loads."""
    (inst,) = world.instances.values()
    return json.loads(json.dumps({k: v for k, v in vars(inst).items()
                                  if not k.startswith("_") and k not in _MEMORY_BOOKKEEPING}))


def check_memory_snapshot(class_name: str, snapshot) -> dict:
    """A snapshot given to ``reset(options={"memory": ...})``, checked against the backend."""
    from bfcl_eval.constants.executable_backend_config import CLASS_FILE_PATH_MAPPING

    fresh = getattr(importlib.import_module(CLASS_FILE_PATH_MAPPING[class_name]), class_name)()
    expected = {k: type(v) for k, v in vars(fresh).items() if not k.startswith("_") and k not in _MEMORY_BOOKKEEPING}
    if not isinstance(snapshot, dict) or set(snapshot) != set(expected):
        raise ValueError(f"a {class_name} memory snapshot is a dict with keys {sorted(expected)}; got "
                         f"{sorted(snapshot) if isinstance(snapshot, dict) else type(snapshot).__name__}. "
                         "Pass the info['memory'] that the scenario's last prerequisite episode ended with.")
    for key, kind in expected.items():
        if not isinstance(snapshot[key], kind):
            raise ValueError(f"memory snapshot[{key!r}] should be a {kind.__name__}, "
                             f"got {type(snapshot[key]).__name__}.")
        if kind is dict and not all(isinstance(k, str) and isinstance(v, str) for k, v in snapshot[key].items()):
            raise ValueError(f"memory snapshot[{key!r}] should map strings to strings.")
    size = len(json.dumps(snapshot))
    if size > MAX_MEMORY_SNAPSHOT:
        raise ValueError(f"the memory snapshot is {size} characters as JSON; at most {MAX_MEMORY_SNAPSHOT}.")
    return copy.deepcopy(snapshot)


class APIWorld:
    """The instances of an entry's involved classes and the public methods they expose."""

    def __init__(self, entry: dict, long_context: bool, memory: dict | None = None, web: tuple | None = None):
        self.instances = {c: _instance(c, entry.get("initial_config", {}), long_context, memory, web)
                          for c in entry["involved_classes"]}
        self._index()

    def _index(self):
        self.methods = {}
        for class_name, inst in self.instances.items():
            for name, method in inspect.getmembers(inst, predicate=inspect.ismethod):
                if not name.startswith("_"):
                    self.methods[name] = class_name

    def positional(self, name: str) -> list[str] | None:
        """Parameter names of method ``name`` in order (for positional arguments)."""
        if name not in self.methods:
            return None
        method = getattr(self.instances[self.methods[name]], name)
        return [p.name for p in inspect.signature(method).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

    def call(self, name: str, arguments: dict) -> str:
        if name not in self.methods:
            return f"Error during execution: name '{name}' is not defined"
        too_big = _runaway(name, arguments)
        if too_big:
            return f"Error during execution: {too_big}"
        try:
            # BFCL's math methods set mpmath's and decimal's precision for the whole
            # process: run each call in its own contexts, which are restored afterwards
            with _mp_context(), decimal.localcontext():
                result = getattr(self.instances[self.methods[name]], name)(**arguments)
                return _render(result)  # printed at the precision the method set, as in BFCL
        except Exception as exc:  # noqa: BLE001 - BFCL reports every execution error as a result
            return f"Error during execution: {exc}"

    def to_bytes(self) -> bytes:
        return pickle.dumps(self.instances)

    @classmethod
    def from_bytes(cls, blob: bytes) -> "APIWorld":
        world = cls.__new__(cls)
        world.instances = pickle.loads(blob)
        world._index()
        return world


def _render(result) -> str:
    """A result as BFCL renders it: strings as they are, dicts as JSON (else ``str``), the
    rest with ``str``. Python's int-to-string limit raises here, as it does in BFCL."""
    if isinstance(result, str):
        return result
    if isinstance(result, dict):
        try:
            return json.dumps(result)
        except (TypeError, ValueError):
            return str(result)
    return str(result)


def _mp_context():
    import mpmath

    return mpmath.workprec(mpmath.mp.prec)


#: arguments that would make BFCL's Python methods run for minutes (arbitrary-precision
#: logarithms and roots, huge roundings): refused with the bound, as a per-call time limit
#: cannot stop a C loop. ``logarithm(precision=200000)`` alone takes 44 s.
_LIMITS = {("logarithm", "precision"): 1000, ("square_root", "precision"): 1000,
           ("round_number", "decimal_places"): 1000}
MAX_DIGITS = 4300  # Python's int-to-string limit: BFCL cannot print a larger result
_INT_LIMIT_MESSAGE = ("Exceeds the limit (4300 digits) for integer string conversion; use "
                      "sys.set_int_max_str_digits() to increase the limit")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _runaway(name: str, arguments: dict) -> str | None:
    for (fn, param), limit in _LIMITS.items():
        value = arguments.get(param)
        if fn == name and isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > limit:
            return f"{param}={value} exceeds the sandbox's limit of {limit}"
    if name == "power":  # an integer power past 4,300 digits: BFCL computes it, then cannot print it
        base, exponent = arguments.get("base"), arguments.get("exponent")
        if _is_int(base) and _is_int(exponent) and exponent > 0 and abs(base) > 1 \
                and exponent * math.log10(abs(base)) > MAX_DIGITS + 1:
            return (f"exponent={exponent} exceeds the sandbox's limit: base**exponent would have more than "
                    f"{MAX_DIGITS} digits. {_INT_LIMIT_MESSAGE}")
    return None


def parse_ground_truth(text: str, world: APIWorld) -> dict:
    """A ground-truth call string such as ``mv(source='a', destination='b')`` as a native call."""
    return parse_action_text(text, positional=world.positional)


def state_differences(model: APIWorld, truth: APIWorld) -> dict:
    """Public attributes where the model's instances differ from the ground truth's."""
    out = {}
    for class_name, gt in truth.instances.items():
        mine = model.instances[class_name]
        for attr, value in vars(gt).items():
            if attr.startswith("_"):
                continue
            if getattr(mine, attr, None) != value:
                out[f"{class_name}.{attr}"] = {"model": repr(getattr(mine, attr, None))[:300],
                                               "ground_truth": repr(value)[:300]}
    return out


def missing_results(ground_truth_results: list[str], model_results: list[str]) -> list[str]:
    """Ground-truth results not among the model's (as a multiset, any order)."""
    pool = list(model_results)
    missing = []
    for item in ground_truth_results:
        if item in pool:
            pool.remove(item)
        else:
            missing.append(item)
    return missing
