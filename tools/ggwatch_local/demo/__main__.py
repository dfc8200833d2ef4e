"""`python -m ggwatch_local.demo` (what `make demo` runs): the demo, its exit status the process's."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
