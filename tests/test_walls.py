"""The walls of the architecture, checked on the source: what may import what.

- The vocabulary imports nothing of ours.
- Tensors stay in the engine: outside ``bridge/model``, training, evaluation, benchmarks,
  the offline tools and the CLI, only the engine (its worker and its stepper) imports torch
  or the models
  (an import under ``if TYPE_CHECKING`` is a type, not a use).
- ``continuo run`` loads no training, data-building, evaluation or benchmark code.
- Session logic speaks typed events: the session and its collaborators import no protocol
  (OSC, MIDI); the adapters (the hub, the outputs, the MIDI port session) do.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

BRIDGE = Path(__file__).resolve().parents[1] / "bridge"
MODELS = ("torch", "bridge.model.generator", "bridge.model.tagger", "bridge.model.stream",
          "bridge.model.stream_graph", "bridge.model.stream_numpy", "bridge.model.recall",
          "bridge.model.kernels", "bridge.model.checkpoint", "bridge.model.ear")
MAY_TOUCH_TENSORS = ("model/", "train/", "evaluate/", "bench/", "cli/", "offline/",
                     "live/engine.py", "live/stepper.py", "live/restyle.py",   # the engine
                     "live/tagwork.py", "live/device.py")


def _imports(path: Path) -> set[str]:
    """Modules a file imports, leaving out imports under ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and getattr(node.test, "id", "") == "TYPE_CHECKING"
                   for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _sources():
    for path in sorted(BRIDGE.rglob("*.py")):
        yield path.relative_to(BRIDGE).as_posix(), _imports(path)


def test_the_vocabulary_imports_nothing_of_ours():
    for path in (BRIDGE / "vocab").glob("*.py"):
        assert not {m for m in _imports(path) if m.startswith("bridge")
                    and not m.startswith("bridge.vocab")}, path


def test_only_the_engine_touches_tensors():
    breaches = {rel: sorted(m for m in mods if m.startswith(MODELS))
                for rel, mods in _sources()
                if not rel.startswith(MAY_TOUCH_TENSORS)}
    assert {rel: m for rel, m in breaches.items() if m} == {}


SESSION_LOGIC = ("live/session.py", "live/band.py", "live/accompany.py", "live/respond.py",
                 "live/tagging.py", "live/songtime.py", "live/generation.py",
                 "live/phrase.py", "live/events.py", "live/params.py", "live/states.py")


def test_session_logic_speaks_no_protocol():
    breaches = {rel: sorted(m for m in mods if m.startswith(("bridge.osc", "bridge.midi",
                                                              "mido", "rtmidi")))
                for rel, mods in _sources() if rel in SESSION_LOGIC}
    assert {rel: m for rel, m in breaches.items() if m} == {}
    assert len([rel for rel, _ in _sources() if rel in SESSION_LOGIC]) == len(SESSION_LOGIC)


def test_the_rule_sees_a_breach(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nfrom typing import TYPE_CHECKING\n"
                   "if TYPE_CHECKING:\n    from bridge.model.stream import State\n")
    assert _imports(bad) & set(MODELS) == {"torch"}


def test_continuo_run_loads_no_training_data_or_evaluation_code():
    code = ("import sys\nfrom bridge.cli import main\nimport bridge.cli.run, bridge.server\n"
            "print('\\n'.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    assert "bridge.server" in loaded
    forbidden = ("bridge.train", "bridge.data", "bridge.evaluate", "bridge.bench",
                 "matplotlib", "music21")
    assert [m for m in loaded if m.startswith(forbidden)] == []
