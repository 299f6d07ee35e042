"""Moved to tests.helpers.tokenservice: kept for the other branches of this session."""

from tests.helpers.tokenservice import *  # noqa: F403
