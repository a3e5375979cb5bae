"""`python -m verifiers` is the `verifiers` command."""

import sys

from .cli import main

sys.exit(main())
