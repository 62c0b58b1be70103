"""Written notices: who issues and signs each kind, whom it names (issue #5), and the PDF with an
embedded CJK font whose text extracts cleanly (issue #6)."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.utils import timezone
from pypdf import PdfReader

from core.models import DepartmentKind
from core.pdf import FONT_NAME, build_document, find_cjk_font, register_cjk_font
from petitions.testing import make_petitioner, register
from routing.models import NoticeKind, WrittenNotice
from routing.notices import department_issuer, notice_pdf
from routing.services import (
    DepartmentDue,
    accept_assignment,
    assign_case,
    not_accept,
    refer_out,
    route_to_legal_procedure,
    sign_for_assignment,
    transfer_case,
)
from supervision.services import decide_extension, request_extension

pytestmark = pytest.mark.django_db


def signature(notice: WrittenNotice) -> list[str]:
    """The last two lines of the text: who signs, and the date."""
    return notice.body.rstrip().split("\n")[-2:]


def accepted(org, cast):
    case = register(cast["reception"]).case
    police = org.dept(org.city, DepartmentKind.POLICE)
    lead, *_ = assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(police, timezone.now() + timedelta(days=60)),
    )
    sign_for_assignment(actor=cast["police"], assignment=lead)
    notice = accept_assignment(actor=cast["police"], assignment=lead)
    case.refresh_from_db()
    return case, police, notice


def test_the_transfer_notice_is_issued_and_signed_by_the_sending_center(org, cast):
    case = register(cast["reception"]).case
    transfer_case(actor=cast["triage"], case=case, to_center=org.county_a, reason="属地管辖")
    notice = WrittenNotice.objects.get(case=case, kind=NoticeKind.TRANSFER)
    assert notice.issuer == org.city.name
    assert signature(notice)[0] == org.city.name
    # it names the receiving center as the one the matter went to
    assert f"由{org.city.name}转送{org.county_a.name}办理" in notice.body
    assert org.county_a.name not in signature(notice)[0]


@pytest.mark.parametrize("decide", ["not_accept", "refer_out", "route_legal"])
def test_screening_notices_are_issued_by_the_screening_center(org, cast, decide):
    case = register(cast["reception"]).case
    actor = cast["triage"]
    if decide == "not_accept":
        notice = not_accept(actor=actor, case=case, reason="不属于信访事项")
    elif decide == "refer_out":
        notice = refer_out(actor=actor, case=case, competent_organ="某区人民法院", reason="诉讼")
    else:
        notice = route_to_legal_procedure(
            actor=actor,
            case=case,
            organ="某区人民法院",
            procedure="再审",
            legal_case_number="(2026)冀01民申1号",
        )
    assert notice.issuer == org.city.name == signature(notice)[0]
    assert notice.body.startswith(f"{case.main_petitioner.name}：")


def test_acceptance_and_extension_notices_are_issued_by_the_handling_department(org, cast):
    case, police, acceptance = accepted(org, cast)
    assert acceptance.issuer == department_issuer(police) == signature(acceptance)[0]
    assert police.name in acceptance.issuer and org.city.name in acceptance.issuer
    request = request_extension(actor=cast["police"], case=case, days=20, reason="需调取卷宗")
    decision = decide_extension(actor=cast["head"], request=request, approve=True)
    extension = decision.notice
    assert extension is not None and extension.kind == NoticeKind.EXTENSION
    assert extension.issuer == department_issuer(police) == signature(extension)[0]


def test_a_group_visit_notice_is_addressed_to_the_group(org, cast):
    rep = make_petitioner(cast["reception"], name="李四")
    case = register(cast["reception"], headcount=8, representatives=[rep]).case
    notice = not_accept(actor=cast["triage"], case=case, reason="不属于信访事项")
    assert notice.body.startswith(f"{case.main_petitioner.name}等8人：")


def test_every_paragraph_of_a_notice_is_indented(org, cast):
    case = register(cast["reception"]).case
    notice = not_accept(actor=cast["triage"], case=case, reason="不属于信访事项")
    paragraphs = notice.body.split("\n\n")[1].split("\n")
    assert len(paragraphs) == 2 and all(p.startswith("\u3000\u3000") for p in paragraphs)


# --- the PDF (issue #6) ---------------------------------------------------------------------------


def embedded_fonts(pdf: bytes) -> list[str]:
    names = []
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                names.append(str(target["/BaseFont"]))
    return names


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


@pytest.fixture
def cjk_font():
    if find_cjk_font() is None:
        pytest.fail("No CJK TrueType font: install fonts-wqy-microhei (scripts/test.sh does).")
    assert register_cjk_font() == FONT_NAME


@pytest.mark.parametrize("kind", ["transfer", "not_accept", "acceptance"])
def test_notice_pdfs_embed_the_cjk_font_and_extract_without_replacement_chars(
    org, cast, cjk_font, kind
):
    if kind == "acceptance":
        notice = accepted(org, cast)[2]
    else:
        case = register(cast["reception"]).case
        if kind == "transfer":
            transfer_case(
                actor=cast["triage"], case=case, to_center=org.county_a, reason="属地管辖"
            )
            notice = WrittenNotice.objects.get(case=case, kind=NoticeKind.TRANSFER)
        else:
            notice = not_accept(actor=cast["triage"], case=case, reason="不属于信访事项")
    pdf = notice_pdf(notice)
    assert embedded_fonts(pdf), "the CJK font must be embedded (FontFile2)"
    text = pdf_text(pdf)
    assert "\ufffd" not in text
    compact = "".join(text.split())
    assert notice.title in compact
    assert notice.issuer in compact
    assert "信访工作条例" in compact
    assert case_number_in(notice) in compact


def case_number_in(notice: WrittenNotice) -> str:
    return notice.case.number


def test_build_document_is_reusable_for_other_documents(cjk_font):
    pdf = build_document(
        title="信访处理意见书", lines=["张三：", "", "\u3000\u3000经查，情况属实。"]
    )
    assert embedded_fonts(pdf)
    text = pdf_text(pdf)
    assert "\ufffd" not in text and "经查，情况属实。" in text


def test_the_font_package_is_installed_by_the_scripts_and_the_image():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for name in ("Dockerfile", "scripts/test.sh", "scripts/run.sh"):
        assert "fonts-wqy-microhei" in (root / name).read_text(), name
