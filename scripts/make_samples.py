"""Write samples/: small inputs in each source's real format, every pipeline's from its module in scripts/samples/.

Run: python -m scripts.make_samples [FOLDER]
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from scripts import samples as sample_modules

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def writers() -> dict[str, object]:
    """{pipeline: its module's write(samples)} for every module of scripts/samples/, by name."""
    found = {}
    for module in sorted(pkgutil.iter_modules(sample_modules.__path__), key=lambda m: m.name):
        found[module.name] = importlib.import_module(f"{sample_modules.__name__}.{module.name}").write
    return found


def main(samples: Path = SAMPLES) -> None:
    for write in writers().values():
        write(samples)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLES)
