"""The written reply as a document (信访处理意见书, Art 32), in Chinese, for the print page and the
PDF: the request, the facts and reasons, the decision with its legal basis, the route and time
limit for review, and how to evaluate: the live evaluation link as a QR code only on the copy
handed over at delivery (or at a re-issue), otherwise where to ask for it. The Chinese wording is the legal form
itself, not UI text, so it is not translated (as routing.notices)."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from django.utils import timezone

from core.pdf import escape, register_cjk_font

from .models import Reply, ReplyDecision
from .selectors import evaluation_window

TITLE = "信访处理意见书"
# The handling opinion of each decision, complete in itself: an explanation (解释说明) is the
# facts and reasons and the rules relied on, which the document prints in its sections two and
# four, so the opinion says so rather than announcing a text that does not follow.
DECISION_TEXT: dict[ReplyDecision, list[str]] = {
    ReplyDecision.SUPPORT: [
        "经审查，你（你们）的请求事实清楚，符合法律、法规、规章或者其他有关规定，予以支持。"
    ],
    ReplyDecision.EXPLAIN: [
        "经审查，你（你们）的请求事由合理，但缺乏法律、法规、规章或者其他有关规定的依据，"
        "目前无法按照你（你们）的请求解决。",
        "对你（你们）反映的问题，本机关已在上文“二、事实和理由”中作出解释说明，"
        "所依据的规定见下文“四、法律法规依据”。希望你（你们）理解。",
    ],
    ReplyDecision.NOT_SUPPORT: [
        "经审查，你（你们）的请求缺乏事实根据或者不符合法律、法规、规章或者其他有关规定，不予支持。"
    ],
}
DECISION_WORD = {
    ReplyDecision.SUPPORT: "支持",
    ReplyDecision.EXPLAIN: "解释说明",
    ReplyDecision.NOT_SUPPORT: "不予支持",
}


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: list[str]


@dataclass(frozen=True)
class ReplyDocument:
    title: str
    number: str
    center: str
    addressee: str
    opening: str
    sections: list[Section]
    evaluation_text: str
    evaluation_url: str
    issuer: str
    date: str


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def compose(reply: Reply, evaluation_url: str) -> ReplyDocument:
    case = reply.case
    registered = timezone.localtime(case.registered_at)
    issued = timezone.localtime(reply.approved_at or reply.drafted_at)
    decision = ReplyDecision(reply.decision) if reply.decision else None
    sections = [
        Section("一、信访请求", _paragraphs(reply.request_summary or case.request)),
        Section("二、事实和理由", _paragraphs(reply.facts_reasons)),
        Section(
            "三、处理意见",
            DECISION_TEXT[decision] if decision is not None else [],
        ),
        Section("四、法律法规依据", _paragraphs(reply.legal_basis)),
        Section("五、复查途径和期限", _paragraphs(reply.review_route)),
    ]
    days = evaluation_window().days
    center, department = case.center.name, reply.department.name
    if reply.mediated:
        evaluation_text = ""
    elif evaluation_url:
        # Only the copy handed to the petitioner at delivery (or at a re-issue) has the link.
        evaluation_text = (
            f"请扫描下方二维码或访问以下网址，对{center}和{department}的工作"
            f"作出评价（满意、基本满意、不满意）。评价期限为收到本意见书之日起{days}日内，"
            "链接仅可使用一次。"
        )
    else:
        # Every other print says how to get the link, without it (issue 18 #8).
        evaluation_text = (
            f"如需对{center}和{department}的工作作出评价（满意、基本满意、不满意），"
            f"请凭本意见书向{department}申请获取评价链接（二维码），也可到{center}当面或通过电话评价。"
            f"评价期限为收到本意见书之日起{days}日内。"
        )
    return ReplyDocument(
        title=TITLE,
        number=reply.document_number or "",
        center=case.center.name,
        addressee=f"{case.main_petitioner.name}：",
        opening=(
            f"你（你们）于{registered:%Y年%m月%d日}提出的信访事项（编号：{case.number}）收悉。"
            "根据《信访工作条例》第三十二条的规定，现答复如下："
        ),
        sections=sections,
        evaluation_text=evaluation_text,
        evaluation_url=evaluation_url,
        issuer=reply.department.name,
        date=f"{issued:%Y年%m月%d日}",
    )


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as inline SVG markup (no external request, no image file)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    svg = image.to_string(encoding="unicode")
    return svg if isinstance(svg, str) else svg.decode()


def reply_pdf(document: ReplyDocument) -> bytes:
    """A4 PDF with the embedded CJK font of core.pdf and the QR code drawn by reportlab."""
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = register_cjk_font()
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=20 * mm,
        title=f"{document.title} {document.number}",
        author=document.center,
    )
    size = 12
    center_style = ParagraphStyle(
        "center", fontName=font, fontSize=14, leading=20, alignment=TA_CENTER
    )
    title_style = ParagraphStyle(
        "title", fontName=font, fontSize=20, leading=28, alignment=TA_CENTER
    )
    body = ParagraphStyle("body", fontName=font, fontSize=size, leading=20, wordWrap="CJK")
    indented = ParagraphStyle("indented", parent=body, firstLineIndent=2 * size)
    heading = ParagraphStyle("heading", parent=body, spaceBefore=6)
    right = ParagraphStyle("right", parent=body, alignment=TA_RIGHT)
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=12)
    story: list[object] = [
        Paragraph(escape(document.center), center_style),
        Paragraph(escape(document.title), title_style),
        Spacer(1, 2 * mm),
    ]
    if document.number:
        story.append(Paragraph(escape(f"编号：{document.number}"), center_style))
    story += [
        Spacer(1, 6 * mm),
        Paragraph(escape(document.addressee), body),
        Paragraph(escape(document.opening), indented),
    ]
    for section in document.sections:
        story.append(Paragraph(escape(section.heading), heading))
        story += [Paragraph(escape(p), indented) for p in section.paragraphs]
    story += [
        Spacer(1, 10 * mm),
        Paragraph(escape(document.issuer), right),
        Paragraph(escape(document.center), right),
        Paragraph(escape(document.date), right),
    ]
    if document.evaluation_text and not document.evaluation_url:
        story += [
            Spacer(1, 6 * mm),
            Paragraph(escape("六、评价"), heading),
            Paragraph(escape(document.evaluation_text), indented),
        ]
    if document.evaluation_url:
        widget = QrCodeWidget(document.evaluation_url)
        x1, y1, x2, y2 = widget.getBounds()
        side = 32 * mm
        drawing = Drawing(side, side, transform=[side / (x2 - x1), 0, 0, side / (y2 - y1), 0, 0])
        drawing.add(widget)
        story += [
            Spacer(1, 6 * mm),
            Paragraph(escape("六、评价"), heading),
            Paragraph(escape(document.evaluation_text), indented),
            drawing,
            Paragraph(escape(document.evaluation_url), small),
        ]
    doc.build(story)  # type: ignore[arg-type]
    return buffer.getvalue()
