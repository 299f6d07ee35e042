"""Moved to tests.helpers.report: kept for the other branches of this session."""

from tests.helpers.report import *  # noqa: F403
