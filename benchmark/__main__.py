"""``python -m benchmark``: the ``benchmark`` command (e.g. under ``torchrun -m benchmark``)."""

from benchmark.cli import main

if __name__ == "__main__":
    main()
