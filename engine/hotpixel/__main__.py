"""``python -m hotpixel`` is the ``hotpixel`` command."""

import sys

from .cli.main import main

sys.exit(main())
