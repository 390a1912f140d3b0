import sys

from engines.nodes.main import main

sys.exit(main(sys.argv[1:]))
