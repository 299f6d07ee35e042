"""Moved to tests.helpers.fleet: kept for the other branches of this session."""

from tests.helpers.fleet import *  # noqa: F403
