import sys

from vsc_assets.cli.main import main

sys.exit(main())
