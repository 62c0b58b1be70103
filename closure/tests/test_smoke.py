import pytest

pytestmark = pytest.mark.django_db


def test_replied_case_fixture(replied_case):
    assert replied_case.case.state == "replied"
    assert replied_case.reply.status == "delivered"
    assert replied_case.evaluation_path.startswith("/evaluate/")
