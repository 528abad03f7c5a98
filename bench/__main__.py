"""``python -m bench``: run every ``bench/*_bench.py``; ``python -m bench NAME [args]``: run one
(``intake`` finds ``intake_bench.py``; any other module of bench/ by its own name)."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def module_for(name: str) -> str:
    for candidate in (f"{name}_bench", name):
        if (HERE / f"{candidate}.py").exists():
            return f"bench.{candidate}"
    raise SystemExit(f"no benchmark {name!r} in {HERE}")


def main(argv: list[str]) -> int:
    if argv:
        modules, extra = [module_for(argv[0])], argv[1:]
    else:
        modules, extra = [f"bench.{p.stem}" for p in sorted(HERE.glob("*_bench.py"))], []
    status = 0
    for module in modules:
        print(f"== {module}", flush=True)
        status |= subprocess.call([sys.executable, "-m", module, *extra], cwd=HERE.parent)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
