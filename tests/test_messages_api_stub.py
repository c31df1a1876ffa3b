"""The stub Messages API behaves like today's API, checked through the real anthropic SDK.

Also the pure pieces: tests/messages_api_emulation.py and bench/stub_messages_api.py's latency
and effort helpers.
"""

import contextlib
import importlib.util
import json
import os
import threading
import time
import warnings

import anthropic
import pytest

from tests.messages_api_emulation import (
    RETIRED_MODELS,
    PromptCache,
    check_request,
    decorate_message,
    error_body,
    estimate_tokens,
    model_info,
    prompt_pieces,
    sse_events,
)
from tests.stub_messages_api import (
    DEFAULT_USAGE,
    StubError,
    enhanced_jd,
    fill_slots,
    filled_questions,
)

MODEL = "claude-sonnet-5-5"
USER = [{"role": "user", "content": "Enhance this job description."}]
LONG_SYSTEM = "You enhance job descriptions. " * 400  # about 3,000 tokens: above every minimum


@pytest.fixture
def sdk(claude):
    """The real SDK pointed at the stub, no retries."""
    return anthropic.Anthropic(base_url=claude.base_url, api_key="k", max_retries=0)


def _create(sdk, **overrides):
    with warnings.catch_warnings():  # the SDK warns about deprecated model ids; the stub's answer is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        return sdk.messages.create(**{"model": MODEL, "max_tokens": 1000, "messages": USER, **overrides})


def _body(**overrides):
    return {"model": MODEL, "max_tokens": 1000, "messages": USER, **overrides}


class _Clock:
    """A settable clock, in seconds."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


# --- Rejections --------------------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(RETIRED_MODELS))
def test_a_retired_model_raises_not_found_and_consumes_no_reply(claude, sdk, model):
    claude.reply_json(enhanced_jd())
    with pytest.raises(anthropic.NotFoundError) as caught:
        _create(sdk, model=model)
    assert caught.value.body["error"] == {"type": "not_found_error", "message": f"model: {model}"}
    assert _create(sdk).content[-1].text == json.dumps(enhanced_jd())


@pytest.mark.parametrize(
    "overrides",
    [
        {"tool_choice": {"type": "any"}, "tools": [{"name": "t", "input_schema": {"type": "object"}}]},
        {"tool_choice": {"type": "tool", "name": "t"}, "tools": [{"name": "t", "input_schema": {"type": "object"}}]},
        {"thinking": {"type": "disabled"}},
    ],
    ids=["tool_choice_any", "tool_choice_tool", "thinking_disabled"],
)
def test_forced_tool_use_and_disabled_thinking_on_sonnet_5_5_are_bad_requests(claude, sdk, overrides):
    claude.reply_json(enhanced_jd())
    with pytest.raises(anthropic.BadRequestError) as caught:
        _create(sdk, **overrides)
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert claude.calls == 1
    assert _create(sdk).content[-1].text == json.dumps(enhanced_jd())  # the queued reply was still there


def test_a_rejected_streaming_request_answers_a_json_error(claude, sdk):
    stream = sdk.messages.stream(model=MODEL, max_tokens=1000, messages=USER, thinking={"type": "disabled"})
    with pytest.raises(anthropic.BadRequestError), stream as events:
        events.get_final_message()


@pytest.mark.parametrize(
    "body, status",
    [
        (_body(model="claude-sonnet-5-5-20261118", tool_choice={"type": "any"}), 400),
        (_body(model="claude-opus-5-5", thinking={"type": "disabled"}), 400),
        (_body(model="claude-sonnet-5", temperature=0.2), 400),
        (_body(model="claude-haiku-5-5", top_p=0.9), 400),
        (_body(model="claude-opus-5", top_k=5), 400),
        (_body(output_config={"effort": "extreme"}), 400),
        ({"model": MODEL, "messages": USER}, 400),
        (_body(max_tokens=128_001), 400),
        (_body(model="claude-haiku-4-5", max_tokens=64_001), 400),
        (_body(model="claude-haiku-4-5", output_config={"effort": "high"}), 400),
        (_body(model="claude-haiku-4-5-20251001", output_config={"effort": "low"}), 400),
        (_body(model="claude-sonnet-4-20250514", output_config={"effort": "medium"}), 400),
        (_body(model="claude-sonnet-4-0", output_config={"effort": "medium"}), 400),
        (_body(model="claude-3-haiku-20240307", output_config={"effort": "low"}), 400),
        (_body(model="claude-opus-4-2", output_config={"effort": "low"}), 400),
        (_body(model="claude-sonnet-5", thinking={"type": "enabled", "budget_tokens": 2000}), 400),
        (_body(model="claude-opus-5-5", thinking={"type": "enabled", "budget_tokens": 2000}), 400),
        (_body(model="claude-haiku-5-5", thinking={"type": "enabled", "budget_tokens": 2000}), 400),
        (_body(model="claude-haiku-4-5"), None),
        (_body(model="claude-haiku-4-5", output_config={"format": {"type": "json_schema", "schema": {}}}), None),
        (_body(model="claude-sonnet-4-6", output_config={"effort": "high"}), None),
        (_body(model="claude-opus-4-8", output_config={"effort": "xhigh"}, thinking={"type": "enabled", "budget_tokens": 2000}), None),
        (_body(model="claude-haiku-4-5", thinking={"type": "enabled", "budget_tokens": 2000}), None),
        (_body(), None),
        (_body(model="claude-sonnet-4-6", temperature=0.2, tool_choice={"type": "any"}, thinking={"type": "disabled"}), None),
        (_body(model="claude-sonnet-5", tool_choice={"type": "any"}, thinking={"type": "disabled"}), None),
        (_body(max_tokens=128_000, output_config={"effort": "max"}), None),
        (_body(model="claude-test-model"), None),
    ],
)
def test_check_request_rejects_what_todays_api_rejects(body, status):
    result = check_request(body)
    assert (result[0] if result else None) == status
    if result:
        assert result[1]["type"] == "error" and result[1]["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("model", ["claude-haiku-4-5", "claude-sonnet-4-20250514", "claude-3-haiku-20240307"])
def test_effort_on_a_model_without_effort_is_a_bad_request(claude, sdk, model):
    claude.reply_json(enhanced_jd())
    with pytest.raises(anthropic.BadRequestError) as caught:
        _create(sdk, model=model, output_config={"effort": "high"})
    error = caught.value.body["error"]
    assert error["type"] == "invalid_request_error" and "effort is not supported for this model" in error["message"]
    assert _create(sdk, model=model).content[-1].text == json.dumps(enhanced_jd())  # no effort: answered


@pytest.mark.parametrize("model", ["claude-sonnet-5", "claude-opus-5", "claude-sonnet-5-5", "claude-haiku-5-5"])
def test_thinking_enabled_on_the_5_family_is_a_bad_request(claude, sdk, model):
    claude.reply_json(enhanced_jd())
    with pytest.raises(anthropic.BadRequestError) as caught:
        _create(sdk, model=model, max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000})
    error = caught.value.body["error"]
    assert error["type"] == "invalid_request_error" and "use thinking.type adaptive" in error["message"]
    assert _create(sdk, model=model, thinking={"type": "adaptive"}).content[-1].text == json.dumps(enhanced_jd())


# --- Answers -----------------------------------------------------------------------------


def test_a_reply_starts_with_a_thinking_block_and_keeps_the_queued_usage(claude, sdk):
    claude.reply_json(enhanced_jd(), usage={"input_tokens": 10, "output_tokens": 5})
    message = _create(sdk)
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "" and message.content[0].signature
    assert json.loads(message.content[1].text) == enhanced_jd()
    assert (message.usage.input_tokens, message.usage.output_tokens) == (10, 5)
    assert message.model == MODEL


def test_the_model_override_and_summarized_thinking_are_kept(claude, sdk):
    claude.reply_json(enhanced_jd(), model="claude-other")
    message = _create(sdk, thinking={"type": "adaptive", "display": "summarized"})
    assert message.model == "claude-other"
    assert message.content[0].thinking


def test_a_model_that_does_not_think_by_default_answers_text_only(claude, sdk):
    claude.reply_json(enhanced_jd())
    assert [block.type for block in _create(sdk, model="claude-sonnet-4-6").content] == ["text"]


def test_decorate_message_bills_thinking_as_output_tokens():
    message = {"model": "x", "content": [{"type": "text", "text": "{}"}], "usage": {"input_tokens": 3, "output_tokens": 7}}
    decorated = decorate_message(_body(), message, thinking_tokens=400)
    assert decorated["usage"]["output_tokens"] == 407
    assert decorated["usage"]["output_tokens_details"] == {"thinking_tokens": 400}
    assert decorated["model"] == MODEL and message["usage"]["output_tokens"] == 7  # the input is not changed


def test_streaming_returns_the_same_message_as_create(claude, sdk):
    claude.reply_json(enhanced_jd(), usage={"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 3})
    claude.reply_json(enhanced_jd(), usage={"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 3})
    created = _create(sdk, thinking={"type": "adaptive", "display": "summarized"})
    with sdk.messages.stream(model=MODEL, max_tokens=1000, messages=USER,
                             thinking={"type": "adaptive", "display": "summarized"}) as stream:
        streamed = stream.get_final_message()
    assert [block.model_dump(exclude={"parsed_output", "citations"}) for block in streamed.content] == [
        block.model_dump(exclude={"citations"}) for block in created.content
    ]
    assert streamed.usage == created.usage
    assert (streamed.stop_reason, streamed.model) == ("end_turn", MODEL)
    assert claude.requests[-1]["stream"] is True


def test_output_tokens_details_only_when_the_test_gives_thinking_tokens(claude, sdk):
    claude.reply_json(enhanced_jd())
    claude.reply_json(enhanced_jd(), usage={"output_tokens": 900}, thinking_tokens=300)
    claude.reply_json(enhanced_jd(), usage={"output_tokens": 900}, thinking_tokens=300)
    plain = _create(sdk).usage
    assert plain.output_tokens_details is None
    assert (plain.input_tokens, plain.output_tokens) == (DEFAULT_USAGE["input_tokens"], DEFAULT_USAGE["output_tokens"])
    created = _create(sdk).usage
    with sdk.messages.stream(model=MODEL, max_tokens=1000, messages=USER) as stream:
        streamed = stream.get_final_message().usage
    assert created.output_tokens == streamed.output_tokens == 900  # the total, thinking included
    assert created.output_tokens_details.thinking_tokens == streamed.output_tokens_details.thinking_tokens == 300


def test_a_stream_error_ends_the_stream_after_message_start(claude, sdk):
    claude.reply_json(enhanced_jd(), stream_error=True)
    claude.reply_json(enhanced_jd(), stream_error=True)
    claude.reply_json(enhanced_jd())
    seen = []
    with pytest.raises(anthropic.APIStatusError) as caught, sdk.messages.stream(model=MODEL, max_tokens=1000, messages=USER) as stream:
        for event in stream:
            seen.append(event.type)
    assert seen == ["message_start"]
    assert caught.value.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with pytest.raises(anthropic.APIStatusError) as caught:  # not streamed: the same error as a 529
        _create(sdk)
    assert caught.value.status_code == 529 and caught.value.body["error"]["type"] == "overloaded_error"
    assert _create(sdk).content[-1].text == json.dumps(enhanced_jd())


def test_sse_events_with_an_error_stop_after_message_start():
    message = {"id": "m", "type": "message", "role": "assistant", "model": MODEL,
               "content": [{"type": "text", "text": "x"}], "stop_reason": "end_turn", "stop_sequence": None,
               "usage": {"input_tokens": 4, "output_tokens": 9}}
    events = list(sse_events(message, error=error_body("overloaded_error", "Overloaded")))
    assert [event.split(b"\n", 1)[0] for event in events] == [b"event: message_start", b"event: error"]
    assert json.loads(events[1].split(b"data: ", 1)[1]) == {
        "type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def test_sse_events_are_in_the_apis_order():
    message = decorate_message(_body(), {"id": "m", "type": "message", "role": "assistant", "model": None,
                                         "content": [{"type": "text", "text": "x" * 100}], "stop_reason": "end_turn",
                                         "stop_sequence": None, "usage": {"input_tokens": 4, "output_tokens": 9}})
    names = [event.split(b"\n", 1)[0].decode() for event in sse_events(message, chunk_chars=48)]
    assert names == ["event: message_start", "event: ping"] + [
        "event: content_block_start", "event: content_block_delta", "event: content_block_stop",  # thinking
        "event: content_block_start", *["event: content_block_delta"] * 3, "event: content_block_stop",  # text
        "event: message_delta", "event: message_stop",
    ]


# --- Models API --------------------------------------------------------------------------


def test_models_retrieve_answers_active_models_and_404s_retired_and_unknown(claude, sdk):
    info = sdk.models.retrieve("claude-opus-4-8")
    assert (info.id, info.type, info.lifecycle, info.max_tokens, info.max_input_tokens) == (
        "claude-opus-4-8", "model", "active", 128_000, 1_000_000)
    assert sdk.models.retrieve("claude-haiku-4-5").max_tokens == 64_000
    for model in ("claude-opus-4-1", "claude-unknown-9"):
        with pytest.raises(anthropic.NotFoundError):
            sdk.models.retrieve(model)
    assert claude.model_requests == ["claude-opus-4-8", "claude-haiku-4-5", "claude-opus-4-1", "claude-unknown-9"]
    assert claude.calls == 0


@pytest.mark.parametrize("model", ["claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5", "claude-sonnet-5",
                                   "claude-opus-5", "claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-8"])
def test_every_catalogued_model_parses_as_model_info(model):
    status, body = model_info(model)
    assert status == 200
    assert anthropic.types.ModelInfo.model_validate(body).id == model


# --- Prompt caching ----------------------------------------------------------------------


def _cached_body(system=LONG_SYSTEM, ttl=None, model=MODEL):
    cache_control = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    return {"model": model, "max_tokens": 1000, "messages": USER,
            "system": [{"type": "text", "text": system, "cache_control": cache_control}]}


def test_prompt_cache_writes_then_reads_then_expires():
    clock = _Clock()
    cache = PromptCache(clock=clock)
    written = cache.account(_cached_body(), ttft=2.0)
    assert written["cache_creation_input_tokens"] > 512 and written["cache_read_input_tokens"] == 0
    assert written["cache_creation"]["ephemeral_5m_input_tokens"] == written["cache_creation_input_tokens"]
    clock.now += 2.0
    read = cache.account(_cached_body())
    assert read["cache_read_input_tokens"] == written["cache_creation_input_tokens"]
    assert read["input_tokens"] == written["input_tokens"] >= 1
    clock.now += 299  # the read refreshed the 5 minutes
    assert cache.account(_cached_body())["cache_read_input_tokens"]
    clock.now += 301
    assert cache.account(_cached_body())["cache_creation_input_tokens"]


def test_a_one_hour_entry_outlives_five_minutes():
    clock = _Clock()
    cache = PromptCache(clock=clock)
    assert cache.account(_cached_body(ttl="1h"))["cache_creation"]["ephemeral_1h_input_tokens"]
    clock.now += 3000
    assert cache.account(_cached_body(ttl="1h"))["cache_read_input_tokens"]


def test_a_prefix_below_the_models_minimum_is_not_cached():
    cache = PromptCache(clock=_Clock())
    short = "You enhance job descriptions. " * 100  # about 750 tokens
    for _ in range(2):
        usage = cache.account(_cached_body(short, model="claude-sonnet-5"))  # minimum 1024
        assert (usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"]) == (0, 0)
    assert cache.account(_cached_body(short, model="claude-sonnet-5-5"))["cache_creation_input_tokens"]  # minimum 512
    assert PromptCache(minimum_tokens={"claude-sonnet-5-5": 5000}).minimum_for("claude-sonnet-5-5-20261118") == 5000


def test_a_concurrent_request_before_the_writer_started_answering_writes_again():
    clock = _Clock()
    cache = PromptCache(clock=clock)
    first = cache.account(_cached_body(), ttft=1.5)
    clock.now += 1.0
    second = cache.account(_cached_body(), ttft=1.5)
    assert second["cache_creation_input_tokens"] == first["cache_creation_input_tokens"]
    clock.now += 0.5  # the first response has started
    assert cache.account(_cached_body())["cache_read_input_tokens"] == first["cache_creation_input_tokens"]


def _schema_body(title, system=LONG_SYSTEM, **schema_extra):
    schema = {"title": title, "type": "object", "properties": {"x": {"type": "string"}}, **schema_extra}
    return {**_cached_body(system), "output_config": {"format": {"type": "json_schema", "schema": schema}}}


def test_the_output_format_is_part_of_the_cached_prefix_and_its_size():
    cache = PromptCache(clock=_Clock())
    plain = cache.account(_cached_body())
    first, other = cache.account(_schema_body("A")), cache.account(_schema_body("B"))
    assert plain["cache_creation_input_tokens"] and first["cache_creation_input_tokens"] and other["cache_creation_input_tokens"]
    body = _schema_body("A")
    fmt = body["output_config"]["format"]
    system_piece = prompt_pieces(body)[0][0]  # the breakpoint is on the system block
    assert first["cache_creation_input_tokens"] == estimate_tokens([fmt, system_piece])
    assert first["cache_creation_input_tokens"] > plain["cache_creation_input_tokens"]
    assert cache.account(_schema_body("A"))["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert cache.account(_schema_body("A", required=["x"]))["cache_creation_input_tokens"]  # any schema change
    tools = [{"name": "t", "input_schema": {"type": "object"}}]
    assert cache.account({**_schema_body("A"), "tools": tools})["cache_creation_input_tokens"]
    assert cache.account({**_schema_body("A"), "tools": tools})["cache_read_input_tokens"]


def test_a_withdrawn_write_leaves_nothing_to_read_and_keeps_other_writers():
    clock = _Clock()
    cache = PromptCache(clock=clock)
    usage, withdraw = cache.reserve(_cached_body(), ttft=0.0)
    assert usage["cache_creation_input_tokens"]
    withdraw()
    assert cache.account(_cached_body(), ttft=1.0)["cache_creation_input_tokens"]  # nothing left: writes
    _, early = cache.reserve(_cached_body(), ttft=0.5, now=clock.now + 0.1)  # a second, earlier-starting writer
    early()  # withdrawn: the first writer's start (1.0) counts again
    clock.now += 0.7
    assert cache.account(_cached_body())["cache_creation_input_tokens"]
    clock.now += 0.3
    assert cache.account(_cached_body())["cache_read_input_tokens"]


def test_top_level_cache_control_caches_up_to_the_last_message():
    cache = PromptCache(clock=_Clock(), default_minimum=1)
    body = {"model": "claude-test-model", "max_tokens": 10, "cache_control": {"type": "ephemeral"},
            "messages": [{"role": "user", "content": "x" * 400}]}
    assert cache.account(body)["cache_creation_input_tokens"] > 0
    assert cache.account(body)["cache_read_input_tokens"] > 0


def test_the_stub_accounts_cache_fields_only_when_asked(claude, sdk):
    claude.repeat_last = True
    claude.reply_json(enhanced_jd(), usage={"output_tokens": 5})
    system = [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}]
    off = _create(sdk, system=system).usage
    assert (off.input_tokens, off.cache_creation_input_tokens) == (DEFAULT_USAGE["input_tokens"], 0)
    claude.prompt_caching = True
    first, second = _create(sdk, system=system).usage, _create(sdk, system=system).usage
    assert first.cache_creation_input_tokens > 512 and first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.output_tokens == 5


def _schema_create(sdk, title="EnhancedJobDescription", stream=False, **overrides):
    request = {"model": MODEL, "max_tokens": 1000, "messages": USER,
               "system": [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}],
               "output_config": {"format": {"type": "json_schema", "schema": {"title": title, "type": "object"}}},
               **overrides}
    if stream:
        with sdk.messages.stream(**request) as events:
            return events.get_final_message()
    return sdk.messages.create(**request)


def test_the_stub_caches_per_output_schema(claude, sdk):
    claude.prompt_caching = True
    claude.reply_for_schema("EnhancedJobDescription", enhanced_jd())
    claude.reply_for_schema("InterviewPlan", {"slots": []})
    jd, plan = _schema_create(sdk).usage, _schema_create(sdk, "InterviewPlan").usage
    assert jd.cache_creation_input_tokens and plan.cache_creation_input_tokens  # same system, other schema: written
    again = _schema_create(sdk, "InterviewPlan").usage
    assert (again.cache_read_input_tokens, again.cache_creation_input_tokens) == (plan.cache_creation_input_tokens, 0)


def _at_once(count, call):
    results, barrier = [None] * count, threading.Barrier(count)

    def run(index):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
def test_cold_concurrent_requests_all_write_and_a_later_one_reads(claude, sdk, stream):
    claude.prompt_caching = True
    claude.reply_for_schema("EnhancedJobDescription", enhanced_jd(), delay=0.2)
    usages = [message.usage for message in _at_once(5, lambda: _schema_create(sdk, stream=stream))]
    assert [u.cache_read_input_tokens for u in usages] == [0] * 5
    assert len({u.cache_creation_input_tokens for u in usages}) == 1 and usages[0].cache_creation_input_tokens > 0
    later = _schema_create(sdk, stream=stream).usage
    assert (later.cache_read_input_tokens, later.cache_creation_input_tokens) == (usages[0].cache_creation_input_tokens, 0)


def test_the_cache_is_accounted_at_arrival_and_readable_after_the_writers_delay(claude, sdk):
    claude.prompt_caching = True

    def slow(body):
        time.sleep(0.6)  # the responder runs after the request was accounted
        return enhanced_jd()

    claude.reply_for_schema("EnhancedJobDescription", slow, delay=0.3)
    results, threads = {}, []
    # arrivals at 0, 0.1 (before the first writer's 0.3 s: writes too) and 0.45 s (the first
    # responder still running, but its answer would have begun at 0.3 s: reads)
    for name, at, stream in (("first", 0.0, True), ("early", 0.1, False), ("late", 0.45, False)):
        threads.append((threading.Thread(target=lambda n=name, s=stream: results.setdefault(n, _schema_create(sdk, stream=s))), at))
    started = time.monotonic()
    for thread, at in threads:
        time.sleep(max(0.0, started + at - time.monotonic()))
        thread.start()
    for thread, _ in threads:
        thread.join()
    written = results["first"].usage.cache_creation_input_tokens
    assert written > 0 and results["early"].usage.cache_creation_input_tokens == written
    assert (results["late"].usage.cache_read_input_tokens, results["late"].usage.cache_creation_input_tokens) == (written, 0)


def test_a_responder_can_answer_one_concurrent_fill_with_a_429_the_sdk_retries(claude):
    sdk = anthropic.Anthropic(base_url=claude.base_url, api_key="k", max_retries=2)
    claude.prompt_caching = True
    state = {"failed": False}
    lock = threading.Lock()

    def respond(body):
        with lock:
            fail, state["failed"] = not state["failed"], True
        if fail:
            return StubError(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit.",
                             headers={"retry-after-ms": "10"})
        return filled_questions(fill_slots(body))

    claude.reply_for_schema("InterviewQuestions", respond, delay=0.05)
    answers = _at_once(5, lambda: _fill_request(sdk, [1]))
    assert all(answer["questions"][0]["question_number"] == 1 for answer in answers)
    assert claude.calls == 6
    retry_counts = [{k.lower(): v for k, v in h.items()}.get("x-stainless-retry-count") for h in claude.request_headers]
    assert sorted(retry_counts) == ["0"] * 5 + ["1"]


def test_a_stub_error_from_a_responder_has_the_apis_shape_and_writes_no_cache(claude, sdk):
    claude.prompt_caching = True
    answers = iter([StubError(529, "overloaded_error", "Overloaded", headers={"x-should-retry": "false"}), enhanced_jd()])
    claude.reply_for_schema("EnhancedJobDescription", lambda body: next(answers))
    with pytest.raises(anthropic.APIStatusError) as caught:
        _schema_create(sdk)
    assert caught.value.status_code == 529 and caught.value.response.headers["x-should-retry"] == "false"
    assert caught.value.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert _schema_create(sdk).usage.cache_creation_input_tokens > 0  # the failed request wrote nothing


# --- Routing concurrent requests ---------------------------------------------------------


def _fill_request(sdk, numbers, repair=False):
    lines = "\n".join(
        f"{n}. topic: Topic {n} | skill_level: senior | question_type: technical | reveals: Applies topic {n}." for n in numbers
    )
    messages = [{"role": "user", "content": f"Write {len(numbers)} question(s), numbered as the slots:\n{lines}"}]
    if repair:
        messages += [{"role": "assistant", "content": '{"questions": []}'}, {"role": "user", "content": "Answer again."}]
    schema = {"title": "InterviewQuestions", "type": "object", "properties": {"questions": {"type": "array"}},
              "required": ["questions"], "additionalProperties": False}
    message = _create(sdk, messages=messages, output_config={"format": {"type": "json_schema", "schema": schema}})
    return json.loads(message.content[-1].text)


def test_fill_responder_answers_concurrent_requests_by_their_slots(claude, sdk):
    claude.fill_responder(criteria=9)
    answers = {}

    def ask(number):
        answers[number] = _fill_request(sdk, [number])

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(1, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for number, answer in answers.items():
        assert answer == filled_questions([(number, f"Topic {number}", "senior", "technical")], criteria=9)
    assert _fill_request(sdk, [2, 4])["questions"][1]["question_number"] == 4
    assert claude.fill_calls_by_slot == {1: 1, 2: 2, 3: 1, 4: 2, 5: 1}


def test_fill_responder_fails_a_listed_slot_once_and_answers_its_repair(claude, sdk):
    claude.fill_responder(fail_numbers=(3,), usage={"input_tokens": 50, "output_tokens": 60})
    assert _fill_request(sdk, [3]) == {"questions": []}
    assert _fill_request(sdk, [3], repair=True)["questions"][0]["question_number"] == 3
    assert _fill_request(sdk, [3])["questions"][0]["question_number"] == 3
    assert claude.fill_calls_by_slot[3] == 3


def test_reply_for_schema_takes_a_callable_returning_payload_and_usage(claude, sdk):
    claude.reply_for_schema("InterviewQuestions", lambda body: ({"questions": [], "slots": fill_slots(body)}, {"output_tokens": 77}))
    schema = {"title": "InterviewQuestions", "type": "object"}
    message = _create(sdk, messages=[{"role": "user", "content": "1. topic: A | skill_level: junior | question_type: behavioral | reveals: r"}],
                      output_config={"format": {"type": "json_schema", "schema": schema}})
    assert json.loads(message.content[-1].text)["slots"] == [[1, "A", "junior", "behavioral"]]
    assert message.usage.output_tokens == 77


# --- The bench stub's pure pieces ----------------------------------------------------------


def _bench_stub():
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "bench", "stub_messages_api.py")
    spec = importlib.util.spec_from_file_location("bench_stub_messages_api", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _serving(bench, **options):
    """A bench stub serving on a free loopback port; yields (an SDK client pointed at it, the server)."""
    server = bench.StubServer(("127.0.0.1", 0), 3.0, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield anthropic.Anthropic(base_url=f"http://{host}:{port}", api_key="k", max_retries=0), server
    finally:
        server.shutdown()
        server.server_close()


def test_bench_stub_concurrent_cold_requests_write_until_the_first_response_starts():
    bench = _bench_stub()
    with _serving(bench, ttft=0.3, tokens_per_second=100_000) as (sdk, server):
        request = {"model": MODEL, "max_tokens": 1000, "messages": [{"role": "user", "content": "Title: Backend Engineer"}],
                   "system": [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}],
                   "output_config": {"format": {"type": "json_schema", "schema": {"title": "EnhancedJobDescription",
                                                                                   "type": "object"}}}}
        usages = [message.usage for message in _at_once(4, lambda: sdk.messages.create(**request))]
        assert [u.cache_read_input_tokens for u in usages] == [0] * 4 and usages[0].cache_creation_input_tokens > 0
        assert sdk.messages.create(**request).usage.cache_read_input_tokens == usages[0].cache_creation_input_tokens


def test_bench_stub_latency_and_effort_helpers():
    bench = _bench_stub()
    thinking = bench.parse_thinking("low=0,medium=400,high=1200,xhigh=2400,max=4800")
    assert thinking == {"low": 0, "medium": 400, "high": 1200, "xhigh": 2400, "max": 4800}
    for bad in ("low=0", "low=0,medium=1,high=2,xhigh=3,max=4,extreme=5", "low=x,medium=1,high=2,xhigh=3,max=4"):
        with pytest.raises(ValueError):
            bench.parse_thinking(bad)
    assert bench.thinking_tokens_for(_body(), thinking, "high") == 1200
    assert bench.thinking_tokens_for(_body(output_config={"effort": "medium"}), thinking, "high") == 400
    assert bench.thinking_tokens_for(_body(model="claude-sonnet-4-6"), thinking, "high") == 0
    assert bench.model_latency_s(1200 + 400, ttft=1.5, tokens_per_second=80) == pytest.approx(21.5)
    assert bench.stream_pauses(3.5, 1.5, 5) == [1.5, 0.5, 0.5, 0.5, 0.5]
    server = bench.StubServer(("127.0.0.1", 0), 3.0, ttft=1.5, tokens_per_second=80, thinking=thinking)
    try:
        assert (server.first_token_s(), server.latency_s(160)) == (1.5, 3.5)
        server.ttft = None
        assert (server.first_token_s(), server.latency_s(160)) == (3.0, 3.0)
    finally:
        server.server_close()


def test_bench_stub_serves_the_sdk_with_thinking_billed_caching_and_streams():
    bench = _bench_stub()
    with _serving(bench, ttft=0.05, tokens_per_second=100_000) as (sdk, server):
        request = {"model": MODEL, "max_tokens": 1000, "messages": [{"role": "user", "content": "Title: Backend Engineer"}],
                   "system": [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}],
                   "output_config": {"effort": "medium", "format": {"type": "json_schema", "schema": {
                       "title": "EnhancedJobDescription", "type": "object"}}}}
        created = sdk.messages.create(**request)
        with sdk.messages.stream(**request) as stream:
            streamed = stream.get_final_message()
        assert [block.type for block in created.content] == [block.type for block in streamed.content] == ["thinking", "text"]
        assert created.usage.output_tokens_details.thinking_tokens == 400
        assert created.usage.cache_creation_input_tokens > 0 and streamed.usage.cache_read_input_tokens > 0
        described = {**request["output_config"]["format"]["schema"], "description": "Another schema."}
        other = sdk.messages.create(**{**request, "output_config": {"effort": "medium", "format": {
            "type": "json_schema", "schema": described}}})
        assert other.usage.cache_creation_input_tokens > created.usage.cache_creation_input_tokens  # its own entry
        with pytest.raises(anthropic.BadRequestError):
            sdk.messages.create(**{**request, "model": "claude-haiku-4-5"})  # effort on a model without it
        with pytest.raises(anthropic.NotFoundError):
            sdk.messages.create(**{**request, "model": "claude-opus-4-1"})
        assert sdk.models.retrieve("claude-opus-5").id == "claude-opus-5"
        calls = server.calls
        assert [row[1:4] for row in calls] == [["EnhancedJobDescription", "medium", MODEL]] * 3 + [
            ["EnhancedJobDescription", "medium", "claude-haiku-4-5"], ["EnhancedJobDescription", "medium", "claude-opus-4-1"]]
        assert calls[0][4]["output_tokens"] == created.usage.output_tokens and calls[0][5] >= 0.05
        assert calls[3][4] is None and calls[4][4] is None
