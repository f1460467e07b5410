"""`python -m rollouts ...` is the same as the `rollouts` console script."""

from rollouts.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
