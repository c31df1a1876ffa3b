"""A stub of Anthropic's Messages API on loopback, for tests: the real SDK talks real HTTP to it.

Queue responses with ``reply_*``; each POST /v1/messages takes the next one (the last one
repeats when the queue runs dry if ``repeat_last`` is set). Every request body received is kept
in ``requests`` (parsed JSON) with its headers in ``request_headers``.
"""

import itertools
import json
import threading
import time

from werkzeug import Response

from prompts import MAX_CRITERIA, MIN_CRITERIA

DEFAULT_USAGE = {"input_tokens": 1200, "output_tokens": 800, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
_ids = itertools.count(1)


def message_body(payload, *, usage=None, stop_reason="end_turn", model="claude-test-model"):
    """A Messages API success body whose single text block is ``payload`` (JSON-encoded unless str)."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return {
        "id": f"msg_stub_{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {**DEFAULT_USAGE, **(usage or {})},
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


class StubMessagesAPI:
    """Queue of canned Messages API answers served by a pytest-httpserver HTTPServer."""

    def __init__(self, httpserver):
        self.server = httpserver
        self.base_url = httpserver.url_for("/").rstrip("/")
        self._queue = []
        self._lock = threading.Lock()
        self.requests = []
        self.request_headers = []
        self.repeat_last = False
        self.on_request = None  # optional callable(body) run inside the handler (e.g. to inspect the DB)
        self._by_schema = {}  # output schema title -> (status, body, headers, delay), answered every time
        httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(self._handle)

    # --- queueing --------------------------------------------------------------------
    def reply_json(self, payload, *, usage=None, stop_reason="end_turn", model="claude-test-model", delay=0.0):
        """Queue a 200 whose text block is ``payload``."""
        return self._push(200, message_body(payload, usage=usage, stop_reason=stop_reason, model=model), {}, delay)

    def reply_for_schema(self, title, payload, *, usage=None, delay=0.0):
        """Answer every request asking for output schema ``title`` with ``payload`` (before the queue)."""
        with self._lock:
            self._by_schema[title] = (200, message_body(payload, usage=usage), {}, delay)
        return self

    def reply_status(self, status, *, error_type="api_error", message="stub error", headers=None, delay=0.0):
        """Queue an error status with an Anthropic-style error body."""
        body = {"type": "error", "error": {"type": error_type, "message": message}}
        return self._push(status, body, headers or {}, delay)

    def reply_sleep(self, seconds):
        """Queue an answer that arrives only after ``seconds`` (to trip the client's timeout)."""
        return self._push(200, message_body(enhanced_jd()), {}, seconds)

    def _push(self, status, body, headers, delay):
        with self._lock:
            self._queue.append((status, body, headers, delay))
        return self

    # --- serving ---------------------------------------------------------------------
    def _handle(self, request):
        body = json.loads(request.get_data() or b"{}")
        with self._lock:
            self.requests.append(body)
            self.request_headers.append(dict(request.headers))
            title = ((body.get("output_config") or {}).get("format") or {}).get("schema", {}).get("title")
            routed = self._by_schema.get(title)
            if routed:
                self._queue.insert(0, routed)
            if not self._queue:
                return Response(json.dumps({"type": "error", "error": {"type": "api_error", "message": "stub queue empty"}}),
                                status=500, content_type="application/json", headers={"x-should-retry": "false"})
            status, payload, headers, delay = self._queue[0] if (self.repeat_last and len(self._queue) == 1) else self._queue.pop(0)
        if self.on_request:
            self.on_request(body)
        if delay:
            time.sleep(delay)
        return Response(
            json.dumps(payload),
            status=status,
            content_type="application/json",
            headers={"request-id": f"req_stub_{len(self.requests)}", **headers},
        )

    @property
    def calls(self):
        """How many HTTP requests reached the stub."""
        return len(self.requests)


QUESTION_TYPES_IN_ORDER = ("technical", "system_design", "problem_solving", "behavioral", "situational")


def interview_plan(topics, *, level="senior", types=QUESTION_TYPES_IN_ORDER):
    """Claude's plan output: slot i gets topics[i], the level and types[i]."""
    return {
        "slots": [
            {"slot_number": i, "topic": topic, "skill_level": level, "question_type": types[i - 1], "tests": f"Applies {topic}."}
            for i, topic in enumerate(topics, start=1)
        ]
    }


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
