"""The UCM facts have one home each, and the views of one fact agree."""

from __future__ import annotations

import pytest

from logdoctor.ucm.deployment import parse_deployment
from logdoctor.ucm.deploymodel import DeploymentError
from logdoctor.ucm.naming import (
    numbered_name,
    rotated_number,
    suffix_number,
    suffix_rank,
    suffixed_name,
)
from logdoctor.ucm.params import PARAMETER_RANGES, PARAMS
from logdoctor.ucm.topology import (
    KEY_USES,
    NODE_ROLES,
    ROLE_IN_LOGS,
    SERVICES,
    KeyUse,
    Role,
    service_key,
)


def test_every_service_role_has_a_role_in_the_logs() -> None:
    assert set(ROLE_IN_LOGS) == set(Role)
    assert set(ROLE_IN_LOGS.values()) <= set(NODE_ROLES)
    assert set(NODE_ROLES) - set(ROLE_IN_LOGS.values()) == {"unknown"}


def test_key_uses_are_the_key_enum() -> None:
    assert KEY_USES == ("signing", "encryption") == tuple(KeyUse)


def test_the_deployment_file_ranges_are_the_token_service_ranges() -> None:
    assert PARAMETER_RANGES == {
        "access_token_expiry_minutes": (1, 1440),
        "refresh_token_expiry_days": (1, 365),
    }
    for name, (lo, hi) in PARAMETER_RANGES.items():
        assert (PARAMS[name].low, PARAMS[name].high) == (lo, hi)
    text = '[[cluster]]\nname = "c"\npublisher = "p"\n[cluster.parameters]\n'
    parse_deployment(text + "refresh_token_expiry_days = 365\n")
    with pytest.raises(DeploymentError, match=r"366 is out of range \(allowed: 1-365\)"):
        parse_deployment(text + "refresh_token_expiry_days = 366\n")


def test_rotated_names() -> None:
    assert rotated_number("b/ssosp00012.log") == ("ssosp", 12, 5)
    assert rotated_number("a.zip!x/certMgmt00003.log.gz") == ("certMgmt", 3, 5)
    assert rotated_number("ssoApp.log") == ("ssoApp.log", None, 0)
    assert sorted(["x.log", "x.log.1", "x.log.2"], key=suffix_rank) == [
        "x.log.2",
        "x.log.1",
        "x.log",
    ]
    # what the writers name (the token service's rotation) reads back the same way
    assert numbered_name("ssosp", 12) == "ssosp00012.log"
    assert rotated_number(numbered_name("certMgmt", 3)) == ("certMgmt", 3, 5)
    assert suffixed_name("ssoApp.log", 2) == "ssoApp.log.2"
    assert suffix_number(suffixed_name("ssoApp.log", 2), "ssoApp.log") == 2
    assert suffix_number("ssoApp.log", "ssoApp.log") is None
    assert suffix_number("ssoApp.log.bak.3", "ssoApp.log") is None
    assert suffix_number("other.log.1", "ssoApp.log") is None


def test_service_names_compare_without_case_or_separators() -> None:
    assert service_key("Cisco Call_Manager") == "ciscocallmanager"
    assert {service_key(s) for s in SERVICES} == {
        "callmanager",
        "xcpauth",
        "tomcat",
        "ssosptomcat",
    }
