"""``python -m ewaste_tracker`` runs the command line."""

import sys

from ewaste_tracker.cli import main

sys.exit(main())
