"""``python -m hotpixel`` is the ``hotpixel`` command."""

import sys

from hotpixel.cli.main import main

sys.exit(main())
