"""Check the integration's metadata as hassfest and the HACS action would.

Prints one line per problem and exits non-zero when there is any; the checks live in
scripts/metadata/.

Usage: python scripts/check_metadata.py [--root REPOSITORY]
"""

import sys

from metadata.run import main

if __name__ == "__main__":
    sys.exit(main())
