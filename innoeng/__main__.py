import sys

from innoeng.cli import main

sys.exit(main())
