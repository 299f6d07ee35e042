"""Moved to tests.helpers.simulate: kept for the other branches of this session."""

from tests.helpers.simulate import *  # noqa: F403
