import sys

from hrc.cli import main

sys.exit(main())
