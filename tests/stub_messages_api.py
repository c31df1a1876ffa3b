"""A stub of Anthropic's Messages API on loopback, for tests: the real SDK talks real HTTP to it.

It behaves like today's API (tests/messages_api_emulation.py): a request the API would reject
(retired model, forced tool use on the 5.5 generation, ...) gets the API's error and consumes
no queued reply; every 200 message starts with a thinking block when the request thinks (the
test ids do), echoes the request's model, and keeps the queued ``usage`` exactly (it is the
total billed, thinking included). ``"stream": true`` is answered with server-sent events.
GET /v1/models/{id} answers from the emulation's model catalogue.

Queue responses with ``reply_*``; each POST /v1/messages takes the next one (the last one
repeats when the queue runs dry if ``repeat_last`` is set). ``reply_for_schema`` answers by
output schema title instead (a payload, or a callable of the request for concurrent calls,
which may return a ``StubError`` to answer that one request with an error);
``fill_responder`` answers "InterviewQuestions" requests from their slot lines.
``reply_json(..., stream_error=True)`` makes a streamed answer fail after message_start with an
SSE ``error`` event (overloaded_error). Every message request body received is kept in
``requests`` (parsed JSON) with its headers in ``request_headers``; Models API calls in
``model_requests`` / ``model_request_headers``.

Set ``prompt_caching = True`` to have usage's cache fields computed by ``prompt_cache``: a
request is accounted at its arrival (before its responder runs and before the reply's
``delay``), and the entry it writes is readable from arrival + delay, when its first byte (a
stream's message_start) goes out. Requests answered with an error write nothing.
"""

import collections
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field

from werkzeug import Response

from prompts import MAX_CRITERIA, MIN_CRITERIA
from tests.messages_api_emulation import (
    PromptCache,
    check_request,
    decorate_message,
    error_body,
    model_info,
    sse_events,
)

DEFAULT_USAGE = {"input_tokens": 1200, "output_tokens": 800, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
CACHE_FIELDS = ("cache_creation_input_tokens", "cache_read_input_tokens")
_ids = itertools.count(1)
# The status the API answers when a non-streamed request meets the error a stream_error names.
_ERROR_STATUS = {"overloaded_error": 529, "api_error": 500, "rate_limit_error": 429, "invalid_request_error": 400}


class StubError:
    """What a reply_for_schema responder returns to answer its request with an error instead of a message.

    status: HTTP status (e.g. 429); error_type: the Anthropic error type (e.g. "rate_limit_error");
    message: the error message; headers: extra response headers (e.g. {"retry-after-ms": "10"}).
    Also accepted as ``stream_error=`` (then status is what a non-streamed request gets).
    """

    def __init__(self, status, error_type, message, headers=None):
        self.status = status
        self.error_type = error_type
        self.message = message
        self.headers = dict(headers or {})

    def body(self):
        """The Anthropic error body: {"type": "error", "error": {"type", "message"}}."""
        return error_body(self.error_type, self.message)

    def __repr__(self):
        return f"StubError({self.status!r}, {self.error_type!r}, {self.message!r}, headers={self.headers!r})"


OVERLOADED = StubError(529, "overloaded_error", "Overloaded")


def _as_stream_error(stream_error):
    if stream_error is None or stream_error is False:
        return None
    if stream_error is True:
        return OVERLOADED
    if isinstance(stream_error, StubError):
        return stream_error
    if isinstance(stream_error, str):  # an error type
        return StubError(_ERROR_STATUS.get(stream_error, 500), stream_error, "Overloaded" if stream_error == "overloaded_error" else "stub error")
    raise TypeError(f"stream_error must be True, an error type or a StubError, not {stream_error!r}")


def message_body(payload, *, usage=None, stop_reason="end_turn", model=None, thinking_tokens=None):
    """A Messages API success body whose single text block is ``payload`` (JSON-encoded unless str).

    model: None means "the request's model" once served (tests queue before knowing it).
    thinking_tokens: when given, usage gets ``output_tokens_details: {"thinking_tokens": N}``
    (output_tokens stays the given total, thinking included); without it (or an
    ``output_tokens_details`` in ``usage``) usage has no output_tokens_details.
    """
    text = payload if isinstance(payload, str) else json.dumps(payload)
    usage = {**DEFAULT_USAGE, **(usage or {})}
    if thinking_tokens is not None:
        usage["output_tokens_details"] = {"thinking_tokens": thinking_tokens}
    return {
        "id": f"msg_stub_{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def enhanced_jd(title="Senior Backend Engineer", description=None):
    """Claude's enhancement output (valid unless overridden)."""
    return {
        "enhanced_title": title,
        "enhanced_description": description
        or (
            "Summary\nOwn the payments API end to end.\n\nKey Deliverables\n- Ship idempotent refunds in 90 days.\n"
            "- Cut p99 latency of checkout by half within a year.\n\nResponsibilities\n- Design, build and run "
            "Python services on PostgreSQL.\n\nRequired Knowledge\n- Python, PostgreSQL, Kafka.\n\nCompetencies\n"
            "- Ownership, clear writing.\n\nQualifications\n- Five years building backend services."
        ),
    }


def interview_kit(criteria_counts=(8, 9, 10, 8, 9), numbers=None, topic_prefix="Topic"):
    """Claude's interview output: one question per entry of ``criteria_counts``."""
    types = ["technical", "system_design", "problem_solving", "behavioral", "situational"]
    questions = []
    for index, count in enumerate(criteria_counts):
        number = numbers[index] if numbers else index + 1
        questions.append(
            {
                "question_number": number,
                "question_type": types[index % len(types)],
                "skill_level": "senior",
                "topic": f"{topic_prefix} {number}",
                "question_text": f"Scenario {number}: a production incident in the payments API. What do you do?",
                "expected_answer": f"A structured answer for scenario {number}.",
                "criteria": [
                    {"criterion": f"Criterion {number}.{c}", "description": f"Shows behaviour {c} with an example."}
                    for c in range(1, count + 1)
                ],
            }
        )
    return {"questions": questions}


assert MIN_CRITERIA <= 8 and MAX_CRITERIA >= 10


@dataclass
class _Reply:
    """One canned answer: a fixed (status, body), or ``responder(request body)`` -> payload |
    (payload, usage) | StubError."""

    status: int
    body: dict | None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    explicit_cache: bool = False  # the test gave cache fields itself: never overwrite them
    responder: object = None
    usage: dict | None = None
    thinking_tokens: int | None = None
    stream_error: StubError | None = None  # a streamed answer ends with this SSE error event

    def resolve(self, request_body):
        """Return (status, body, explicit_cache, headers) for this request."""
        if self.responder is None:
            return self.status, self.body, self.explicit_cache, self.headers
        answer = self.responder(request_body)
        if isinstance(answer, StubError):
            return answer.status, answer.body(), False, {**self.headers, **answer.headers}
        payload, usage = answer if isinstance(answer, tuple) else (answer, None)
        usage = usage if usage is not None else self.usage
        body = message_body(payload, usage=usage, thinking_tokens=self.thinking_tokens)
        return 200, body, _gives_cache_fields(usage), self.headers


def _gives_cache_fields(usage):
    return bool(usage) and any(name in usage for name in CACHE_FIELDS)


class StubMessagesAPI:
    """Queue of canned Messages API answers served by a pytest-httpserver HTTPServer."""

    def __init__(self, httpserver):
        self.server = httpserver
        self.base_url = httpserver.url_for("/").rstrip("/")
        self._queue = []
        self._lock = threading.Lock()
        self.requests = []
        self.request_headers = []
        self.model_requests = []  # model ids asked for with GET /v1/models/{id}
        self.model_request_headers = []
        self.repeat_last = False
        self.on_request = None  # optional callable(body) run inside the handler (e.g. to inspect the DB)
        self.prompt_caching = False  # True: usage cache fields come from prompt_cache (unless the reply gives them)
        self.prompt_cache = PromptCache()  # replace or set .clock / .minimum_tokens in a test
        self.fill_calls_by_slot = collections.Counter()  # slot number -> fill requests naming it (fill_responder)
        self._by_schema = {}  # output schema title -> _Reply, answered every time
        httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(self._handle)
        httpserver.expect_request(re.compile(r"^/v1/models/[^/]+$"), method="GET").respond_with_handler(self._handle_model)

    # --- queueing --------------------------------------------------------------------
    def reply_json(self, payload, *, usage=None, stop_reason="end_turn", model=None, delay=0.0, thinking_tokens=None,
                   stream_error=None):
        """Queue a 200 whose text block is ``payload`` (model None = the request's model).

        thinking_tokens: report usage.output_tokens_details (see ``message_body``).
        stream_error: True (overloaded_error "Overloaded"), an error type or a StubError: a
        streamed request gets message_start, then ``event: error`` with that error body, and the
        stream ends; a non-streamed request gets the error as a JSON answer with its status
        (529 for overloaded_error).
        """
        body = message_body(payload, usage=usage, stop_reason=stop_reason, model=model, thinking_tokens=thinking_tokens)
        return self._push(_Reply(200, body, delay=delay, explicit_cache=_gives_cache_fields(usage),
                                 stream_error=_as_stream_error(stream_error)))

    def reply_for_schema(self, title, payload, *, usage=None, delay=0.0, thinking_tokens=None):
        """Answer every request asking for output schema ``title`` (before the queue).

        payload: the answer, or a callable(request body) -> payload, (payload, usage) or a
        ``StubError`` (that request is answered with the error's status, body and headers, after
        ``delay`` like any answer) for concurrent requests whose order is unpredictable.
        usage: tokens when the callable gives none. thinking_tokens: see ``message_body``.
        """
        if callable(payload):
            reply = _Reply(200, None, delay=delay, responder=payload, usage=usage, thinking_tokens=thinking_tokens)
        else:
            body = message_body(payload, usage=usage, thinking_tokens=thinking_tokens)
            reply = _Reply(200, body, delay=delay, explicit_cache=_gives_cache_fields(usage))
        with self._lock:
            self._by_schema[title] = reply
        return self

    def fill_responder(self, criteria=8, fail_numbers=(), usage=None):
        """Answer every "InterviewQuestions" request with questions for exactly the slots it lists.

        Slots come from the request's slot lines (``fill_slots``); each question gets ``criteria``
        criteria. The first non-repair request naming a slot in ``fail_numbers`` gets the invalid
        ``{"questions": []}``; its repair request (more than one user message) a valid answer.
        Counts requests per slot number in ``fill_calls_by_slot``.
        """
        pending_failures = set(fail_numbers)

        def respond(body):
            slots = fill_slots(body)
            numbers = {slot[0] for slot in slots}
            with self._lock:
                self.fill_calls_by_slot.update(numbers)
                failing = set() if is_repair_request(body) else numbers & pending_failures
                pending_failures.difference_update(failing)
            return ({"questions": []} if failing else filled_questions(slots, criteria=criteria)), usage

        return self.reply_for_schema("InterviewQuestions", respond, usage=usage)

    def reply_status(self, status, *, error_type="api_error", message="stub error", headers=None, delay=0.0):
        """Queue an error status with an Anthropic-style error body."""
        return self._push(_Reply(status, error_body(error_type, message), headers=headers or {}, delay=delay))

    def reply_sleep(self, seconds):
        """Queue an answer that arrives only after ``seconds`` (to trip the client's timeout)."""
        return self._push(_Reply(200, message_body(enhanced_jd()), delay=seconds))

    def _push(self, reply):
        with self._lock:
            self._queue.append(reply)
        return self

    # --- serving ---------------------------------------------------------------------
    def _handle(self, request):
        cache = self.prompt_cache
        arrival = cache.clock()
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _json(400, error_body("invalid_request_error", "the request body is not valid JSON"), "req_stub_bad_json")
        with self._lock:
            self.requests.append(body)
            self.request_headers.append(dict(request.headers))
            request_id = f"req_stub_{len(self.requests)}"
        rejection = check_request(body)
        if rejection:
            return _json(*rejection, request_id)
        reply = self._take(body)
        if reply is None:
            return _json(500, error_body("api_error", "stub queue empty"), request_id, {"x-should-retry": "false"})
        streamed = bool(body.get("stream"))
        cache_usage, withdraw = None, None
        if self.prompt_caching and reply.status == 200 and not reply.explicit_cache and (streamed or not reply.stream_error):
            # at arrival: readable once this answer's first byte goes out (arrival + delay)
            cache_usage, withdraw = cache.reserve(body, ttft=reply.delay, now=arrival)
        try:
            if self.on_request:
                self.on_request(body)
            status, payload, explicit_cache, headers = reply.resolve(body)
        except BaseException:
            if withdraw:
                withdraw()
            raise
        is_message = status == 200 and payload.get("type") == "message"
        if withdraw and (not is_message or explicit_cache):
            withdraw()  # an error writes nothing; cache fields the test gave are kept as given
            cache_usage = None
        if is_message:
            payload = self._as_served(body, payload, cache_usage)
        if reply.delay:
            time.sleep(reply.delay)
        if is_message and reply.stream_error and not streamed:
            failure = reply.stream_error
            return _json(failure.status, failure.body(), request_id, {**headers, **failure.headers})
        if is_message and streamed:
            error = reply.stream_error.body() if reply.stream_error else None
            return Response(sse_events(payload, error=error), status=200, content_type="text/event-stream",
                            headers={"request-id": request_id, "cache-control": "no-cache", **headers})
        return _json(status, payload, request_id, headers)

    def _take(self, body):
        """The reply for ``body``: its schema's, else the queue's next (None when the queue is empty)."""
        title = ((body.get("output_config") or {}).get("format") or {}).get("schema", {}).get("title")
        with self._lock:
            routed = self._by_schema.get(title)
            if routed:
                return routed
            if not self._queue:
                return None
            return self._queue[0] if (self.repeat_last and len(self._queue) == 1) else self._queue.pop(0)

    @staticmethod
    def _as_served(body, message, cache_usage):
        """The queued message as sent: decorated, its model override kept, cache fields accounted if given."""
        served = decorate_message(body, message)
        if message.get("model"):
            served["model"] = message["model"]
        if cache_usage:
            served["usage"] = {**served["usage"], **cache_usage}
        return served

    def _handle_model(self, request):
        model_id = request.path.rsplit("/", 1)[1]
        with self._lock:
            self.model_requests.append(model_id)
            self.model_request_headers.append(dict(request.headers))
            request_id = f"req_stub_model_{len(self.model_requests)}"
        return _json(*model_info(model_id), request_id)

    @property
    def calls(self):
        """How many POST /v1/messages requests reached the stub."""
        return len(self.requests)


def _json(status, payload, request_id, headers=None):
    return Response(json.dumps(payload), status=status, content_type="application/json",
                    headers={"request-id": request_id, **(headers or {})})


_SLOT_LINE = re.compile(
    r"^\s*(\d+)\. topic: (.*?) \| skill_level: (.*?) \| question_type: (.*?) \| reveals: (.*)$", re.MULTILINE
)


def fill_slots(request_body):
    """The slots a fill request lists, [(number, topic, level, type)], from its last user message that has slot lines."""
    for message in reversed(request_body.get("messages") or []):
        if message.get("role") != "user":
            continue
        slots = [(int(n), topic, level, kind) for n, topic, level, kind, _ in _SLOT_LINE.findall(_text(message))]
        if slots:
            return slots
    return []


def is_repair_request(request_body):
    """True for a repair call (the prompts' repair adds a second user message)."""
    return sum(1 for message in request_body.get("messages") or [] if message.get("role") == "user") > 1


def _text(message):
    content = message.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(block.get("text", "") for block in content or [] if isinstance(block, dict))


QUESTION_TYPES_IN_ORDER = ("technical", "system_design", "problem_solving", "behavioral", "situational")


def interview_plan(topics, *, level="senior", types=QUESTION_TYPES_IN_ORDER, covers=None):
    """Claude's plan output: slot i gets topics[i], the level and types[i], and, when ``covers`` is
    given, covers[i] (the WORK item strings it claims; without it the slots have no "covers")."""
    slots = [
        {"slot_number": i, "topic": topic, "skill_level": level, "question_type": types[i - 1], "tests": f"Applies {topic}."}
        for i, topic in enumerate(topics, start=1)
    ]
    for slot, claimed in zip(slots, covers or ()):
        slot["covers"] = list(claimed)
    return {"slots": slots}


def filled_questions(slots, *, criteria=8):
    """Claude's fill output for ``slots`` [(number, topic, level, type)]."""
    return {
        "questions": [
            {
                "question_number": number,
                "question_type": question_type,
                "skill_level": level,
                "topic": topic,
                "question_text": f"Scenario about {topic}: what do you do first, and why?",
                "expected_answer": f"A structured answer about {topic}.",
                "criteria": [
                    {"criterion": f"{topic} criterion {c}", "description": f"Shows {topic} skill {c}."}
                    for c in range(1, criteria + 1)
                ],
            }
            for number, topic, level, question_type in slots
        ]
    }


def fill_for_plan(plan, numbers=None):
    """The fill answer matching a plan's slots (all, or only ``numbers``)."""
    return filled_questions(
        [
            (s["slot_number"], s["topic"], s["skill_level"], s["question_type"])
            for s in plan["slots"]
            if numbers is None or s["slot_number"] in numbers
        ]
    )


def schema_title(request_body):
    """The output schema title a Messages API request asked for (e.g. "InterviewPlan")."""
    return request_body["output_config"]["format"]["schema"].get("title")


def assessment(judgements, feedback="Solid reasoning."):
    """Claude's assessment output. judgements: {question_number: [(criterion, met, evidence), ...]}."""
    return {
        "questions": [
            {
                "question_number": number,
                "feedback": feedback,
                "criteria": [{"criterion": c, "met": m, "evidence": e} for c, m, e in rows],
            }
            for number, rows in judgements.items()
        ]
    }
