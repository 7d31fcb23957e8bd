"""`python3 -m mapiwire`: the same command line as the `mapiwire` script."""

from .cli import main

main(prog_name="mapiwire")
