"""How well ``logpond.redact`` finds PII: a labeled corpus, recall per type, clean lines changed.

The corpus is generated with Faker in several locales from one seed: log lines (plain text,
logfmt, Python logging) and JSON records, each either carrying known PII values or clean.
Clean samples are full of hard negatives: UUIDs, 32-hex trace ids, millisecond timestamps,
version strings, ISO dates, hex hashes, order and invoice numbers, ports, durations.

A PII value counts as found when it no longer appears in the output (a card by its digits);
a clean sample counts as changed when its output differs from its input in any way.

    python bench/redact_quality.py [--seed 7] [--samples 20000]

prints one table per policy. ``tests/unit/redact/test_quality.py`` asserts the targets on a
fixed-seed corpus built by :func:`generate_corpus`.
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import random
import string
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from logpond.redact import DEFAULT_POLICY, RULE_NAMES, Policy, Redactor

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL", "ja_JP")

# Recall targets per reported group, and the largest share of clean samples changed.
RECALL_TARGETS: dict[str, float] = {
    "email": 0.99,
    "card": 0.99,
    "phone": 0.99,
    "jwt": 0.99,
    "keys": 0.99,
    "name": 0.95,
}
MAX_CLEAN_CHANGED = 0.005

# Types reported together in the "keys" row.
KEY_TYPES = frozenset({"aws_access_key_id", "aws_secret_key", "private_key"})

ALL_RULES_POLICY = Policy(rules=frozenset(RULE_NAMES))
NO_IP_POLICY = Policy(rules=frozenset(RULE_NAMES) - {"ipv4", "ipv6"})


@dataclass
class Sample:
    """One log line or JSON record, and the PII values planted in it (type, value)."""

    payload: str | dict[str, Any]
    pii: list[tuple[str, str]] = field(default_factory=list)
    template: str = ""


# --- PII values ------------------------------------------------------------------------------


class PiiFactory:
    """Realistic PII values of each type, from Faker (per locale) and seeded randomness."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers = {}
        for i, locale in enumerate(LOCALES):
            fake = Faker(locale)
            fake.seed_instance(seed * 1000 + i)
            self.fakers[locale] = fake

    def fake(self) -> Faker:
        return self.fakers[self.rng.choice(LOCALES)]

    def email(self) -> str:
        fake = self.fake()
        kind = self.rng.random()
        if kind < 0.5:
            return str(fake.email())
        if kind < 0.7:
            return str(fake.company_email())
        if kind < 0.85:
            first, last = self.ascii_name()
            tag = self.rng.choice(["", "+billing", "+test", ".work"])
            domain = self.rng.choice(["mail.acme.co.uk", "corp.example.com", "gmail.com"])
            return f"{first}.{last}{tag}@{domain}"
        user = self.rng.choice(["Support", "J.Doe", "Anna-Maria", "ops_team", "x"])
        return f"{user}@{fake.domain_name()}".replace("example", "Example")

    def ascii_name(self) -> tuple[str, str]:
        fake = self.fakers["en_US"]
        return str(fake.first_name()).lower(), str(fake.last_name()).lower()

    def name(self) -> str:
        return str(self.fake().name())

    def card(self) -> str:
        fake = self.fakers["en_US"]
        kind = self.rng.choice(
            ["visa16", "visa16", "visa13", "mastercard", "mastercard", "amex", "discover",
             "jcb16", "diners"]
        )  # fmt: skip
        number = str(fake.credit_card_number(card_type=kind))
        style = self.rng.random()
        if style < 0.5 or len(number) not in (15, 16):
            return number
        sep = " " if style < 0.8 else "-"
        if len(number) == 15:
            return sep.join([number[:4], number[4:10], number[10:]])
        return sep.join(number[i : i + 4] for i in range(0, 16, 4))

    def phone(self) -> str:
        return str(self.fake().phone_number())

    def iban(self) -> str:
        locale = self.rng.choice(["en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR"])
        iban = str(self.fakers[locale].iban())
        if self.rng.random() < 0.4:
            return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        return iban

    def ssn(self) -> str:
        return str(self.fakers["en_US"].ssn())

    def jwt(self) -> str:
        header = {"alg": self.rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
        payload = {
            "sub": str(self.rng.randrange(10**6)),
            "email": self.fakers["en_US"].email(),
            "iat": 1706091330 + self.rng.randrange(10**6),
        }
        sig = _b64url(self.rng.randbytes(self.rng.choice([32, 64, 256])))
        return f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}.{sig}"

    def aws_access_key_id(self) -> str:
        prefix = self.rng.choice(["AKIA", "AKIA", "ASIA"])
        return prefix + "".join(self.rng.choices(string.ascii_uppercase + "234567", k=16))

    def aws_secret_key(self) -> str:
        return "".join(self.rng.choices(string.ascii_letters + string.digits + "/+", k=40))

    def private_key(self) -> str:
        kind = self.rng.choice(["RSA ", "EC ", "", "OPENSSH ", "ENCRYPTED "])
        lines = [base64.b64encode(self.rng.randbytes(48)).decode() for _ in range(self.rng.randint(3, 12))]
        body = "\n".join(lines)
        return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"

    def token(self) -> str:
        alphabet = string.ascii_letters + string.digits
        return "".join(self.rng.choices(alphabet, k=self.rng.choice([24, 32, 40, 64])))

    def password(self) -> str:
        return str(self.fake().password(length=self.rng.randint(8, 20)))

    def basic(self) -> str:
        user, _ = self.ascii_name()
        return base64.b64encode(f"{user}:{self.password()}".encode()).decode()

    def ipv4(self) -> str:
        return str(self.fakers["en_US"].ipv4_public())

    def ipv6(self) -> str:
        """A public IPv6 address (the rule leaves private and reserved ones alone)."""
        while True:
            address = str(self.fakers["en_US"].ipv6())
            if ipaddress.IPv6Address(address).is_global:
                return address


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- clean values: hard negatives --------------------------------------------------------------


class CleanFactory:
    """Values that look like identifiers but are not PII."""

    def __init__(self, rng: random.Random, fake: Faker) -> None:
        self.rng = rng
        self.fake = fake

    def uuid(self) -> str:
        return str(self.fake.uuid4())

    def trace_id(self) -> str:
        return self.rng.randbytes(16).hex()

    def span_id(self) -> str:
        return self.rng.randbytes(8).hex()

    def ts_ms(self) -> str:
        return str(1_700_000_000_000 + self.rng.randrange(10**11))

    def epoch(self) -> str:
        return str(1_700_000_000 + self.rng.randrange(10**8))

    def version(self) -> str:
        parts = [self.rng.randint(0, 20) for _ in range(self.rng.choice([3, 3, 4]))]
        return ".".join(map(str, parts))

    def iso(self) -> str:
        r = self.rng
        return (
            f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:"
            f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{r.randint(0, 999):03d}Z"
        )

    def date(self) -> str:
        return f"2026-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"

    def sha(self) -> str:
        return self.rng.randbytes(self.rng.choice([20, 32])).hex()

    def order(self) -> str:
        return self.rng.choice(
            [
                f"ORD-{self.rng.randint(2020, 2026)}-{self.rng.randrange(10**6):06d}",
                f"INV-{self.rng.randrange(10**9):09d}",
                f"{self.rng.randrange(10**7, 10**9)}",
                f"PO{self.rng.randrange(10**10):010d}",
            ]
        )

    def port(self) -> str:
        return str(self.rng.choice([80, 443, 5432, 6379, 8080, 9092, 5647, 24224, 31337]))

    def duration(self) -> str:
        return self.rng.choice(
            [f"{self.rng.randint(1, 5000)}ms", f"{self.rng.random() * 10:.3f}s",
             f"{self.rng.randint(1, 999)}µs", f"{self.rng.random():.6f}"]
        )  # fmt: skip

    def number(self) -> str:
        return self.rng.choice(
            [str(self.rng.randint(0, 10**6)), f"{self.rng.random() * 1000:.2f}",
             f"{self.rng.random():.3e}", str(self.rng.randint(10**9, 10**10))]
        )  # fmt: skip

    def latencies(self) -> str:
        return json.dumps([self.rng.randint(1, 2000) for _ in range(self.rng.randint(3, 8))])

    def pod(self) -> str:
        app = self.rng.choice(["qualisys-api", "qualisys-worker", "coredns"])
        suffix = "".join(self.rng.choices(string.ascii_lowercase + string.digits, k=5))
        return f"{app}-{self.rng.randbytes(4).hex()[:9]}-{suffix}"

    def path(self) -> str:
        return self.rng.choice(
            [f"/api/v1/test-cases/{self.uuid()}", f"/api/v1/tenants/{self.rng.randint(1, 99)}/runs",
             "/healthz", f"/static/app.{self.sha()[:8]}.js", "/api/v1/search?q=status:failed",
             f"/img/logo@2x.png?v={self.version()}"]
        )  # fmt: skip

    def service_name(self) -> str:
        return self.rng.choice(
            ["checkout-service", "qualisys-api", "send_welcome_email", "billing", "agent.step",
             "kube-proxy", "reconciler"]
        )  # fmt: skip

    def word(self) -> str:
        return str(self.fake.word())


# --- templates ---------------------------------------------------------------------------------

Maker = Callable[[PiiFactory, CleanFactory], Sample]

# Log lines carrying one PII value ``{v}``, by type; the other fields are hard negatives.
PII_LINES: tuple[tuple[str, str], ...] = (
    ("email", "{ts} INFO auth: password reset requested for {v}"),
    ("email", 'ts={ts} level=info msg="login ok" user_email={v} trace_id={trace}'),
    ("email", "smtp: delivered to=<{v}> delay={dur} status=sent"),
    ("email", "[{ts}] WARNING notifier: bounce for '{v}' (attempt 3)"),
    ("email", "{ts} INFO crm: contact <{v}> merged; MAILTO:{v}"),
    ("name", 'ts={ts} level=info msg=checkout customer_name="{v}" order={order}'),
    ("name", "{ts} INFO billing: invoice created user_name={v}, amount=12.50"),
    ("name", "profile updated; full_name: '{v}'; took {dur}"),
    ("name", "{ts} DEBUG crm: name: {v} | tier=gold"),
    ("card", "{ts} ERROR payments: charge declined card={v} order={order}"),
    ("card", "Payment with card {v} failed: insufficient funds"),
    ("card", "cc {v} exp 12/27 cvv ***"),
    ("phone", "{ts} INFO notify: SMS sent to {v} in {dur}"),
    ("phone", 'ts={ts} level=info msg="callback scheduled" phone="{v}" trace_id={trace}'),
    ("phone", "Customer requested a call back on {v} (tel) before {ts}"),
    ("phone", "{ts} INFO voice: dialing tel:{v} via trunk-2"),
    ("phone", "callback from {v} at {ts}"),
    ("jwt", "{ts} DEBUG http: GET /api/v1/me Authorization: Bearer {v}"),
    ("jwt", "refreshing session for token {v} (expires in {dur})"),
    ("jwt", "GET /ws?token={v} 101 {dur}"),
    ("aws_access_key_id", "{ts} WARN boto: using credentials {v} from environment"),
    ("aws_secret_key", "export AWS_SECRET_ACCESS_KEY={v}"),
    ("aws_secret_key", "aws_secret_access_key = {v}"),
    ("private_key", "loaded key:\n{v}\nfrom vault in {dur}"),
    ("iban", "{ts} INFO payouts: transfer to {v} scheduled"),
    ("ssn", "{ts} INFO kyc: verified applicant ssn {v}"),
    ("token", "{ts} DEBUG upstream: Authorization: Bearer {v}"),
    ("token", "GET /oauth/callback?state=xyz&access_token={v}&expires=3600 200 {dur}"),
    ("password", "db connect failed: user=app password={v} host=db:{port}"),
    ("password", "connecting to postgres://app:{v}@db.internal:5432/qualisys"),
    ("basic", "{ts} DEBUG proxy: Authorization: Basic {v}"),
    ("ipv4", "{ts} INFO http: client {v} GET /healthz 200 {dur}"),
    ("ipv6", "{ts} INFO http: client {v} GET /healthz 200 {dur}"),
)

# SDK records with one PII value at a (dotted) key path: type, path, message.
PII_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("email", "email", "request handled"),
    ("email", "user.email", "user updated"),
    ("email", "notify.cc", "digest mailed"),
    ("name", "user_name", "request handled"),
    ("name", "customer_name", "order placed"),
    ("name", "full_name", "request handled"),
    ("name", "display_name", "request handled"),
    ("name", "user.name", "profile loaded"),
    ("name", "customer.fullName", "invoice sent"),
    ("name", "first_name", "signup"),
    ("name", "last_name", "signup"),
    ("name", "author.name", "comment posted"),
    ("card", "payment.pan", "payment authorized"),
    ("card", "payment.card", "card stored"),
    ("phone", "phone", "sms queued"),
    ("phone", "contact.mobile", "contact saved"),
    ("phone", "msisdn", "otp sent"),
    ("jwt", "id_token_hint", "oidc callback"),
    ("jwt", "oauth.access_token", "token exchanged"),
    ("aws_access_key_id", "credentials_source.key", "sts call"),
    ("aws_secret_key", "config.aws_secret_access_key", "loaded config"),
    ("private_key", "tls.material", "certificate rotated"),
    ("iban", "payout.account", "payout created"),
    ("password", "db.password", "db connect"),
)

# SDK records whose message carries the PII value.
PII_MESSAGES: tuple[tuple[str, str], ...] = (
    ("email", "Invite sent to {v} for order {order}"),
    ("email", 'webhook body={{"event":"signup","email":"{v}"}}'),
    ("card", "refund issued to {v} in {dur}"),
    ("phone", "Verification code sent by SMS to {v}"),
    ("jwt", "set-cookie session={v}; Path=/; HttpOnly"),
    ("aws_access_key_id", "assumed role, Credentials={{'AccessKeyId': '{v}', 'Version': 1}}"),
    ("private_key", "tls: {v}"),
)

# Clean log lines: no PII, many hard negatives.
CLEAN_LINES: tuple[str, ...] = (
    'I{date} {ts} 1 reconciler.go:224] "VerifyControllerAttachedVolume started" '
    'pod="default/{pod}" podUID="{uuid}"',
    'I{date} kube-proxy: Adding new service port "default/qualisys-api:http" at 10.96.{n}.12:{port}/TCP',
    "Normal  Scheduled  {dur}  default-scheduler  Successfully assigned default/{pod} to node-{n}",
    "{ts} INFO [qualisys.api] GET {path} -> 200 in {dur} (trace={trace} span={span})",
    'ts={ts} level=info msg="request finished" method=GET path={path} status=200 '
    "duration={dur} request_id={uuid}",
    "{ts} INFO starting qualisys-api version={ver} commit={sha} build={epoch} python=3.11.7",
    "upgraded dependency from {ver} to {ver} on {date}",
    "{ts} INFO orders: order {order} created total={num} items=3 ship_by={date}",
    "invoice {order} paid at {ms} (epoch ms), ledger entry {uuid}",
    "stats: p50={n}ms p99={dur} latencies={lat} rps={num} errors=0 window=60s",
    "correlation {uuid} trace {trace} parent {span} ts {ms} epoch {epoch}",
    "cache miss for key sha256:{sha} size={num} ttl=300s",
    "listening on 0.0.0.0:{port} (pid {n}, workers 4) in {dur}",
    "{ts} DEBUG db: SELECT * FROM test_cases WHERE tenant_id = $1 "
    "AND created_at > '{date}' LIMIT 50 -- {dur}",
    "{ts} WARNING http: retry {n}/5 after {dur} for {path} (status 503, attempt id {uuid})",
    "step {word} took {dur}; total {num}s; budget {n}ms; started {ms}",
    "{ts} INFO auth: token refreshed for tenant_{word} (expires_in=3600, scope=read:runs)",
    "{ts} INFO auth: password policy updated: min_length=12 rotation_days=90",
    "{ts} WARNING api: Bearer token expired for tenant_{word}; Bearer authentication required",
    "message 1{n}{ms}{n} edited in channel 1{ms}{n}",
    "{ts} INFO ci: build {n} of {sha} passed on runner-{n} ({dur}), artifact sha256:{sha}",
    "I{date} kubelet: Mounting projected volume kube-api-access-{word} "
    "with serviceaccount token for pod {pod}",
    "invoice total 1 234 567,89 EUR; tax 12.50; balance -3 400.00; id {order}",
)

USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def _sdk_record(c: CleanFactory, message: str, **fields: Any) -> dict[str, Any]:
    return {
        "timestamp": c.iso(),
        "level": c.rng.choice(["info", "info", "warning", "error"]),
        "message": message,
        "service": c.rng.choice(["qualisys-api", "qualisys-worker"]),
        "environment": "production",
        "trace_id": c.trace_id(),
        "tenant_id": f"tenant_{c.word()}",
        **fields,
    }


def _fill(template: str, c: CleanFactory, **values: str) -> str:
    return template.format(
        ts=c.iso(), trace=c.trace_id(), span=c.span_id(), uuid=c.uuid(), ms=c.ts_ms(),
        epoch=c.epoch(), ver=c.version(), date=c.date(), sha=c.sha(), order=c.order(),
        port=c.port(), dur=c.duration(), num=c.number(), lat=c.latencies(), pod=c.pod(),
        path=c.path(), svc=c.service_name(), word=c.word(), n=c.rng.randint(0, 500), **values,
    )  # fmt: skip


def pii_samples() -> list[tuple[str, Maker]]:
    """(type, maker): each maker plants one PII value of the type."""

    def line(kind: str, template: str) -> Maker:
        def make(p: PiiFactory, c: CleanFactory) -> Sample:
            value = getattr(p, kind)()
            return Sample(_fill(template, c, v=value), [(kind, value)], template)

        return make

    def field_at(kind: str, key: str, message: str) -> Maker:
        def make(p: PiiFactory, c: CleanFactory) -> Sample:
            value = getattr(p, kind)()
            if kind == "card" and key == "payment.card":  # a card stored as a JSON number
                value = "".join(ch for ch in value if ch.isdigit())
            path = key.split(".")
            fields: dict[str, Any] = {"duration_ms": c.rng.randint(1, 900), "status": 200}
            node = fields
            for part in path[:-1]:
                node = node.setdefault(part, {"id": c.uuid()})
            node[path[-1]] = int(value) if key == "payment.card" else value
            return Sample(_sdk_record(c, message, **fields), [(kind, value)], f"json:{key}")

        return make

    def in_message(kind: str, template: str) -> Maker:
        def make(p: PiiFactory, c: CleanFactory) -> Sample:
            value = getattr(p, kind)()
            message = _fill(template, c, v=value)
            record = _sdk_record(c, message, path=c.path())
            return Sample(record, [(kind, value)], f"msg:{template}")

        return make

    return [
        *((kind, line(kind, t)) for kind, t in PII_LINES),
        *((kind, field_at(kind, key, m)) for kind, key, m in PII_FIELDS),
        *((kind, in_message(kind, t)) for kind, t in PII_MESSAGES),
    ]


def _api_request(c: CleanFactory) -> dict[str, Any]:
    return _sdk_record(
        c, "HTTP Request", method=c.rng.choice(["GET", "POST", "PUT"]), path=c.path(),
        status=c.rng.choice([200, 201, 204, 400, 404, 500]), duration_ms=c.rng.randint(1, 900),
        user_agent=USER_AGENT, request_id=c.uuid(),
    )  # fmt: skip


def _worker_job(c: CleanFactory) -> dict[str, Any]:
    return _sdk_record(
        c, f"job {c.rng.choice(['finished', 'retrying', 'started'])}", task_id=c.uuid(),
        task_name=c.service_name(), retry=c.rng.randint(0, 3), queue="default",
        duration_ms=c.rng.randint(1, 90000), tokens_used=c.rng.randint(100, 9000),
        token_count=c.rng.randint(1, 4000), session_duration_ms=c.rng.randint(1, 10**6),
    )  # fmt: skip


def _agent_step(c: CleanFactory) -> dict[str, Any]:
    return _sdk_record(
        c, "agent step completed", step=c.rng.randint(1, 40), model="gpt-4o-2024-08-06",
        latency_ms=json.loads(c.latencies()), cost_usd=round(c.rng.random(), 6),
        auth_method=c.rng.choice(["api_key", "oauth", "sso"]), name=c.service_name(),
        commit=c.sha(), version=c.version(),
    )  # fmt: skip


def _deploy(c: CleanFactory) -> dict[str, Any]:
    return _sdk_record(
        c, f"deployed {c.service_name()} {c.version()}",
        image=f"registry.example.com/qualisys/api:{c.version()}", digest=f"sha256:{c.sha()}",
        replicas=c.rng.randint(1, 9), started_at_ms=int(c.ts_ms()), build=c.epoch(),
        order_id=c.order(),
    )  # fmt: skip


def _otel_span(c: CleanFactory) -> dict[str, Any]:
    return {
        "name": c.service_name(), "kind": "SERVER", "trace_id": c.trace_id(),
        "span_id": c.span_id(), "start_time_unix_nano": int(c.ts_ms()) * 10**6,
        "attributes": {"http.route": c.path(), "http.status_code": 200},
    }  # fmt: skip


def _customer_ids(c: CleanFactory) -> dict[str, Any]:
    return _sdk_record(
        c, "customer synced", customer_id=f"cus_{c.sha()[:14]}", user_id=c.rng.randint(1, 10**7),
        account_id=c.order(), sku=f"SKU-{c.sha()[:12].upper()}", batch=c.ts_ms(),
        session_duration_ms=c.rng.randint(1, 10**6), author=c.service_name(),
    )  # fmt: skip


CLEAN_RECORDS: tuple[Callable[[CleanFactory], dict[str, Any]], ...] = (
    _api_request, _worker_job, _agent_step, _deploy, _otel_span, _customer_ids,
)  # fmt: skip


def clean_samples() -> list[Maker]:
    """Makers of realistic log lines and records with no PII and many hard negatives."""

    def line(template: str) -> Maker:
        def make(p: PiiFactory, c: CleanFactory) -> Sample:
            return Sample(_fill(template, c), [], template)

        return make

    def record(build: Callable[[CleanFactory], dict[str, Any]]) -> Maker:
        def make(p: PiiFactory, c: CleanFactory) -> Sample:
            return Sample(build(c), [], build.__name__)

        return make

    return [*map(line, CLEAN_LINES), *map(record, CLEAN_RECORDS)]


def generate_corpus(seed: int = 7, samples: int = 20_000, pii_share: float = 0.5) -> list[Sample]:
    """A shuffled, labeled corpus; about ``pii_share`` of the samples carry one PII value."""
    rng = random.Random(seed)
    pii = PiiFactory(seed)
    cleaner = CleanFactory(rng, pii.fakers["en_US"])
    with_pii = pii_samples()
    clean = clean_samples()
    out: list[Sample] = []
    for i in range(samples):
        if rng.random() < pii_share:
            _, make = with_pii[i % len(with_pii)]
        else:
            make = clean[i % len(clean)]
        out.append(make(pii, cleaner))
    rng.shuffle(out)
    return out


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Score:
    """Found/planted per type, and clean samples changed/total."""

    found: Counter[str] = field(default_factory=Counter)
    planted: Counter[str] = field(default_factory=Counter)
    clean_changed: int = 0
    clean_total: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)

    def recall(self, group: str) -> float:
        types = KEY_TYPES if group == "keys" else {group}
        planted = sum(self.planted[t] for t in types)
        return sum(self.found[t] for t in types) / planted if planted else 1.0

    @property
    def clean_rate(self) -> float:
        return self.clean_changed / self.clean_total if self.clean_total else 0.0


def render(sample: Sample, redactor: Redactor) -> tuple[str, str]:
    """The sample as text before and after redaction (records as the SDK would ship them)."""
    if isinstance(sample.payload, dict):
        out, _ = redactor.redact_record(sample.payload, mark=False)
        return json.dumps(sample.payload, ensure_ascii=False), json.dumps(out, ensure_ascii=False)
    out_text, _ = redactor.redact_text(sample.payload)
    return sample.payload, out_text


def _still_there(kind: str, value: str, before: str, after: str) -> bool:
    if kind == "card":
        digits = "".join(ch for ch in value if ch.isdigit())
        return digits in "".join(ch for ch in after if ch.isdigit() or ch == "\n")
    if isinstance(value, str) and "\n" in value:
        after = after.replace("\\n", "\n")
    return value in after


def score(corpus: list[Sample], redactor: Redactor) -> Score:
    """Run the redactor over the corpus and count what it found and what it changed."""
    result = Score()
    for sample in corpus:
        before, after = render(sample, redactor)
        if not sample.pii:
            result.clean_total += 1
            if before != after:
                result.clean_changed += 1
                result.changed.append((sample.template, after))
            continue
        for kind, value in sample.pii:
            result.planted[kind] += 1
            if _still_there(kind, value, before, after):
                result.misses.append((kind, sample.template, after))
            else:
                result.found[kind] += 1
    return result


def table(title: str, result: Score, rows: Iterator[str] | list[str]) -> str:
    lines = [title, f"{'type':<20}{'planted':>9}{'found':>9}{'recall':>9}{'target':>9}"]
    for group in rows:
        types = KEY_TYPES if group == "keys" else {group}
        planted = sum(result.planted[t] for t in types)
        found = sum(result.found[t] for t in types)
        target = RECALL_TARGETS.get(group)
        lines.append(
            f"{group:<20}{planted:>9}{found:>9}{result.recall(group):>9.2%}"
            f"{'' if target is None else f'{target:.0%}':>9}"
        )
    lines.append(
        f"{'clean changed':<20}{result.clean_total:>9}{result.clean_changed:>9}"
        f"{result.clean_rate:>9.2%}{MAX_CLEAN_CHANGED:>9.1%}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--show-misses", type=int, default=0, help="print this many misses")
    args = parser.parse_args()
    corpus = generate_corpus(args.seed, args.samples)
    groups = [
        "email", "card", "phone", "jwt", "keys", "name", "iban", "ssn", "token", "password",
        "basic", "ipv4", "ipv6",
    ]  # fmt: skip
    for title, policy in (
        ("all rules", ALL_RULES_POLICY),
        ("all rules but IP addresses", NO_IP_POLICY),
        ("default policy", DEFAULT_POLICY),
    ):
        result = score(corpus, Redactor(policy))
        print(table(f"\n{title} (seed {args.seed}, {len(corpus)} samples)", result, groups))
        for kind, template, after in result.misses[: args.show_misses]:
            print(f"  miss {kind}: {template!r}\n    {after[:300]!r}")
        for template, after in result.changed[: args.show_misses]:
            print(f"  changed clean: {template!r}\n    {after[:300]!r}")


if __name__ == "__main__":
    main()
