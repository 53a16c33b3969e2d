"`python -m rtml ...` runs the `rtml` command line (and is what `torchrun ... -m rtml` starts in each process)."
import sys
from rtml.cli import main

sys.exit(main())
