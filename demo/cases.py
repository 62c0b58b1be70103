"""Bulk demo data: N realistic cases in minutes (``manage.py seed_demo --cases N --seed S``).

Why this bypasses the services
------------------------------
``register_case`` costs ~20 queries a case; a million cases through it would take hours. This
module writes the same rows the services would (case, petitioner file, case-petitioner links,
visits, a HistoricalCase "+" row with the registering user, CaseEvent rows) in bulk, because
STYLE.md requires bulk paths to write their history themselves. It also writes the lead
``routing.Assignment`` and the running ``clocks.Deadline`` of each case that has one, so
department inboxes and deadline lists are populated, and the rows of every step after the
written reply (``_AfterReply``: reply, evaluation link, evaluations and return visits, review
and re-review requests at the deciding center, termination proposals, finality, the closure
record), so that a case in any state is what the services would have left: in the appeals and
approval queues, decidable on its page. These tables are skipped with a warning if their models
ever gain a column this module cannot fill. (Child rows get no simple-history rows, and the
clocks met before the current state are not written, except the review windows.)

How it is fast
--------------
- Rows are tuples streamed with ``COPY ... FROM STDIN`` on PostgreSQL, ``executemany`` elsewhere
  (SQLite for ``make run``). Columns come from the models' ``_meta`` at run time, so a column
  another app adds with a default is filled with it and a removed one is dropped
  (see ``_Table``).
- Primary keys of cases and petitioners are reserved from their sequences in blocks
  (``nextval`` over ``generate_series``), so child rows reference them without a round trip and
  live inserts running at the same time can never take the same id.
- On PostgreSQL outside a transaction, a second thread with its own connection loads batch k
  while this one builds batch k+1 (``_Loader``): Python and the server each keep a core busy.
- For a large load (``DROP_INDEXES_FROM`` cases, at least as many as are already there) the
  non-unique indexes are dropped and rebuilt once at the end (``_IndexHold``), and a superuser
  skips the per-row foreign-key triggers, verifying the references set-based afterwards.
- Each petitioner's ID and phone number is encrypted once (Fernet, core.pii, ~40 µs a person),
  when the file is written; a repeat person is linked, not encrypted again.

Measured on 2 cores shared with other work (load average ~2): 100,000 cases in 72 s and
1,000,000 in 495 s (8.3 min, of which 45 s rebuilding indexes), ~2,000 cases/s; about 12 rows a
case. With the after-reply rows (about 17 rows a case): 100,000 in 104 s at load average ~5. The Python side (drawing, encrypting, formatting rows) is the bottleneck, ~0.35 ms of CPU a
case; the server's COPY runs beside it on the other core.

Determinism
-----------
All random choices come from one ``random.Random(seed)`` in a fixed order, and the timeline is
laid out relative to ``now`` (registrations over the past two years, in chronological order).
On a fresh database the same seed on the same day gives the same case numbers, names and ID
numbers. Ciphertexts differ (Fernet uses a random IV), and so do database ids.

Case numbers
------------
Center region code + local date + 5-digit serial, as ``services.next_case_number`` makes them.
Before each batch is written, one set-based upsert on ``CaseNumberCounter`` *reserves* as many
serials per (center, day) as the batch needs (``last = last + k``, returning the new ``last``);
the batch uses ``last - k + 1 .. last``. Live intake locks the same counter rows, so it always
continues above the bulk serials, even while generation runs, and a crashed run only leaves
gaps. On a fresh database the counter ends at the highest serial used for each (center, day).

Query codes (demo only)
-----------------------
A real query code is random and shown once. A demo case's code is derived from the seed and
the case number, ``demo_query_code(seed, number)`` (8 characters of the intake alphabet from
SHA-256), and only its keyed hash is stored, like a real one. Anyone who knows the seed can
derive every demo code: never use this on a database with real petitions.

Staff
-----
Cases are registered by the demo users at the city center (``reception``, ``triage``) and, at the
other demo centers, by per-center demo users created here when a center has nobody with the
role: ``desk_<region>`` (reception, triage), ``staff_<region>`` (supervisor, leader, archivist),
``officer_<region>`` (officer and head of the police department). Password: demo.organisation's.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import itertools
import json
import math
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from datetime import time as dt_time
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone
from django.utils.translation import gettext as _

from core import pii
from core.models import Center, CenterLevel, Department, DepartmentKind, User
from core.roles import Role
from core.text import name_key
from demo.organisation import DEMO_PASSWORD, seed_organisation, seed_users
from petitions.models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
    CasePetitioner,
    Channel,
    ContentCategory,
    IdType,
    Organ,
    Petitioner,
    PetitionerRole,
    Purpose,
    Visit,
)
from petitions.services import QUERY_CODE_ALPHABET, hash_query_code
from petitions.states import CaseState
from petitions.testing import resident_id

S = CaseState


class _Out(Protocol):
    def write(self, msg: str, /) -> object: ...


# --- reference data ------------------------------------------------------------------------------

# Common surnames with rough relative frequencies (per mille of the population).
SURNAMES: list[tuple[str, float]] = [
    ("王", 71), ("李", 70), ("张", 67), ("刘", 54), ("陈", 45), ("杨", 31), ("赵", 29),
    ("黄", 22), ("周", 17), ("吴", 16), ("徐", 13), ("孙", 15), ("胡", 13), ("朱", 12),
    ("高", 12), ("林", 12), ("何", 12), ("郭", 12), ("马", 11), ("罗", 9), ("梁", 9),
    ("宋", 8), ("郑", 8), ("谢", 7), ("韩", 7), ("唐", 6), ("冯", 6), ("于", 6), ("董", 6),
    ("程", 5), ("曹", 5), ("袁", 5), ("邓", 5), ("许", 5), ("傅", 4), ("沈", 4), ("曾", 4),
    ("彭", 4), ("吕", 4), ("苏", 4), ("卢", 4), ("蒋", 4), ("蔡", 4), ("贾", 4), ("丁", 4),
    ("魏", 4), ("薛", 3), ("叶", 3), ("阎", 3), ("潘", 3), ("杜", 3), ("戴", 3), ("夏", 3),
    ("田", 3), ("任", 3), ("姜", 3), ("范", 3), ("方", 3), ("石", 3), ("姚", 3), ("郝", 2),
    ("孔", 2), ("白", 2), ("崔", 2), ("康", 2), ("毛", 2), ("邱", 2), ("秦", 2), ("史", 2),
    ("侯", 2), ("孟", 2), ("段", 2), ("武", 2), ("乔", 2), ("贺", 2), ("常", 2), ("尹", 2),
    ("欧阳", 0.5), ("司马", 0.2), ("诸葛", 0.1),
]  # fmt: skip
GIVEN_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林阳建国志文海东峰亮成新德兵庆春生福金永山振立"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英玲燕萍红梅莉兰凤洁琳婷雪慧倩颖玉桂珍晶欣月丹云荣爱琴蓉瑶怡佳淑"

# Hebei county-level regions (GB/T 2260): for ID numbers, addresses and where problems arose.
# Every code must be known to python-stdnum (petitions.validation.region_is_known; tested).
SHIJIAZHUANG = "石家庄市"
REGIONS: list[tuple[str, str, str]] = [
    ("130102", SHIJIAZHUANG, "长安区"), ("130104", SHIJIAZHUANG, "桥西区"),
    ("130105", SHIJIAZHUANG, "新华区"), ("130107", SHIJIAZHUANG, "井陉矿区"),
    ("130108", SHIJIAZHUANG, "裕华区"), ("130109", SHIJIAZHUANG, "藁城区"),
    ("130110", SHIJIAZHUANG, "鹿泉区"), ("130111", SHIJIAZHUANG, "栾城区"),
    ("130121", SHIJIAZHUANG, "井陉县"), ("130123", SHIJIAZHUANG, "正定县"),
    ("130125", SHIJIAZHUANG, "行唐县"), ("130126", SHIJIAZHUANG, "灵寿县"),
    ("130127", SHIJIAZHUANG, "高邑县"), ("130128", SHIJIAZHUANG, "深泽县"),
    ("130129", SHIJIAZHUANG, "赞皇县"), ("130130", SHIJIAZHUANG, "无极县"),
    ("130131", SHIJIAZHUANG, "平山县"), ("130132", SHIJIAZHUANG, "元氏县"),
    ("130133", SHIJIAZHUANG, "赵县"), ("130181", SHIJIAZHUANG, "辛集市"),
    ("130183", SHIJIAZHUANG, "晋州市"), ("130184", SHIJIAZHUANG, "新乐市"),
    ("130202", "唐山市", "路南区"), ("130203", "唐山市", "路北区"), ("130207", "唐山市", "丰南区"),
    ("130302", "秦皇岛市", "海港区"), ("130402", "邯郸市", "邯山区"), ("130403", "邯郸市", "丛台区"),
    ("130602", "保定市", "竞秀区"), ("130606", "保定市", "莲池区"), ("130608", "保定市", "清苑区"),
    ("130702", "张家口市", "桥东区"), ("130802", "承德市", "双桥区"), ("130902", "沧州市", "新华区"),
    ("130903", "沧州市", "运河区"), ("131002", "廊坊市", "安次区"), ("131003", "廊坊市", "广阳区"),
    ("131102", "衡水市", "桃城区"),
]  # fmt: skip
TOWNS = ["城关镇", "东关街道", "西关街道", "南街街道", "北苑街道", "新城镇", "胜利街道",
         "建设街道", "和平街道", "解放街道", "北关镇", "南庄乡", "东王镇", "西柏坡镇", "兴华街道"]  # fmt: skip
VILLAGES = ["东村", "西村", "南庄村", "北街村", "李家庄村", "王庄村", "张家营村", "前进村",
            "大吴村", "小马村", "高家庄村", "赵村", "刘家园村", "新华村", "孙庄村"]  # fmt: skip
ESTATES = ["幸福小区", "建设小区", "和平里", "紫光苑", "康乐家园", "翠屏山庄", "阳光花园",
           "民心佳园", "华润万象", "世纪花园", "怡景苑", "金石小区"]  # fmt: skip
OCCUPATIONS: list[tuple[str, float]] = [
    ("农民", 30), ("企业职工", 15), ("退休人员", 12), ("无业", 12), ("个体工商户", 10),
    ("自由职业", 6), ("公司职员", 6), ("司机", 3), ("教师", 2), ("学生", 1), ("其他", 3),
]  # fmt: skip
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "156", "157", "158", "159", "176", "177", "178", "180", "181",
                   "182", "183", "185", "186", "187", "188", "189", "199"]  # fmt: skip

# Relative weights for the code tables; codes an administrator added get weight 1.
CHANNEL_WEIGHTS = {"visit": 45.0, "letter": 20.0, "online": 25.0, "phone": 10.0}
PURPOSE_WEIGHTS = {"demand": 35.0, "appeal": 33.0, "accusation": 15.0, "suggestion": 3.0,
                   "enquiry": 14.0}  # fmt: skip
CATEGORY_WEIGHTS = {"court.execution": 9.0, "court.civil": 7.0, "police.case": 6.0,
                    "court.delay": 4.0, "police.law": 4.0, "police.traffic": 3.0,
                    "proc.noprosecute": 2.0, "proc.civil": 2.0, "justice.lawyer": 2.0}  # fmt: skip
CENTER_LEVEL_WEIGHTS = {CenterLevel.PROVINCE: 1.0, CenterLevel.CITY: 5.0, CenterLevel.COUNTY: 2.0}

# Requests by content category (leaf code, else parent code); {y} year, {c} court code, {n} number.
REQUESTS: dict[str, list[str]] = {
    "court.execution": [
        "请求法院依法执行（{y}）冀{c}执{n}号民事判决，督促被执行人履行给付义务。",
        "反映（{y}）冀{c}执{n}号案件执行中查封财产处置不当，请求纠正。",
    ],
    "court.civil": [
        "对（{y}）冀{c}民初{n}号民事判决不服，请求依法再审。",
        "反映（{y}）冀{c}民初{n}号案件认定事实不清，请求重新审理。",
    ],
    "court.delay": ["反映（{y}）冀{c}民初{n}号案件审理超过法定期限，请求尽快审结。"],
    "court.criminal": ["对（{y}）冀{c}刑初{n}号刑事判决量刑不服，请求依法申诉。"],
    "court.admin": ["请求撤销（{y}）冀{c}行初{n}号行政裁定，依法受理行政诉讼。"],
    "police": [
        "反映{y}年报案后公安机关至今未立案，请求依法立案侦查。",
        "反映派出所民警在处理纠纷时执法不规范，请求调查处理。",
        "对交通事故认定书有异议，请求重新认定责任。",
        "请求依法办理户籍迁移登记。",
        "反映被扣押财物至今未依法返还，请求返还。",
    ],
    "procuratorate": [
        "对检察机关作出的不起诉决定不服，请求复查。",
        "请求检察机关对（{y}）冀{c}民初{n}号案件开展民事检察监督。",
        "请求检察机关监督公安机关依法立案。",
        "申请刑事赔偿，请求依法决定。",
    ],
    "justice": [
        "反映代理律师收费后未尽代理职责，请求查处。",
        "对公证书内容有异议，请求撤销公证。",
        "申请法律援助被拒，请求重新审查。",
        "请求人民调解委员会调解邻里宅基地纠纷。",
    ],
    "other": ["反映涉法涉诉问题，请求依法处理。"],
}
PARTIES = ["邻居", "某建筑公司", "原工作单位", "村委会", "某房地产开发公司", "亲属", "某物流公司"]
MATTERS = ["借款", "工程款", "土地承包", "房屋买卖", "劳动报酬", "交通事故赔偿", "宅基地",
           "拆迁补偿", "合同", "人身损害赔偿"]  # fmt: skip
DECISIONS = ["支持", "解释说明", "不予支持"]
REPLY_DECISIONS = ["support", "explain", "not_support"]  # closure.ReplyDecision, as DECISIONS
NOT_ACCEPTED = ["不予受理：已经或者依法应当通过诉讼、仲裁、行政复议等法定途径解决",
                "不予受理：不属于本机关职责范围", "不予受理：同一事项已作出复核意见"]  # fmt: skip

# Organ code → department kind when the Organ row does not say.
ORGAN_KINDS = {
    "police": DepartmentKind.POLICE,
    "procuratorate": DepartmentKind.PROCURATORATE,
    "court": DepartmentKind.COURT,
    "justice": DepartmentKind.JUSTICE,
}
DEADLINE_DEFAULTS = {  # kind → calendar days, when the clocks' rule table has no row
    "screening": 15,
    "objection": 7,  # 5 working days
    "acceptance_notice": 15,
    "handling": 60,
    "review_window": 30,
    "review_decision": 30,
    "re_review_decision": 30,
}
# The clocks in the shapes the services open them (routing.services, appeals.services): the
# acceptance notice (and the objection window) per assignment; screening, handling, the review
# window and the review decisions per case. Windows (someone's right) carry no warning level and
# are not the case's next deadline (clocks.models.DeadlineCategory).
PER_ASSIGNMENT_CLOCKS = frozenset({"acceptance_notice", "objection"})
WINDOW_CLOCKS = frozenset({"objection", "review_request", "review_window"})
# Open state → the duty that runs in it. "returned" runs none: returning an assignment meets
# its clocks and screening starts again only when triage confirms the return
# (routing.services.return_assignment, confirm_return). The petitioner's review windows and the
# receiver's objection window are written with the rows they belong to (_Writer).
OPEN_CLOCK: dict[str, str] = {
    S.REGISTERED: "screening",
    S.ASSIGNED: "acceptance_notice",
    S.SIGNED: "acceptance_notice",
    S.HANDLING: "handling",
    S.REVIEW: "review_decision",
    S.RE_REVIEW: "re_review_decision",
}
# Life steps that change no state → the CaseEvent kind their service records.
EVENT_KINDS = {
    "propose_termination": "termination_proposed",
    "review_termination": "termination_reviewed",
}


def demo_query_code(seed: int, number: str) -> str:
    """The query code of a generated demo case (see the module docstring; demo only)."""
    digest = hashlib.sha256(f"demo-query-code:{seed}:{number}".encode()).digest()
    n = len(QUERY_CODE_ALPHABET)
    return "".join(QUERY_CODE_ALPHABET[b % n] for b in digest[:8])


class _Weighted[T]:
    def __init__(self, items: Sequence[tuple[T, float]]) -> None:
        items = [(v, w) for v, w in items if w > 0]
        if not items:
            raise ImproperlyConfigured("demo.cases: nothing to choose from")
        self.values = [v for v, _w in items]
        self.cum = list(itertools.accumulate(w for _v, w in items))
        self.total = self.cum[-1]
        self.last = len(self.values) - 1

    def pick(self, rng: random.Random) -> T:
        return self.values[min(bisect.bisect(self.cum, rng.random() * self.total), self.last)]


# --- COPY / executemany writer ---------------------------------------------------------------------

_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# str.translate walks every character through a dict (~10 µs for a line of Chinese): escape
# only the rare string that needs it.
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]").search


def _copy_text(v: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    t = type(v)
    if t is str:
        return v if _NEEDS_ESCAPE(v) is None else v.translate(_ESCAPE)
    if t is int:
        return str(v)
    if v is None:
        return "\\N"
    if t is bool:
        return "t" if v else "f"
    if t is datetime or t is date:
        return v.isoformat()
    if t is dict or t is list:
        v = json.dumps(v, ensure_ascii=False, cls=DjangoJSONEncoder)
    return _copy_text(str(v))


class _Table:
    """Rows for one model, in the order of the ``columns`` this module supplies.

    The model's ``_meta`` decides the real column list: a supplied column the model no longer
    has is dropped; a column the model has and this module does not supply gets the field's
    default (or ``now`` for auto_now fields, or is left to the database for an auto primary key
    or ``db_default``). A column with no default at all raises ImproperlyConfigured, naming it."""

    def __init__(self, model: type[models.Model], columns: Sequence[str], *, now: datetime) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.model = model
        self.take = [i for i, c in enumerate(columns) if c in fields]
        self.take_all = len(self.take) == len(columns)
        given = [fields[columns[i]] for i in self.take]
        dynamic: list[models.Field[Any, Any]] = []
        static: list[tuple[models.Field[Any, Any], Any]] = []
        for f in model._meta.concrete_fields:
            if f.attname in columns:
                continue
            if f.primary_key and isinstance(f, models.fields.AutoFieldMixin):
                continue
            if getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                static.append((f, now))
            elif f.has_default() and callable(f.default):
                dynamic.append(f)
            elif f.has_default() or f.null or f.empty_strings_allowed:
                static.append((f, f.get_default()))
            else:
                raise ImproperlyConfigured(
                    f"demo.cases cannot fill {model._meta.label}.{f.name}: it has no default"
                )
        self.fields: list[models.Field[Any, Any]] = [*given, *dynamic, *(f for f, _v in static)]
        self.dynamic = dynamic
        self.static_values = tuple(v for _f, v in static)
        self.static_text = "".join("\t" + _copy_text(v) for v in self.static_values)
        self.postgres = connection.vendor == "postgresql"
        self.lines: list[str] = []
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0
        qn = connection.ops.quote_name
        table = qn(model._meta.db_table)
        columns_sql = ", ".join(qn(f.column or f.attname) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        self.copy_sql = f"COPY {table} ({columns_sql}) FROM STDIN"
        self.insert_sql = f"INSERT INTO {table} ({columns_sql}) VALUES ({placeholders})"  # noqa: S608

    def add(self, row: tuple[Any, ...]) -> None:
        if not self.take_all:
            row = tuple(row[i] for i in self.take)
        if self.dynamic:
            row = row + tuple(f.get_default() for f in self.dynamic)
        if self.postgres:
            self.lines.append("\t".join([_copy_text(v) for v in row]) + self.static_text)
        else:
            self.rows.append(row + self.static_values)

    def add_text(self, texts: list[str]) -> None:
        """Like ``add`` with the values already in COPY text (PostgreSQL only): lets the history
        row reuse the case row's formatting, most of the cost of a row."""
        if not self.take_all:
            texts = [texts[i] for i in self.take]
        if self.dynamic:
            texts += [_copy_text(f.get_default()) for f in self.dynamic]
        self.lines.append("\t".join(texts) + self.static_text)

    def take_load(self) -> _Load | None:
        """The rows added since the last call, ready to load (on any thread's connection)."""
        if self.lines:
            load = _Load(self.copy_sql, "\n".join(self.lines) + "\n", None, len(self.lines))
        elif self.rows:
            prepared = [
                tuple(
                    f.get_db_prep_save(v, connection) for f, v in zip(self.fields, r, strict=True)
                )
                for r in self.rows
            ]
            load = _Load(self.insert_sql, None, prepared, len(prepared))
        else:
            return None
        self.written += load.count
        self.lines = []
        self.rows = []
        return load


@dataclass(slots=True)
class _Load:
    sql: str
    text: str | None  # COPY data (PostgreSQL)
    rows: list[tuple[Any, ...]] | None  # executemany parameters (elsewhere)
    count: int

    def run(self) -> None:
        with connection.cursor() as cursor:
            if self.text is not None:
                cursor.copy_expert(self.sql, io.StringIO(self.text))
            else:
                cursor.executemany(self.sql, self.rows or [])


class _Loader:
    """Loads prepared batches, each in its own transaction.

    On PostgreSQL outside a transaction this runs on a second thread with its own connection:
    the server parses the COPY data and updates the indexes while this thread builds the next
    batch, so both cores work. There, when the role may (superuser), the per-row foreign-key
    triggers are skipped for the load (``session_replication_role = replica``, as
    ``pg_restore --disable-triggers`` does): they were half of the database time, and
    ``verify`` checks the references that could be wrong set-based at the end.

    Inside a transaction (tests, or a caller's atomic block) it loads in line, on the
    caller's connection and with every constraint checked, so everything stays in that
    transaction."""

    def __init__(self) -> None:
        self.threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.skip_fk_triggers = False
        if self.threaded:
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('is_superuser') = 'on'")
                self.skip_fk_triggers = bool(cursor.fetchone()[0])
        self.queue: queue.Queue[list[_Load] | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if self.threaded:
            self.thread = threading.Thread(target=self._work, name="demo-loader", daemon=True)
            self.thread.start()

    def _load(self, loads: list[_Load]) -> None:
        with transaction.atomic():
            if self.skip_fk_triggers:
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL session_replication_role = replica")
            for load in loads:
                load.run()

    def _work(self) -> None:
        try:
            while (loads := self.queue.get()) is not None:
                if self.error is None:
                    try:
                        self._load(loads)
                    except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
                        self.error = exc
        finally:
            connection.close()

    def put(self, loads: list[_Load]) -> None:
        if self.error is not None:
            raise self.error
        if self.thread is None:
            self._load(loads)
        else:
            self.queue.put(loads)

    def finish(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error


class _Ids:
    """Primary keys reserved from the table's sequence in blocks (ids of other sessions' inserts
    can never collide with them). Elsewhere (SQLite, one writer) they continue from MAX(id)."""

    BLOCK = 10_000

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.free: Iterator[int] = iter(())
        self.next_plain: int | None = None

    def next(self) -> int:
        for value in self.free:
            return value
        qn = connection.ops.quote_name
        table, pk = self.model._meta.db_table, self.model._meta.pk.column or "id"
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [table, pk, self.BLOCK],
                )
                self.free = iter([row[0] for row in cursor.fetchall()])
                return next(self.free)
            if self.next_plain is None:
                cursor.execute(f"SELECT COALESCE(MAX({qn(pk)}), 0) FROM {qn(table)}")  # noqa: S608
                self.next_plain = int(cursor.fetchone()[0]) + 1
        value = self.next_plain
        self.next_plain += 1
        return value


# --- the generated objects ---------------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    pk: int
    name: str
    sex: str
    id_type: str
    id_number: str
    phone: str
    birth_date: date | None
    address: str
    household_registration: str
    occupation: str
    created_at: datetime
    created_by: int
    id_hash: str = ""
    existing: bool = False  # the number was already on file: link to that file, write nothing


@dataclass(slots=True)
class _Life:
    """What happened to a case up to now (``steps`` beyond now are already cut off)."""

    steps: list[tuple[str, str, str, datetime]]  # (transition, from state, to state, at)
    state: str
    changed_at: datetime
    closed_at: datetime | None
    outcome: str
    last_message: str  # what the step that led to the current state decided, if anything
    extended: bool
    reply_decision: str = ""  # closure.ReplyDecision of the written reply, if one was delivered
    # (at, rating) of the petitioner's first evaluation of the reply, if given by now
    evaluation: tuple[datetime, str] | None = None


@dataclass(slots=True)
class _CaseSpec:
    pk: int
    center: _CenterInfo
    day: date
    registered_at: datetime
    registered_by: int
    channel: int
    channel_name: str
    purpose: int
    category: int
    organ: int | None
    department_kind: str
    legal_case_number: str
    problem_region_code: str
    is_law_related: bool
    is_major_urgent: bool
    is_safety_risk: bool
    is_skip_level: bool
    headcount: int
    request: str
    facts_reasons: str
    main: _Person | int
    representatives: list[_Person | int]
    life: _Life
    repeat_visits: list[datetime] = field(default_factory=list)
    number: str = ""


@dataclass
class _CenterInfo:
    pk: int
    region_code: str
    name: str
    level: str
    desk: list[int]  # users who register (first: reception, then triage)
    triage: int
    officers: dict[str, int]  # department kind → officer
    head: int
    supervisor: int
    archivist: int
    departments: dict[str, int]  # department kind → department id
    registered_message: str = ""
    heads: dict[str, int] = field(default_factory=dict)  # department kind → its head
    leader: int = 0  # a second decider, distinct from ``supervisor`` where the center has one
    parent: int | None = None  # the parent center's id
    # the next level up (appeals.services.reviewing_center_above; None: reviews itself)
    reviewing: _CenterInfo | None = None
    province: _CenterInfo | None = None  # approves lawful termination (None: itself)

    def actor_for(self, transition: str, department_kind: str) -> int:
        if transition in {"sign_for", "accept", "return_assignment"}:
            return self.officers.get(department_kind, self.head)
        if transition in {"reply", "decide_review", "decide_re_review"}:
            return self.head
        if transition in {"close", "terminate"}:
            return self.supervisor
        if transition == "archive":
            return self.archivist
        if transition in {"answer_on_spot", "request_review", "request_re_review"}:
            return self.desk[0]
        return self.triage


# --- context: organisation, staff, code tables ----------------------------------------------------


def _users_with(center: Center, role: str, department_kind: str | None = None) -> list[int]:
    qs = User.objects.filter(center=center, is_active=True, roles__role=role)
    if department_kind is not None:
        qs = qs.filter(department__kind=department_kind)
    return list(qs.order_by("pk").values_list("pk", flat=True).distinct())


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    return make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose


def _demo_user(
    username: str, full_name: str, center: Center, roles: list[str], department: Department | None
) -> int:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, full_name=full_name, center=center, department=department)
        user.password = _demo_password_hash()
        user.save()
        user.set_roles(roles)
    return user.pk


def _center_info(center: Center) -> _CenterInfo:
    """Who does what at ``center``: its own staff, else per-center demo users (created once)."""
    code = center.region_code
    short = center.name.replace("涉法涉诉联合接访服务中心", "")
    departments = {
        d.kind: d.pk
        for d in Department.objects.filter(center=center, is_active=True).order_by("pk")
    }
    reception, triage = _users_with(center, Role.RECEPTION), _users_with(center, Role.TRIAGE)
    if not reception and not triage:
        desk = _demo_user(
            f"desk_{code}", f"接待员（{short}）", center, [Role.RECEPTION, Role.TRIAGE], None
        )
        reception = triage = [desk]
    supervisor = _users_with(center, Role.SUPERVISOR)
    archivist = _users_with(center, Role.ARCHIVIST)
    if not supervisor or not archivist:
        staff = _demo_user(
            f"staff_{code}",
            f"督办员（{short}）",
            center,
            [Role.SUPERVISOR, Role.LEADER, Role.ARCHIVIST],
            None,
        )
        supervisor, archivist = supervisor or [staff], archivist or [staff]
    officers: dict[str, int] = {
        kind: users[0]
        for kind in ORGAN_KINDS.values()
        if (users := _users_with(center, Role.OFFICER, kind))
    }
    head = _users_with(center, Role.HEAD)
    heads: dict[str, int] = {
        kind: users[0]
        for kind in ORGAN_KINDS.values()
        if (users := _users_with(center, Role.HEAD, kind))
    }
    leader = [u for u in _users_with(center, Role.LEADER) if u != supervisor[0]] or supervisor
    if not head:
        police = Department.objects.filter(center=center, kind=DepartmentKind.POLICE).first()
        officer = _demo_user(
            f"officer_{code}", f"承办人（{short}）", center, [Role.OFFICER, Role.HEAD], police
        )
        head = [officer]
        officers.setdefault(DepartmentKind.POLICE, officer)
        heads.setdefault(DepartmentKind.POLICE, officer)
    return _CenterInfo(
        pk=center.pk,
        region_code=code,
        name=center.name,
        level=center.level,
        desk=(reception or triage)[:1] + (triage or reception)[:1],
        triage=(triage or reception)[0],
        officers=officers,
        head=head[0],
        supervisor=supervisor[0],
        archivist=archivist[0],
        departments=departments,
        registered_message=_("Registered at %(center)s") % {"center": center.name},
        heads=heads,
        leader=leader[0],
        parent=center.parent_id,
    )


@dataclass
class _Category:
    pk: int
    code: str
    parent_code: str
    organ: int | None
    department_kind: str
    requests: list[str]


@dataclass
class _Rule:
    pk: int | None
    length: int
    day_type: str
    basis: str


class _Context:
    def __init__(self, centers: dict[str, Center], now: datetime) -> None:
        self.now = now
        self.tz: tzinfo = timezone.get_default_timezone()
        infos = [_center_info(c) for c in centers.values()]
        by_pk = {info.pk: info for info in infos}
        for info in infos:
            info.reviewing = by_pk.get(info.parent) if info.parent else None
            top = info
            while top.parent in by_pk and top.level != CenterLevel.PROVINCE:
                top = by_pk[top.parent]
            info.province = top
        self.centers = _Weighted(
            [(info, CENTER_LEVEL_WEIGHTS.get(CenterLevel(info.level), 1.0)) for info in infos]
        )
        channels = list(Channel.objects.filter(is_active=True))
        purposes = list(Purpose.objects.filter(is_active=True))
        if not channels or not purposes:
            raise ImproperlyConfigured("The code tables are empty: run migrate first.")
        self.channels = _Weighted([(c, CHANNEL_WEIGHTS.get(c.code, 1.0)) for c in channels])
        self.purposes = _Weighted([(p, PURPOSE_WEIGHTS.get(p.code, 1.0)) for p in purposes])
        organs = {o.code: o for o in Organ.objects.filter(is_active=True)}
        leaves = list(
            ContentCategory.objects.filter(is_active=True, children__isnull=True).select_related(
                "parent"
            )
        )
        if not leaves:
            raise ImproperlyConfigured("The content category table is empty: run migrate first.")
        categories = []
        for leaf in leaves:
            parent_code = leaf.parent.code if leaf.parent else leaf.code
            organ = organs.get(parent_code) or organs.get("other")
            kind = (organ.department_kind if organ else "") or ORGAN_KINDS.get(parent_code, "")
            requests = REQUESTS.get(leaf.code) or REQUESTS.get(parent_code) or REQUESTS["other"]
            categories.append(
                (
                    _Category(
                        leaf.pk, leaf.code, parent_code, organ.pk if organ else None, kind, requests
                    ),
                    CATEGORY_WEIGHTS.get(leaf.code, 1.5),
                )
            )
        self.categories = _Weighted(categories)
        self.rules = self._deadline_rules()

    def _deadline_rules(self) -> dict[str, _Rule]:
        rules = {k: _Rule(None, n, "calendar", "") for k, n in DEADLINE_DEFAULTS.items()}
        try:
            from clocks.models import DeadlineRule
        except ImportError:  # pragma: no cover - clocks not installed
            return rules
        for rule in DeadlineRule.objects.filter(province_region_code="", kind__in=list(rules)):
            rules[rule.kind] = _Rule(rule.pk, rule.length, rule.day_type, rule.basis)
        return rules

    def due(self, kind: str, start: datetime, extended: bool = False) -> datetime:
        """End of the clock's last day (Beijing), as clocks.deadlines counts it; a
        working-day rule is approximated by 7 calendar days per 5 working days."""
        rule = self.rules[kind]
        days = rule.length + (30 if extended and kind == "handling" else 0)
        if rule.day_type == "working":
            days = math.ceil(days * 7 / 5)
        last = timezone.localtime(start, self.tz).date() + timedelta(days=days)
        return datetime.combine(last, dt_time(23, 59, 59), tzinfo=self.tz)


# --- the generator ---------------------------------------------------------------------------------


class _Generator:
    """Draws cases in chronological order. Every random choice is made here, in a fixed order."""

    OPEN_HOUR, CLOSE_HOUR = 8.0, 17.5  # desk hours, local time
    REUSE_PERSON = 0.12  # share of cases whose main petitioner is already on file
    REPEAT_VISITS = 0.08  # share of cases the person came back for (more for stuck cases)

    def __init__(self, ctx: _Context, rng: random.Random) -> None:
        self.ctx = ctx
        self.rng = rng
        self.case_ids = _Ids(Case)
        self.person_ids = _Ids(Petitioner)
        self.pool: list[_Person | int] = []  # every person so far (ints once written)
        self.settled = 0
        self.first_case: int | None = None
        self.seen_numbers: set[str] = set()
        self.surnames = _Weighted(SURNAMES)
        self.occupations = _Weighted(OCCUPATIONS)
        regions = [(r, 8.0 if r[1] == SHIJIAZHUANG else 1.0) for r in REGIONS]
        self.regions = _Weighted(regions)
        self.city_regions = [r for r in REGIONS if r[1] == SHIJIAZHUANG]
        self.regions_by_code = {r[0]: r for r in REGIONS}

    # people

    def _id_number(self, region: str) -> tuple[str, str, date | None, str]:
        """(ID type, number, birth date, sex): mostly resident IDs, unique within the run."""
        rng = self.rng
        roll = rng.random()
        while True:
            if roll < 0.96:
                sex = "M" if rng.random() < 0.55 else "F"
                born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 62))
                number = resident_id(rng, region=region, born=born, sex=sex)
                id_type, birth = IdType.RESIDENT.value, born
            elif roll < 0.975:
                sex = rng.choice("MF")
                number, id_type, birth = f"E{rng.randrange(10**8):08d}", IdType.PASSPORT.value, None
            elif roll < 0.98:
                sex = rng.choice("MF")
                number, id_type, birth = f"H{rng.randrange(10**8):08d}", IdType.HK_MACAO.value, None
            else:
                return IdType.NONE.value, "", None, "U"  # letters and calls often come without one
            if number not in self.seen_numbers:
                self.seen_numbers.add(number)
                return id_type, number, birth, sex

    def _address(self, region: tuple[str, str, str]) -> str:
        rng = self.rng
        _code, city, county = region
        town = rng.choice(TOWNS)
        if rng.random() < 0.45:
            return f"河北省{city}{county}{town}{rng.choice(VILLAGES)}{rng.randint(1, 300)}号"
        return (
            f"河北省{city}{county}{town}{rng.choice(ESTATES)}"
            f"{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元{rng.randint(1, 28)}0{rng.randint(1, 4)}室"
        )

    def _person(self, at: datetime, by: int, region: tuple[str, str, str] | None = None) -> _Person:
        rng = self.rng
        region = region or self.regions.pick(rng)
        id_type, number, birth, sex = self._id_number(region[0])
        chars = GIVEN_FEMALE if sex == "F" else GIVEN_MALE
        given = "".join(rng.choice(chars) for _ in range(1 if rng.random() < 0.35 else 2))
        if rng.random() < 0.9:
            phone = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        elif rng.random() < 0.7:
            phone = f"0311-8{rng.randrange(10**7):07d}"
        else:
            phone = ""
        home = self._address(region)
        person = _Person(
            pk=self.person_ids.next(),
            name=self.surnames.pick(rng) + given,
            sex=sex,
            id_type=id_type,
            id_number=number,
            phone=phone,
            birth_date=birth,
            address=home if rng.random() < 0.8 else self._address(self.regions.pick(rng)),
            household_registration=home,
            occupation=self.occupations.pick(rng),
            created_at=at,
            created_by=by,
        )
        self.pool.append(person)
        return person

    def settle(self) -> None:
        """After a batch is written, keep only the ids of its people (memory for a million)."""
        for i in range(self.settled, len(self.pool)):
            entry = self.pool[i]
            if isinstance(entry, _Person):
                self.pool[i] = entry.pk
        self.settled = len(self.pool)

    # the life cycle

    def _life(
        self, registered_at: datetime, purpose: str, channel: str, law_related: bool
    ) -> _Life:
        """The whole path of a case from registration, then cut at now (DOMAIN.md §4).

        The path follows the services' order of the rights (appeals.services): a re-review only
        after a decided review (Art 36), lawful termination only for a law-related matter and
        only once the window to ask for review or re-review has passed (Art 37, DOMAIN.md §8),
        proposed by the department, reviewed by the center and approved by the province. The
        termination steps do not change the state (``from == to``): the case stays replied or
        closed until the province approves."""
        rng, now = self.rng, self.ctx.now
        steps: list[tuple[str, str, str, datetime]] = []
        t = registered_at
        state = S.REGISTERED.value
        stuck = rng.choice(["screen", "accept", "reply"]) if rng.random() < 0.08 else ""
        extended = rng.random() < 0.06
        reply_decision = rng.randrange(len(DECISIONS))
        evaluation: tuple[datetime, str] | None = None
        outcomes = {
            "answer_on_spot": "现场答复：已当场解释相关法律规定及救济途径。",
            "not_accept": rng.choice(NOT_ACCEPTED),
            "refer_out": "已告知信访人向有权处理的机关提出。",
            "route_legal": "已导入诉讼程序依法处理。",
            "reply": f"书面答复：{DECISIONS[reply_decision]}",
            "decide_review": f"复查意见：{rng.choice(DECISIONS)}",
            "decide_re_review": f"复核意见：{rng.choice(DECISIONS)}",
            "terminate": "依法终结。",
        }

        def step(name: str, to: str | None, days: float) -> None:
            # ``to`` None: a step that keeps the state (a termination proposal, its review)
            nonlocal t, state
            t = t + timedelta(seconds=int(days * 86400))
            steps.append((name, state, to or state, t))
            state = to or state

        if purpose == "enquiry" and channel in {"visit", "phone"} and rng.random() < 0.85:
            step("answer_on_spot", S.CLOSED, rng.uniform(0.005, 0.05))
            if rng.random() < 0.9:
                step("archive", S.ARCHIVED, rng.uniform(20, 150))
        else:
            screen = rng.uniform(16, 90) if stuck == "screen" else rng.uniform(0.5, 12)
            roll = rng.random()
            if roll < 0.28:
                if roll < 0.09:
                    step("not_accept", S.NOT_ACCEPTED, screen)
                elif roll < 0.18:
                    step("refer_out", S.REFERRED, screen)
                else:
                    step("route_legal", S.LEGAL_PROCEDURE, screen)
                if rng.random() < 0.9:
                    step("archive", S.ARCHIVED, rng.uniform(20, 150))
            else:
                step("assign", S.ASSIGNED, screen)
                if rng.random() < 0.03:
                    step("return_assignment", S.RETURNED, rng.uniform(0.5, 4))
                    step("confirm_return", S.REGISTERED, rng.uniform(0.5, 3))
                    step("assign", S.ASSIGNED, rng.uniform(0.5, 5))
                step("sign_for", S.SIGNED, rng.uniform(0.2, 4))
                step(
                    "accept",
                    S.HANDLING,
                    rng.uniform(16, 60) if stuck == "accept" else rng.uniform(0.5, 10),
                )
                handle = rng.uniform(61, 300) if stuck == "reply" else rng.uniform(10, 58)
                step("reply", S.REPLIED, handle + (rng.uniform(10, 30) if extended else 0))
                roll = rng.random()
                review = roll < 0.12
                # Most petitioners give their verdict at the desk or by phone; one who asks for
                # review is mostly dissatisfied.
                if rng.random() < 0.85:
                    rating = rng.random()
                    if review:
                        rating = 0.9 + rating / 10 if rating < 0.8 else rating * 0.8
                    evaluation = (
                        t + timedelta(seconds=int(rng.uniform(0.1, 2.5) * 86400)),
                        "satisfied"
                        if rating < 0.65
                        else "basically_satisfied"
                        if rating < 0.87
                        else "dissatisfied",
                    )
                if review:
                    step("request_review", S.REVIEW, rng.uniform(3, 28))
                    step("decide_review", S.REPLIED, rng.uniform(10, 30))
                    if rng.random() < 0.35:
                        step("request_re_review", S.RE_REVIEW, rng.uniform(3, 28))
                        step("decide_re_review", S.CLOSED, rng.uniform(10, 30))
                        if law_related and rng.random() < 0.3:
                            self._terminate(step, rng.uniform(10, 60))
                    else:
                        step("close", S.CLOSED, rng.uniform(31, 40))
                elif roll < 0.14 and law_related:
                    self._terminate(step, rng.uniform(31, 60))
                else:
                    step("close", S.CLOSED, rng.uniform(30, 45))
                if rng.random() < 0.9:
                    step("archive", S.ARCHIVED, rng.uniform(20, 150))
        done = [s for s in steps if s[3] <= now]
        moved = [s for s in done if s[1] != s[2]]  # the steps that changed the state
        return _Life(
            steps=done,
            state=done[-1][2] if done else S.REGISTERED.value,
            changed_at=moved[-1][3] if moved else registered_at,
            closed_at=next((s[3] for s in done if s[2] in {S.CLOSED, S.TERMINATED}), None),
            # the latest decision reached so far (what the case list shows as its outcome)
            outcome=next((outcomes[s[0]] for s in reversed(done) if s[0] in outcomes), ""),
            last_message=outcomes.get(done[-1][0], "") if done else "",
            extended=extended,
            reply_decision=REPLY_DECISIONS[reply_decision],
            evaluation=evaluation if evaluation is not None and evaluation[0] <= now else None,
        )

    def _terminate(self, step: Callable[[str, str | None, float], None], days: float) -> None:
        """Lawful termination (Art 37): proposed by the lead department ``days`` after the last
        answer (its window has passed), reviewed by the case's center, approved by the
        province. Proposal and review leave the state as it is."""
        rng = self.rng
        step("propose_termination", None, days)
        step("review_termination", None, rng.uniform(3, 15))
        step("terminate", S.TERMINATED, rng.uniform(5, 30))

    # cases

    def _day_counts(self, n: int) -> list[tuple[date, int, float]]:
        """(day, cases, desk hours open) over the past 730 days, weekdays busier, today only up
        to now."""
        now_local = timezone.localtime(self.ctx.now, self.ctx.tz)
        today = now_local.date()
        full = self.CLOSE_HOUR - self.OPEN_HOUR
        days: list[tuple[date, float, float]] = []
        for back in range(729, -1, -1):
            day = today - timedelta(days=back)
            weight = (1.0, 1.0, 1.0, 1.0, 1.0, 0.2, 0.1)[day.weekday()]
            hours = full
            if day == today:
                hours = min(full, max(0.0, now_local.hour + now_local.minute / 60 - self.OPEN_HOUR))
                weight *= hours / full
            days.append((day, weight, hours))
        total = sum(w for _d, w, _h in days)
        # Cumulative rounding: whole numbers that add up to exactly n and spread evenly even
        # when there are fewer cases than days.
        result: list[tuple[date, int, float]] = []
        cumulative, assigned = 0.0, 0
        for day, weight, hours in days:
            cumulative += n * weight / total
            count = math.floor(cumulative + 0.5) - assigned
            assigned += count
            if count:
                result.append((day, count, hours))
        return result

    def cases(self, n: int) -> Iterator[_CaseSpec]:
        rng, ctx = self.rng, self.ctx
        for day, count, hours in self._day_counts(n):
            opens = datetime.combine(day, dt_time(8, 0), tzinfo=ctx.tz)
            seconds = sorted(int(rng.random() * hours * 3600) for _ in range(count))
            for offset in seconds:
                yield self._case(day, opens + timedelta(seconds=offset))

    def _case(self, day: date, at: datetime) -> _CaseSpec:
        rng, ctx = self.rng, self.ctx
        pk = self.case_ids.next()
        if self.first_case is None:
            self.first_case = pk
        center = ctx.centers.pick(rng)
        by = center.desk[0] if rng.random() < 0.85 else center.desk[-1]
        channel = ctx.channels.pick(rng)
        purpose = ctx.purposes.pick(rng)
        category = ctx.categories.pick(rng)
        if center.level == CenterLevel.COUNTY:
            region = self.regions_by_code.get(center.region_code) or rng.choice(self.city_regions)
        elif center.level == CenterLevel.CITY:
            region = rng.choice(self.city_regions)
        else:
            region = self.regions.pick(rng)
        if self.pool and rng.random() < self.REUSE_PERSON:
            main: _Person | int = self.pool[rng.randrange(len(self.pool))]
        else:
            main = self._person(at, by, region if rng.random() < 0.7 else None)
        headcount, reps = 1, []
        roll = rng.random()
        if channel.code == "visit" and roll < 0.06:
            # A group visit (5 or more people) names up to 5 representatives (Art 20).
            headcount = min(200, 5 + int(rng.expovariate(1 / 12)))
            for _ in range(rng.randint(1, 4)):
                reps.append(self._person(at, by, region))
        elif channel.code == "visit" and roll < 0.14:
            headcount = rng.randint(2, 4)
        year = at.year - rng.randint(0, 3)
        request = rng.choice(category.requests).format(
            y=year, c=region[0][2:], n=rng.randint(1, 3999)
        )
        facts = (
            f"{year}年{rng.randint(1, 12)}月，信访人与{rng.choice(PARTIES)}因{rng.choice(MATTERS)}"
            f"发生纠纷，经处理后信访人认为处理不公，多次反映未果。"
        )
        legal = ""
        if category.parent_code in {"court", "procuratorate"} and rng.random() < 0.7:
            legal = f"（{year}）冀{region[0][2:]}民初{rng.randint(1, 3999)}号"
        law_related = rng.random() < 0.95
        life = self._life(at, purpose.code, channel.code, law_related)
        stuck_open = life.state in S.open_states() and (ctx.now - at).days > 90
        repeat: list[datetime] = []
        if rng.random() < (0.4 if stuck_open else self.REPEAT_VISITS):
            end = min(ctx.now, at + timedelta(days=400))
            span = (end - at).total_seconds() - 86400
            if span > 0:
                repeat = sorted(
                    at + timedelta(seconds=86400 + int(rng.random() * span))
                    for _ in range(rng.randint(1, 5))
                )
        return _CaseSpec(
            pk=pk,
            center=center,
            day=day,
            registered_at=at,
            registered_by=by,
            channel=channel.pk,
            channel_name=channel.name,
            purpose=purpose.pk,
            category=category.pk,
            organ=category.organ,
            department_kind=category.department_kind,
            legal_case_number=legal,
            problem_region_code=region[0],
            is_law_related=law_related,
            is_major_urgent=rng.random() < 0.01,
            is_safety_risk=rng.random() < 0.005,
            is_skip_level=rng.random() < (0.6 if center.level == CenterLevel.PROVINCE else 0.05),
            headcount=headcount,
            request=request,
            facts_reasons=facts,
            main=main,
            representatives=list(reps),
            life=life,
            repeat_visits=repeat,
        )


# --- the writer ------------------------------------------------------------------------------------

PETITIONER_COLUMNS = [
    "id", "name", "name_key", "sex", "id_type", "id_number_enc", "id_number_hash",
    "id_number_masked", "phone_enc", "phone_hash", "phone_masked", "birth_date", "address",
    "household_registration", "occupation", "notes", "created_at", "created_by_id",
]  # fmt: skip
CASE_COLUMNS = [
    "id", "number", "query_code_hash", "center_id", "origin_center_id", "state",
    "state_changed_at", "version", "channel_id", "purpose_id", "category_id", "organ_id",
    "legal_case_number", "problem_region_code", "is_law_related", "is_major_urgent",
    "is_safety_risk", "is_skip_level", "is_group", "headcount", "request", "facts_reasons",
    "main_petitioner_id", "visit_count", "registered_at", "registered_by_id", "next_due_at",
    "closed_at", "outcome", "submission_key",
]  # fmt: skip
CASE_INDEX = {name: i for i, name in enumerate(CASE_COLUMNS)}
HISTORY_COLUMNS = [
    *CASE_COLUMNS,
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user_id",
]
LINK_COLUMNS = ["case_id", "petitioner_id", "role"]
VISIT_COLUMNS = [
    "case_id", "petitioner_id", "center_id", "channel_id", "at", "is_repeat", "headcount",
    "notes", "received_by_id", "submission_key",
]  # fmt: skip
EVENT_COLUMNS = ["case_id", "kind", "from_state", "to_state", "actor_id", "at", "message", "data"]
ASSIGNMENT_COLUMNS = [
    "id", "case_id", "department_id", "role", "state", "due_at", "instructions", "assigned_by_id",
    "assigned_at", "signed_by_id", "signed_at", "handler_id", "accepted_at", "returned_at",
    "return_reason", "contribution",
]  # fmt: skip
DEADLINE_COLUMNS = [
    "case_id", "kind", "rule_id", "basis", "day_type", "starts_at", "due_at", "is_provisional",
    "paused_at", "paused_days", "extended_days", "extension_reason", "met_at", "warning_level",
    "overdue_since", "escalation_step", "assignment_id", "created_at",
]  # fmt: skip
REPLY_COLUMNS = [
    "id", "case_id", "department_id", "decision", "request_summary", "facts_reasons",
    "legal_basis", "review_route", "status", "document_number", "drafted_by_id", "drafted_at",
    "submitted_at", "approved_by_id", "approved_at", "delivered_at", "delivery_method", "signed",
    "delivered_by_id", "superseded_at",
]  # fmt: skip
EVALUATION_LINK_COLUMNS = [
    "case_id", "reply_id", "salt", "token_hash", "created_at", "expires_at", "used_at",
]  # fmt: skip
EVALUATION_COLUMNS = [
    "id", "case_id", "reply_id", "department_id", "center_rating", "department_rating",
    "reasons", "channel", "given_by", "recorded_by_id", "evaluated_at",
]  # fmt: skip
RETURN_VISIT_COLUMNS = [
    "case_id", "department_id", "reason", "evaluation_id", "scheduled_for", "created_by_id",
    "created_at", "done_at", "done_by_id", "visitors", "method", "outcome",
]  # fmt: skip
REVIEW_COLUMNS = [
    "id", "case_id", "kind", "reply_id", "previous_id", "reason", "channel", "requested_at",
    "recorded_by_id", "reviewing_center_id", "window_due_at", "decision_due_at", "decision",
    "answer", "decided_by_id", "decided_at", "delivered_at", "document_number", "submission_key",
    "forwarded_to", "outcome_date",
]  # fmt: skip
TERMINATION_COLUMNS = [
    "id", "case_id", "state", "department_id", "grounds", "proposed_by_id", "proposed_at",
    "support_unit_id", "center_reviewed_by_id", "center_reviewed_at", "center_opinion",
    "approved_by_id", "approved_at", "approving_body", "approval_date", "approval_opinion",
    "submission_key",
]  # fmt: skip
FINALITY_COLUMNS = ["case_id", "reason", "final_at", "review_id", "termination_id"]
CLOSURE_COLUMNS = [
    "case_id", "closed_at", "closed_by_id", "close_note", "archive_number", "archived_at",
    "archived_by_id", "archive_override_reason",
]  # fmt: skip
SATISFIED = frozenset({"satisfied", "basically_satisfied"})
REVIEW_ROUTE = "如对本处理意见不服，可以自收到本意见书之日起30日内，向上一级机关请求复查（《信访工作条例》第三十五条）。"
WARN_APPROACHING_DAYS, WARN_SEVERE_DAYS = 3, 1
# From this many cases (and at least as many as are already there) indexes are rebuilt, not
# maintained row by row (see _IndexHold). Statistics are left to autovacuum.
DROP_INDEXES_FROM = 50_000  # supervision's default warning thresholds


def _reserve(
    model: type[models.Model], need: dict[tuple[int, int], int]
) -> dict[tuple[int, int], int]:
    """Reserve ``k`` serials per (center, year) on a (center, year, last) counter with one
    upsert (as ``_Writer._number`` does for case numbers): live services lock the same rows and
    continue above. Returns the first reserved serial of each key."""
    if not need:
        return {}
    qn = connection.ops.quote_name
    t = qn(model._meta.db_table)
    center_col, year_col, last_col = (
        qn(model._meta.get_field(name).column or name) for name in ("center", "year", "last")
    )
    first: dict[tuple[int, int], int] = {}
    keys = list(need.items())
    with connection.cursor() as cursor:
        for start in range(0, len(keys), 300):
            chunk = keys[start : start + 300]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            params: list[Any] = []
            for (center_id, year), k in chunk:
                params += [center_id, year, k]
            cursor.execute(
                f"INSERT INTO {t} ({center_col}, {year_col}, {last_col}) VALUES {values} "  # noqa: S608
                f"ON CONFLICT ({center_col}, {year_col}) "
                f"DO UPDATE SET {last_col} = {t}.{last_col} + EXCLUDED.{last_col} "
                f"RETURNING {center_col}, {year_col}, {last_col}",
                params,
            )
            for center_id, year, last in cursor.fetchall():
                key = (int(center_id), int(year))
                first[key] = int(last) - need[key] + 1
    return first


def _reply_times(at: dict[str, datetime]) -> tuple[datetime, datetime, datetime]:
    """(drafted and submitted, approved, delivered) of the written reply delivered at
    ``at["reply"]``: drafted within the handling time, approved by the head before delivery."""
    delivered = at["reply"]
    drafted = max(at.get("accept", delivered), delivered - timedelta(days=3))
    return drafted, max(drafted, delivered - timedelta(days=1)), delivered


class _AfterReply:
    """The rows closure.services and appeals.services write from the written reply on, for
    the steps a case's life has taken: each case in "replied" has its delivered reply (with
    its document number, evaluation link and review window), each one under review or
    re-review its pending request at the deciding center with its decision clock, each
    termination its proposal in the state it reached, each final matter its Finality, each
    closed or archived file its CaseClosure (archive numbers reserved like case numbers)."""

    def __init__(self, ctx: _Context) -> None:
        from appeals.models import Finality, ReviewRequest, Termination
        from closure.models import (
            ArchiveCounter,
            CaseClosure,
            Evaluation,
            EvaluationLink,
            Reply,
            ReplyCounter,
            ReturnVisit,
        )
        from closure.selectors import evaluation_window
        from closure.tokens import hash_token, token_for

        now = ctx.now
        self.ctx = ctx
        self.link_token_hash: Callable[[str], str] = lambda salt: hash_token(token_for(salt))
        self.reply_counter, self.archive_counter = ReplyCounter, ArchiveCounter
        self.replies = _Table(Reply, REPLY_COLUMNS, now=now)
        self.links = _Table(EvaluationLink, EVALUATION_LINK_COLUMNS, now=now)
        self.evaluations = _Table(Evaluation, EVALUATION_COLUMNS, now=now)
        self.return_visits = _Table(ReturnVisit, RETURN_VISIT_COLUMNS, now=now)
        self.reviews = _Table(ReviewRequest, REVIEW_COLUMNS, now=now)
        self.terminations = _Table(Termination, TERMINATION_COLUMNS, now=now)
        self.finalities = _Table(Finality, FINALITY_COLUMNS, now=now)
        self.closures = _Table(CaseClosure, CLOSURE_COLUMNS, now=now)
        # parents before children: each batch is loaded in this order, in one transaction
        self.tables = [
            self.replies,
            self.links,
            self.evaluations,
            self.return_visits,
            self.reviews,
            self.terminations,
            self.finalities,
            self.closures,
        ]
        self.reply_ids, self.evaluation_ids = _Ids(Reply), _Ids(Evaluation)
        self.review_ids, self.termination_ids = _Ids(ReviewRequest), _Ids(Termination)
        self.evaluation_window = evaluation_window()
        self.reply_serials: dict[tuple[int, int], int] = {}
        self.archive_serials: dict[tuple[int, int], int] = {}

    def reserve(self, batch: list[_CaseSpec], tz: tzinfo) -> None:
        """The reply and archive document numbers the batch needs (closure.services numbers
        them per center and year of approval / archiving)."""
        replies: dict[tuple[int, int], int] = {}
        archives: dict[tuple[int, int], int] = {}
        for spec in batch:
            at = {s[0]: s[3] for s in spec.life.steps}
            if "reply" in at and self._lead_ok(spec):
                key = (spec.center.pk, _reply_times(at)[1].astimezone(tz).year)
                replies[key] = replies.get(key, 0) + 1
            if "archive" in at:
                key = (spec.center.pk, at["archive"].astimezone(tz).year)
                archives[key] = archives.get(key, 0) + 1
        self.reply_serials = _reserve(self.reply_counter, replies)
        self.archive_serials = _reserve(self.archive_counter, archives)

    @staticmethod
    def _lead_ok(spec: _CaseSpec) -> bool:
        return bool(spec.center.departments)

    @staticmethod
    def _serial(serials: dict[tuple[int, int], int], center: _CenterInfo, year: int) -> int:
        key = (center.pk, year)
        serial = serials[key]
        serials[key] = serial + 1
        return serial

    def rows(self, writer: _Writer, spec: _CaseSpec, kind: str | None) -> dict[str, int]:
        ctx, life, center, now = writer.ctx, spec.life, spec.center, writer.ctx.now
        at = {s[0]: s[3] for s in life.steps}
        actors: dict[str, int] = {}
        # [reason, final at, review id, termination id] (appeals.Finality, one per case)
        final: list[Any] | None = None
        reply_satisfied = True  # nothing to be satisfied with: archived without override
        if kind is not None and "reply" in at:
            department = center.departments[kind]
            officer = center.officers.get(kind, center.head)
            head = center.heads.get(kind, center.head)
            drafted, approved, delivered = _reply_times(at)
            year = approved.astimezone(ctx.tz).year
            reply_id = self.reply_ids.next()
            serial = self._serial(self.reply_serials, center, year)
            self.replies.add(
                (
                    reply_id,
                    spec.pk,
                    department,
                    life.reply_decision,
                    spec.request,
                    "经调查核实，信访人反映的问题已依法处理，现将处理意见答复如下。",
                    "《信访工作条例》第三十二条",
                    REVIEW_ROUTE,
                    "delivered",
                    f"{center.region_code}-{year}-答复-{serial:05d}",
                    officer,
                    drafted,
                    drafted,
                    head,
                    approved,
                    delivered,
                    "in_person",
                    True,
                    officer,
                    None,
                )
            )
            actors["reply"] = officer
            evaluation = life.evaluation
            salt = hashlib.sha256(f"demo-evaluation:{writer.seed}:{spec.number}".encode())
            salt_text = salt.hexdigest()[:32]
            self.links.add(
                (
                    spec.pk,
                    reply_id,
                    salt_text,
                    self.link_token_hash(salt_text),
                    approved,
                    delivered + self.evaluation_window,
                    evaluation[0] if evaluation else None,
                )
            )
            reply_satisfied = evaluation is not None and evaluation[1] in SATISFIED
            if evaluation is not None:
                self._evaluation(spec, reply_id, department, officer, evaluation, now)
            # review and re-review (Arts 35-36): decided one level up, a re-review not by
            # whoever decided the review (appeals.services._check_may_decide)
            answers = [(delivered, "request_review", "review_window_lapsed")]
            if "request_review" in at:
                reviewing = center.reviewing or center
                decider = reviewing.supervisor
                if decider in {officer, head}:
                    decider = reviewing.leader
                review_id, decided = self._review(
                    spec, "review", reply_id, None, at, reviewing, decider, delivered
                )
                if decided is not None:
                    actors["decide_review"] = decider
                    answers.append((decided, "request_re_review", "re_review_window_lapsed"))
                if "request_re_review" in at and decided is not None:
                    # Art 36: one level above the reviewing center; above the province the
                    # request is forwarded upward and the province records the outcome received
                    # (appeals.services.record_forwarded_outcome: any of its deciders)
                    upper = reviewing.reviewing or reviewing
                    decider2 = upper.supervisor
                    if reviewing.reviewing is not None and decider2 in {officer, head, decider}:
                        decider2 = upper.leader
                    re_review_id, decided2 = self._review(
                        spec,
                        "re_review",
                        None,
                        review_id,
                        at,
                        upper,
                        decider2,
                        decided,
                        forwarded=reviewing.reviewing is None,
                    )
                    if decided2 is not None:
                        actors["decide_re_review"] = decider2
                        final = ["re_review_decided", decided2, re_review_id, None]
            # the petitioner's windows: used by a request, ended by termination or archiving,
            # else closed at their due time by appeals.tasks.finalise_lapsed_windows, which
            # makes the matter final
            for start, request_step, lapsed in answers:
                due = ctx.due("review_window", start)
                ends = [
                    t
                    for t in (at.get(request_step), at.get("terminate"), at.get("archive"))
                    if t is not None and t <= due
                ]
                met = min(ends) if ends else (due if due < now else None)
                if not ends and met is not None and final is None:
                    final = [lapsed, due, None, None]
                writer._clock(spec, "review_window", start, due, met_at=met)
            if "propose_termination" in at:
                final = self._termination(spec, at, department, officer, actors, final)
        if final is not None:
            self.finalities.add((spec.pk, *final))
        if "close" in at or "archive" in at:
            closed, archived = at.get("close"), at.get("archive")
            number, archiver, override = None, 0, ""
            if archived is not None:
                year = archived.astimezone(ctx.tz).year
                serial = self._serial(self.archive_serials, center, year)
                number = f"{center.region_code}-{year}-归档-{serial:05d}"
                # closure.services.archive_needs_override: a delivered reply without a
                # satisfied verdict is archived by a supervisor, with a reason
                if "reply" in at and "terminate" not in at and not reply_satisfied:
                    archiver = center.supervisor
                    override = "信访人未作满意评价，已多次解释说明，经督办员审核同意归档。"
                else:
                    archiver = center.archivist
                actors["archive"] = archiver
            self.closures.add(
                (
                    spec.pk,
                    closed,
                    center.supervisor if closed else None,
                    "已答复，结案。" if closed else "",
                    number,
                    archived,
                    archiver or None,
                    override,
                )
            )
        return actors

    def _evaluation(
        self,
        spec: _CaseSpec,
        reply_id: int,
        department: int,
        officer: int,
        evaluation: tuple[datetime, str],
        now: datetime,
    ) -> None:
        evaluated_at, rating = evaluation
        evaluation_id = self.evaluation_ids.next()
        dissatisfied = rating == "dissatisfied"
        self.evaluations.add(
            (
                evaluation_id,
                spec.pk,
                reply_id,
                department,
                rating,
                rating,
                "问题没有得到解决，对处理结果不满意。" if dissatisfied else "",
                "desk" if spec.pk % 3 else "phone",
                "",
                spec.center.desk[0],
                evaluated_at,
            )
        )
        if not dissatisfied:
            return
        # closure.services._schedule_dissatisfied_visit: a return visit within a working week
        scheduled = evaluated_at.date() + timedelta(days=7)
        done = datetime.combine(scheduled, dt_time(10, 0), tzinfo=evaluated_at.tzinfo)
        done_at = done if done <= now else None
        self.return_visits.add(
            (
                spec.pk,
                department,
                "dissatisfied",
                evaluation_id,
                scheduled,
                None,
                evaluated_at,
                done_at,
                officer if done_at else None,
                "承办人" if done_at else "",
                "phone" if done_at else "",
                "已电话回访，向信访人进一步解释处理依据，告知复查途径。" if done_at else "",
            )
        )

    def _review(
        self,
        spec: _CaseSpec,
        kind: str,
        reply_id: int | None,
        previous_id: int | None,
        at: dict[str, datetime],
        reviewing: _CenterInfo,
        decider: int,
        answered: datetime,
        forwarded: bool = False,
    ) -> tuple[int, datetime | None]:
        """A review or re-review request as appeals.services.request_review records it (and
        decide_review decides it, or record_forwarded_outcome records the outcome of one
        forwarded upward); returns its id and when it was decided, if it was."""
        from appeals.services import organ_above

        request_step, decide_step, clock = (
            ("request_review", "decide_review", "review_decision")
            if kind == "review"
            else ("request_re_review", "decide_re_review", "re_review_decision")
        )
        pk = self.review_ids.next()
        requested, decided = at[request_step], at.get(decide_step)
        prefix = "复查" if kind == "review" else "复核"
        self.reviews.add(
            (
                pk,
                spec.pk,
                kind,
                reply_id,
                previous_id,
                "信访人对答复意见不服，认为处理不公。",
                "in_person",
                requested,
                spec.center.desk[0],
                reviewing.pk,
                self.ctx.due("review_window", answered),
                self.ctx.due(clock, requested),
                "uphold" if decided else "",
                "经审查，原处理意见认定事实清楚，适用法律正确，予以维持。" if decided else "",
                decider if decided else None,
                decided,
                decided,
                (
                    (f"中政复〔{decided:%Y}〕{pk}号" if forwarded else None)
                    or f"{reviewing.region_code}{prefix}{decided:%Y}-{pk:06d}"
                )
                if decided
                else None,
                None,
                organ_above() if forwarded else "",
                timezone.localdate(decided, self.ctx.tz) if forwarded and decided else None,
            )
        )
        return pk, decided

    def _termination(
        self,
        spec: _CaseSpec,
        at: dict[str, datetime],
        department: int,
        officer: int,
        actors: dict[str, int],
        final: list[Any] | None,
    ) -> list[Any] | None:
        """Proposed by the lead department, reviewed by the case's center, approved at the
        province (appeals.services.propose_termination, decide_termination)."""
        center = spec.center
        province = center.province or center
        pk = self.termination_ids.next()
        proposed = at["propose_termination"]
        reviewed, approved = at.get("review_termination"), at.get("terminate")
        state = "approved" if approved else "center_reviewed" if reviewed else "proposed"
        self.terminations.add(
            (
                pk,
                spec.pk,
                state,
                department,
                "已经复查、复核或答复期满，法律程序已穷尽，信访人仍坚持原诉求。",
                officer,
                proposed,
                department,
                center.supervisor if reviewed else None,
                reviewed,
                "同意报请依法终结。" if reviewed else "",
                province.supervisor if approved else None,
                approved,
                province.name if approved else "",
                approved.astimezone(self.ctx.tz).date() if approved else None,
                "同意依法终结。" if approved else "",
                None,
            )
        )
        actors["propose_termination"] = officer
        actors["review_termination"] = center.supervisor
        actors["terminate"] = province.supervisor
        if approved is None:
            return final
        if final is None:
            return ["terminated", approved, None, pk]
        # appeals.services._make_final: a final matter later terminated is recorded as such
        return ["terminated", final[1], final[2], pk]


class _Writer:
    def __init__(self, ctx: _Context, seed: int, out: _Out) -> None:
        now = ctx.now
        self.ctx, self.seed, self.out = ctx, seed, out
        self.petitioners = _Table(Petitioner, PETITIONER_COLUMNS, now=now)
        self.cases = _Table(Case, CASE_COLUMNS, now=now)
        self.history = _Table(Case.history.model, HISTORY_COLUMNS, now=now)
        self.links = _Table(CasePetitioner, LINK_COLUMNS, now=now)
        self.visits = _Table(Visit, VISIT_COLUMNS, now=now)
        self.events = _Table(CaseEvent, EVENT_COLUMNS, now=now)
        self.tables = [
            self.petitioners,
            self.cases,
            self.history,
            self.links,
            self.visits,
            self.events,
        ]
        self.assignments: _Table | None = None
        self.assignment_ids: _Ids | None = None
        self.deadlines: _Table | None = None
        try:
            from routing.models import Assignment

            self.assignments = _Table(Assignment, ASSIGNMENT_COLUMNS, now=now)
            self.assignment_ids = _Ids(Assignment)
            self.tables.append(self.assignments)
        except (ImportError, ImproperlyConfigured) as exc:
            out.write(f"Skipping assignments: {exc}\n")
        try:
            from clocks.models import Deadline

            self.deadlines = _Table(Deadline, DEADLINE_COLUMNS, now=now)
            self.tables.append(self.deadlines)
        except (ImportError, ImproperlyConfigured) as exc:
            out.write(f"Skipping deadlines: {exc}\n")
        self.repeat_message = _("Repeat visit (%(channel)s)")
        # What the services of closure/ and appeals/ write after the written reply (the reply,
        # its evaluation link, evaluations and return visits, review requests, terminations,
        # finality, the closure record), so that a case in any state has the rows its pages,
        # queues and services read. Skipped, with the reply and appeal steps, if their models
        # gain a column this module cannot fill.
        self.after_reply: _AfterReply | None = None
        try:
            self.after_reply = _AfterReply(ctx)
            self.tables += self.after_reply.tables
        except (ImportError, ImproperlyConfigured) as exc:
            out.write(f"Skipping replies and appeals: {exc}\n")

    def prepare(self, batch: list[_CaseSpec]) -> list[_Load]:
        """Number the batch, write its people and cases into rows, and hand them over."""
        self._number(batch)
        self._people(batch)
        if self.after_reply is not None:
            self.after_reply.reserve(batch, self.ctx.tz)
        for spec in batch:
            self._case_rows(spec)
        return [load for table in self.tables if (load := table.take_load()) is not None]

    def _number(self, batch: list[_CaseSpec]) -> None:
        """Reserve serials per (center, day) with one upsert; see the module docstring."""
        need: dict[tuple[int, date], int] = {}
        for spec in batch:
            key = (spec.center.pk, spec.day)
            need[key] = need.get(key, 0) + 1
        qn = connection.ops.quote_name
        t = qn(CaseNumberCounter._meta.db_table)
        center_col, day_col, last_col = (
            qn(CaseNumberCounter._meta.get_field(name).column or name)
            for name in ("center", "day", "last")
        )
        top: dict[tuple[int, str], int] = {}
        keys = list(need.items())
        with connection.cursor() as cursor:
            for start in range(0, len(keys), 300):
                chunk = keys[start : start + 300]
                values = ", ".join(["(%s, %s, %s)"] * len(chunk))
                params: list[Any] = []
                for (center_id, day), k in chunk:
                    params += [center_id, connection.ops.adapt_datefield_value(day), k]
                cursor.execute(
                    f"INSERT INTO {t} ({center_col}, {day_col}, {last_col}) VALUES {values} "  # noqa: S608
                    f"ON CONFLICT ({center_col}, {day_col}) "
                    f"DO UPDATE SET {last_col} = {t}.{last_col} + EXCLUDED.{last_col} "
                    f"RETURNING {center_col}, {day_col}, {last_col}",
                    params,
                )
                for center_id, day, last in cursor.fetchall():
                    top[(int(center_id), str(day))] = int(last)
        serial = {key: top[(key[0], str(key[1]))] - k for key, k in need.items()}
        for spec in batch:
            key = (spec.center.pk, spec.day)
            serial[key] += 1
            spec.number = f"{spec.center.region_code}{spec.day:%Y%m%d}{serial[key]:05d}"

    def _people(self, batch: list[_CaseSpec]) -> None:
        """Write the batch's new files; a number already on file links to the existing one."""
        new: dict[int, _Person] = {}
        for spec in batch:
            for person in (spec.main, *spec.representatives):
                if isinstance(person, _Person) and person.pk not in new:
                    new[person.pk] = person
        by_hash: dict[tuple[str, str], _Person] = {}
        for person in new.values():
            if person.id_number:
                person.id_hash = pii.id_number_index(person.id_number, person.id_type)
                by_hash[(person.id_type, person.id_hash)] = person
        by_type: dict[str, list[str]] = {}
        for id_type, id_hash in by_hash:
            by_type.setdefault(id_type, []).append(id_hash)
        # Served by the unique index on (id_type, id_number_hash) WHERE id_number_hash <> '', the
        # one index on these columns that stays during a large load (_IndexHold): so the ID type
        # is part of the condition, the index's own condition is spelled out, and an IN list has
        # at most 100 values (PostgreSQL proves a partial index's predicate from up to 100).
        for id_type, hashes in by_type.items():
            for start in range(0, len(hashes), 100):
                found = (
                    Petitioner.objects.exclude(id_number_hash="")
                    .filter(id_type=id_type, id_number_hash__in=hashes[start : start + 100])
                    .values_list("pk", "id_type", "id_number_hash")
                )
                for pk, found_type, id_hash in found:
                    on_file = by_hash.get((found_type, id_hash))
                    if on_file is not None:
                        on_file.pk, on_file.existing = pk, True
        for person in new.values():
            if person.existing:
                continue
            number, phone = pii.normalize(person.id_number), pii.normalize(person.phone)
            self.petitioners.add(
                (
                    person.pk,
                    person.name,
                    name_key(person.name),
                    person.sex,
                    person.id_type,
                    pii.encrypt(number),
                    person.id_hash,
                    pii.mask_id(number),
                    pii.encrypt(phone),
                    pii.blind_index(phone),
                    pii.mask_phone(phone),
                    person.birth_date,
                    person.address,
                    person.household_registration,
                    person.occupation,
                    "",
                    person.created_at,
                    person.created_by,
                )
            )

    def _case_rows(self, spec: _CaseSpec) -> None:
        ctx, life, center = self.ctx, spec.life, spec.center
        main = spec.main if isinstance(spec.main, int) else spec.main.pk
        reps = [p if isinstance(p, int) else p.pk for p in spec.representatives]
        reps = [p for p in dict.fromkeys(reps) if p != main]
        open_clock = OPEN_CLOCK.get(life.state)
        clock: tuple[str, datetime, datetime] | None = None
        if open_clock:
            start = life.changed_at
            if open_clock == "acceptance_notice":
                start = next(s[3] for s in reversed(life.steps) if s[0] == "assign")
            clock = (open_clock, start, ctx.due(open_clock, start, life.extended))
        repeats = [v for v in spec.repeat_visits if v <= ctx.now]
        code_hash = hash_query_code(demo_query_code(self.seed, spec.number))
        row = (
            spec.pk,
            spec.number,
            code_hash,
            center.pk,
            center.pk,
            life.state,
            life.changed_at,
            1 + len(life.steps) + len(repeats),
            spec.channel,
            spec.purpose,
            spec.category,
            spec.organ,
            spec.legal_case_number,
            spec.problem_region_code,
            spec.is_law_related,
            spec.is_major_urgent,
            spec.is_safety_risk,
            spec.is_skip_level,
            spec.headcount >= 5,
            spec.headcount,
            spec.request,
            spec.facts_reasons,
            main,
            1 + len(repeats),
            spec.registered_at,
            spec.registered_by,
            clock[2] if clock and clock[0] not in WINDOW_CLOCKS else None,
            life.closed_at,
            life.outcome,
            None,
        )
        # The "+" row simple-history writes when the case is created: the case as registered,
        # by the registering user. Later steps are in the timeline (CaseEvent), not in history.
        as_registered = (
            ("state", S.REGISTERED.value),
            ("state_changed_at", spec.registered_at),
            ("version", 1),
            ("visit_count", 1),
            ("next_due_at", None),
            ("closed_at", None),
            ("outcome", ""),
        )
        history = (spec.registered_at, None, "+", spec.registered_by)
        if self.cases.postgres:
            texts = [_copy_text(v) for v in row]
            self.cases.add_text(texts)
            texts = texts.copy()
            for column, value in as_registered:
                texts[CASE_INDEX[column]] = _copy_text(value)
            self.history.add_text(texts + [_copy_text(v) for v in history])
        else:
            self.cases.add(row)
            registered = list(row)
            for column, value in as_registered:
                registered[CASE_INDEX[column]] = value
            self.history.add((*registered, *history))
        self.links.add((spec.pk, main, PetitionerRole.MAIN.value))
        for rep in reps:
            self.links.add((spec.pk, rep, PetitionerRole.REPRESENTATIVE.value))
        visit = [spec.pk, main, center.pk, spec.channel, spec.registered_at, False]
        self.visits.add((*visit, spec.headcount, "", spec.registered_by, None))
        self.events.add(
            (
                spec.pk,
                "registered",
                "",
                S.REGISTERED.value,
                spec.registered_by,
                spec.registered_at,
                center.registered_message,
                {},
            )
        )
        repeat_message = self.repeat_message % {"channel": spec.channel_name}
        for at in repeats:
            headcount = max(1, spec.headcount // 2)
            self.visits.add(
                (
                    spec.pk,
                    main,
                    center.pk,
                    spec.channel,
                    at,
                    True,
                    headcount,
                    "",
                    center.desk[0],
                    None,
                )
            )
            self.events.add(
                (spec.pk, "repeat_visit", "", "", center.desk[0], at, repeat_message, {})
            )
        lead = self._lead(spec)
        assignment_id = self._assignment(spec, lead)
        actors = self._after_reply(spec, lead)
        if life.steps:
            # The timeline keeps the registration and the step that led to the current state.
            name, src, dst, at = life.steps[-1]
            actor = actors.get(name) or center.actor_for(name, spec.department_kind)
            if src == dst:  # a step of its own service, not a transition
                name, src, dst = EVENT_KINDS.get(name, name), "", ""
            self.events.add((spec.pk, name, src, dst, actor, at, life.last_message, {}))
        if clock is not None:
            kind, start, due = clock
            self._clock(spec, kind, start, due, assignment_id, life.extended)
        if assignment_id is not None and life.state in {S.ASSIGNED, S.SIGNED}:
            # Art 23: the receiver's 5 working days to object, from the assignment; the sweep
            # closes the window at its due time once it has run out.
            assigned = next(s[3] for s in reversed(life.steps) if s[0] == "assign")
            due = ctx.due("objection", assigned)
            self._clock(
                spec,
                "objection",
                assigned,
                due,
                assignment_id,
                met_at=due if due < ctx.now else None,
            )

    def _clock(
        self,
        spec: _CaseSpec,
        kind: str,
        start: datetime,
        due: datetime,
        assignment_id: int | None = None,
        extended: bool = False,
        met_at: datetime | None = None,
    ) -> None:
        """One clocks.Deadline row as clocks.deadlines.open_deadline writes it (and the sweep
        rates it); ``met_at`` for one that was met or closed."""
        if self.deadlines is None:
            return
        ctx = self.ctx
        rule = ctx.rules[kind]
        days_left = (due - ctx.now).days
        if kind in WINDOW_CLOCKS or met_at is not None:
            level = "on_time"  # a window is never warned (the sweep closes it)
        elif ctx.now > due:
            level = "overdue"
        elif days_left <= WARN_SEVERE_DAYS:
            level = "severe"
        elif days_left <= WARN_APPROACHING_DAYS:
            level = "approaching"
        else:
            level = "on_time"
        extended = extended and kind == "handling"
        self.deadlines.add(
            (
                spec.pk,
                kind,
                rule.pk,
                rule.basis,
                rule.day_type,
                start,
                due,
                False,
                None,
                0,
                30 if extended else 0,
                "案情复杂，经单位负责人批准延期。" if extended else "",
                met_at,
                level,
                due if level == "overdue" else None,
                0,
                assignment_id if kind in PER_ASSIGNMENT_CLOCKS else None,
                start,
            )
        )

    def _lead(self, spec: _CaseSpec) -> str | None:
        """The kind of the lead department of a case that was assigned (None: never assigned,
        or its center has no department)."""
        if not any(s[0] == "assign" for s in spec.life.steps):
            return None
        center = spec.center
        kind = spec.department_kind if spec.department_kind in center.departments else None
        return kind or next(iter(center.departments), None)

    def _after_reply(self, spec: _CaseSpec, kind: str | None) -> dict[str, int]:
        """The rows of the steps after acceptance, as closure.services and appeals.services
        write them; returns the actor of each step that is not ``actor_for``'s."""
        if self.after_reply is None:
            return {}
        return self.after_reply.rows(self, spec, kind)

    def _assignment(self, spec: _CaseSpec, kind: str | None) -> int | None:
        """The lead assignment (交办) of a case that was assigned, in the state the case implies."""
        if self.assignments is None or self.assignment_ids is None or kind is None:
            return None
        steps = spec.life.steps
        last_assign = max(i for i, s in enumerate(steps) if s[0] == "assign")
        center = spec.center
        department = center.departments[kind]
        after = {s[0]: s[3] for s in steps[last_assign:]}
        assigned_at = steps[last_assign][3]
        # As the services leave it: returned; done only when closure.close_case finishes it (a
        # re-review decision or a termination closes the case and leaves it accepted).
        if "return_assignment" in after:
            state = "returned"
        elif "close" in after:
            state = "done"
        elif "accept" in after:
            state = "accepted"
        elif "sign_for" in after:
            state = "signed"
        else:
            state = "pending"
        # The officer who signed and handled it works in that department (the services check
        # it: an extension is asked for by the lead department); none there, nobody signed yet.
        officer = center.officers.get(kind)
        signed_at = after.get("sign_for")
        accepted_at = after.get("accept")
        pk = self.assignment_ids.next()
        due = accepted_at or assigned_at
        self.assignments.add(
            (
                pk,
                spec.pk,
                department,
                "lead",
                state,
                self.ctx.due("handling" if accepted_at else "acceptance_notice", due),
                "",
                center.triage,
                assigned_at,
                officer if signed_at else None,
                signed_at,
                officer if accepted_at else None,
                accepted_at,
                after.get("return_assignment"),
                "",
                "",
            )
        )
        return pk

    def verify(self, first_case: int | None) -> None:
        """Every petitioner a new case row points to exists (the references built from reused
        and already-on-file people); raises if not. One anti-join per reference."""
        if first_case is None:
            return
        qn = connection.ops.quote_name
        people = qn(Petitioner._meta.db_table)
        refs = [(Case, "main_petitioner_id", "id"), (CasePetitioner, "petitioner_id", "case_id")]
        refs.append((Visit, "petitioner_id", "case_id"))
        with connection.cursor() as cursor:
            for model, column, case_column in refs:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {qn(model._meta.db_table)} r "  # noqa: S608
                    f"WHERE r.{qn(case_column)} >= %s AND NOT EXISTS "
                    f"(SELECT 1 FROM {people} p WHERE p.id = r.{qn(column)})",
                    [first_case],
                )
                missing = cursor.fetchone()[0]
                if missing:
                    raise RuntimeError(
                        f"demo.cases: {missing} {model._meta.label} rows point to no petitioner"
                    )

    @property
    def models(self) -> list[type[models.Model]]:
        return [table.model for table in self.tables]


class _IndexHold:
    """For a large load into a (nearly) empty database: drop the written tables' non-unique
    indexes first and build them once at the end. A case row otherwise costs ~60 random index
    insertions (17 indexes on Case, 14 on its history, ...); CREATE INDEX sorts instead.
    Unique and primary-key indexes stay, so every uniqueness rule is enforced during the load.
    The definitions are kept in ``var/demo-dropped-indexes.sql`` until they are rebuilt, so a
    killed run can be repaired with ``psql -f``."""

    def __init__(self, tables: list[type[models.Model]], out: _Out) -> None:
        self.tables, self.out = tables, out
        self.definitions: list[str] = []
        self.path = Path(getattr(settings, "VAR_DIR", "var")) / "demo-dropped-indexes.sql"

    def drop(self) -> None:
        with connection.cursor() as cursor:
            for model in self.tables:
                cursor.execute(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                    "FROM pg_index i WHERE i.indrelid = %s::regclass "
                    "AND NOT i.indisunique AND NOT i.indisprimary ORDER BY 1",
                    [model._meta.db_table],
                )
                for name, definition in cursor.fetchall():
                    self.definitions.append(definition)
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self.path.write_text("".join(f"{d};\n" for d in self.definitions))
                    cursor.execute(f"DROP INDEX {name}")
        self.out.write(f"Dropped {len(self.definitions)} indexes for the load\n")

    def rebuild(self) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            while self.definitions:
                cursor.execute(self.definitions[0])
                self.definitions.pop(0)
                self.path.write_text("".join(f"{d};\n" for d in self.definitions))
            cursor.execute("RESET maintenance_work_mem")
        self.path.unlink(missing_ok=True)
        self.out.write(f"Rebuilt the indexes in {time.perf_counter() - started:.1f} s\n")


# --- entry point -----------------------------------------------------------------------------------


def generate_cases(
    n: int, *, seed: int, batch: int, stdout: _Out, now: datetime | None = None
) -> int:
    """Generate ``n`` demo cases registered over the past two years (before ``now``), in
    transactions of ``batch`` cases. Returns the number of cases written."""
    if n <= 0:
        return 0
    batch = max(1, batch)
    started = time.perf_counter()
    centers = seed_organisation()
    seed_users(centers)
    ctx = _Context(centers, now or timezone.now())
    generator = _Generator(ctx, random.Random(seed))
    writer = _Writer(ctx, seed, stdout)
    loader = _Loader()
    hold: _IndexHold | None = None
    if loader.threaded and n >= DROP_INDEXES_FROM and n >= Case.objects.count():
        hold = _IndexHold(writer.models, stdout)
        hold.drop()
    made = 0
    report_every = max(batch, n // 20)
    next_report = report_every
    pending: list[_CaseSpec] = []
    try:
        for spec in generator.cases(n):
            pending.append(spec)
            if len(pending) < batch:
                continue
            loader.put(writer.prepare(pending))
            generator.settle()
            made += len(pending)
            pending = []
            if made >= next_report:
                elapsed = time.perf_counter() - started
                stdout.write(
                    f"  {made:,} / {n:,} cases ({elapsed:.1f} s, {made / max(elapsed, 1e-9):,.0f} cases/s)\n"
                )
                next_report += report_every
        if pending:
            loader.put(writer.prepare(pending))
            generator.settle()
            made += len(pending)
    finally:
        try:
            loader.finish()
        finally:
            if hold is not None:
                hold.rebuild()
    if loader.skip_fk_triggers:
        writer.verify(generator.first_case)
    elapsed = time.perf_counter() - started
    rows = ", ".join(f"{t.model._meta.model_name} {t.written:,}" for t in writer.tables)
    stdout.write(
        f"Wrote {made:,} cases in {elapsed:.1f} s ({made / max(elapsed, 1e-9):,.0f} cases/s): {rows}\n"
    )
    return made
