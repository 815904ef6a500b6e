"""`python -m a_share_orders` (installed) or `python -m scripts` (skill folder): the `a-share-orders` command."""

import sys

from .cli import main

sys.exit(main())
