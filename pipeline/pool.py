"""Worker processes for loading and annotating.

Workers are started by a fork server, not forked from the run: a forked worker would inherit the
run's lock descriptor and, if the run were killed, keep the store locked until it died too.
"""

import multiprocessing

POOL_CONTEXT = multiprocessing.get_context("forkserver")
