import sys

from labgui.cli import main

sys.exit(main())
