"""``python -m scribe_operator.codegen [--check] [ROOT]``: see :mod:`scribe_operator.codegen.generate`."""

import sys

from scribe_operator.codegen.generate import main

sys.exit(main())
