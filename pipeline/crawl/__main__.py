"""``python -m pipeline.crawl PORTAL``: one portal's crawl, in the process :func:`pipeline.crawl.crawl` starts."""
import sys

from pipeline.crawl import main

sys.exit(main())
