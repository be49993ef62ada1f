"""Write environment.yml from requirements.lock so conda users get exactly the same pins."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def locked_pins() -> list[str]:
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def main() -> None:
    pins = "\n".join(f"      - {pin}" for pin in locked_pins())
    text = (
        "# Generated from requirements.lock by `make lock` - do not edit by hand.\n"
        "# conda env create -f environment.yml && conda activate nao-analysis && pip install --no-deps -e .\n"
        "name: nao-analysis\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n" + pins + "\n"
    )
    (ROOT / "environment.yml").write_text(text)


if __name__ == "__main__":
    main()
