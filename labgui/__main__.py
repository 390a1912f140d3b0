import sys

from labgui.app.cli import main

sys.exit(main())
