"""The question cache: plan -> look up -> fill, through HTTP with the real SDK against the stub
Messages API, on SQLite and (with TEST_DATABASE_URL) MariaDB."""

import threading
from datetime import timedelta

import pytest

from models import GenerationCall, GenerationLog, InterviewQuestion, QuestionCacheEntry, db, utcnow
from services import question_cache as cache
from services.question_cache import topic_similarity
from tests import helpers
from tests.helpers import all_rows, count_rows, enhance, generate_from_plan, key_headers
from tests.stub_messages_api import fill_for_plan, fill_slots, interview_kit, interview_plan, schema_title

TOPICS_A = ["Kafka event streaming", "PostgreSQL query tuning", "Incident response", "Code review culture", "Deadline trade-offs"]
# The first three reworded (same key after normalisation or above 0.85), the last two new.
TOPICS_B = ["event streaming with Kafka", "PostgreSQL query tuning", "incident response", "Mentoring juniors", "Vendor negotiation"]
TOPICS_DISSIMILAR = ["Kubernetes operators", "React rendering", "Terraform modules", "Hiring interviews", "Budget planning"]

cache_app, cache_client = helpers.cache_app, helpers.cache_client  # fixtures: an app with the cache on, its client


@pytest.fixture
def cache_admin(cache_app):
    return key_headers(cache_app, "cache-admin")


def _fill_requests(claude):
    return [r for r in claude.requests if schema_title(r) == "InterviewQuestions"]


def _call_purposes(app):
    """The purposes of the last operation's Claude calls (generation_calls rows)."""
    with app.app_context():
        log_id = db.session.scalar(db.select(db.func.max(GenerationLog.id)))
        return list(db.session.scalars(db.select(GenerationCall.purpose).where(GenerationCall.generation_log_id == log_id)))


def _filled_slot_numbers(claude):
    """The slot numbers the fill calls since the last ``requests.clear()`` asked for, sorted."""
    return sorted(number for r in _fill_requests(claude) for number, *_ in fill_slots(r))


@pytest.mark.parametrize(
    ("a", "b", "hit"),
    [
        ("Kafka event streaming", "event streaming with Kafka", True),
        ("Kubernetes deployments", "Kubernetes deployment", True),
        ("REST API design", "Designing REST APIs", True),
        ("PostgreSQL query optimization", "Optimizing PostgreSQL queries", True),
        ("Kafka", "Kubernetes", False),
        ("Python", "Python security", False),
        ("Incident response", "Incident response leadership", False),
        ("Distributed caching", "Distributed tracing", False),
    ],
)
def test_documented_topic_examples_match_or_not_at_the_default_threshold(a, b, hit):
    assert (topic_similarity(a, b) >= 0.85) is hit, topic_similarity(a, b)


def test_first_generation_on_an_empty_cache_plans_then_fills_all_five_slots_one_call_each(cache_client, admin, claude, cache_app):
    response = generate_from_plan(
        cache_client, admin, claude, "REQ-C1", TOPICS_A,
        usage={"plan": {"input_tokens": 900, "output_tokens": 150}, "fill": {"input_tokens": 300, "output_tokens": 500}},
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["cached_questions"] == 0
    assert body["tokens_used"] == 900 + 150 + 5 * (300 + 500)
    titles = [schema_title(r) for r in claude.requests]
    assert titles == ["EnhancedJobDescription", "InterviewPlan"] + ["InterviewQuestions"] * 5
    assert _filled_slot_numbers(claude) == [1, 2, 3, 4, 5]  # one slot per call
    assert all(len(fill_slots(r)) == 1 for r in _fill_requests(claude))
    for fill in _fill_requests(claude):  # the fill never sees the JD
        assert "<enhanced_job_description>" not in fill["messages"][-1]["content"]
        assert "payments" not in fill["messages"][-1]["content"].lower()
    assert [q["source"] for q in body["interview"]["questions"]] == ["generated"] * 5
    assert [q["topic"] for q in body["interview"]["questions"]] == TOPICS_A
    entries = all_rows(cache_app, QuestionCacheEntry)
    assert sorted(e.topic for e in entries) == sorted(TOPICS_A)
    assert {e.tokens_cost for e in entries} == {300 + 500}  # what each question's own call cost
    log = all_rows(cache_app, GenerationLog)[-1]
    assert (log.cache_hits, log.cache_misses, log.tokens_avoided) == (0, 5, 0)


def test_a_similar_job_description_reuses_cached_questions_and_fills_only_the_missing_slots(cache_client, admin, claude, cache_app):
    first = generate_from_plan(cache_client, admin, claude, "REQ-C1", TOPICS_A, usage={"fill": {"input_tokens": 100, "output_tokens": 400}})
    assert first.status_code == 200
    claude.requests.clear()

    second = generate_from_plan(
        cache_client, admin, claude, "REQ-C2", TOPICS_B,
        usage={"plan": {"input_tokens": 800, "output_tokens": 100}, "fill": {"input_tokens": 200, "output_tokens": 900}},
    )

    assert second.status_code == 200, second.get_json()
    body = second.get_json()
    assert body["cached_questions"] == 3
    assert body["tokens_used"] == 800 + 100 + 2 * (200 + 900)  # what this generation really spent
    assert _filled_slot_numbers(claude) == [4, 5]
    fill_prompts = "\n".join(r["messages"][-1]["content"] for r in _fill_requests(claude))
    assert "4. topic: Mentoring juniors" in fill_prompts and "5. topic: Vendor negotiation" in fill_prompts
    assert "Kafka" not in fill_prompts
    questions = body["interview"]["questions"]
    assert [q["source"] for q in questions] == ["cache", "cache", "cache", "generated", "generated"]
    first_ids = {q["topic"]: q for q in first.get_json()["interview"]["questions"]}
    assert questions[0]["question_text"] == first_ids["Kafka event streaming"]["question_text"]
    assert len({q["cache_entry_id"] for q in questions[:3]}) == 3 and all(q["cache_entry_id"] for q in questions[:3])
    assert questions[3]["cache_entry_id"] is None
    with cache_app.app_context():
        reused = [db.session.get(QuestionCacheEntry, q["cache_entry_id"]) for q in questions[:3]]
        assert [e.usage_count for e in reused] == [1, 1, 1]
        assert all(e.last_used_at > e.created_at for e in reused)
    log = all_rows(cache_app, GenerationLog)[-1]
    assert (log.cache_hits, log.cache_misses) == (3, 2)
    assert log.tokens_avoided == 3 * (100 + 400)


def test_a_fully_cached_plan_sends_no_fill_call(cache_client, admin, claude, cache_app):
    generate_from_plan(cache_client, admin, claude, "REQ-C1", TOPICS_A)
    claude.requests.clear()

    response = generate_from_plan(cache_client, admin, claude, "REQ-C2", TOPICS_A, usage={"plan": {"input_tokens": 700, "output_tokens": 120}})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["cached_questions"] == 5
    assert response.get_json()["tokens_used"] == 820
    assert [schema_title(r) for r in claude.requests] == ["EnhancedJobDescription", "InterviewPlan"]
    assert count_rows(cache_app, QuestionCacheEntry) == 5


def test_a_dissimilar_job_description_reuses_nothing(cache_client, admin, claude, cache_app):
    generate_from_plan(cache_client, admin, claude, "REQ-C1", TOPICS_A)
    response = generate_from_plan(cache_client, admin, claude, "REQ-C2", TOPICS_DISSIMILAR)

    assert response.get_json()["cached_questions"] == 0
    assert count_rows(cache_app, QuestionCacheEntry) == 10


def test_the_same_topic_at_another_skill_level_is_a_miss(cache_client, admin, claude):
    generate_from_plan(cache_client, admin, claude, "REQ-C1", TOPICS_A, level="senior")
    response = generate_from_plan(cache_client, admin, claude, "REQ-C2", TOPICS_A, level="junior")

    assert response.get_json()["cached_questions"] == 0


def test_a_stricter_threshold_turns_a_reworded_topic_into_a_miss(app_factory, admin, claude):
    strict = app_factory(ENABLE_QUESTION_CACHE=True, CACHE_SIMILARITY_THRESHOLD=0.95).test_client()
    topics = ["REST API design", *TOPICS_A[1:]]
    reworded = ["Designing REST APIs", *TOPICS_DISSIMILAR[1:]]  # 0.909 similar to "REST API design"
    generate_from_plan(strict, admin, claude, "REQ-C1", topics)

    response = generate_from_plan(strict, admin, claude, "REQ-C2", reworded)

    assert response.get_json()["cached_questions"] == 0


def test_use_cache_false_generates_every_question_in_one_call_and_caches_nothing(cache_client, admin, claude, cache_app):
    generate_from_plan(cache_client, admin, claude, "REQ-C1", TOPICS_A)
    jd_id = enhance(cache_client, admin, claude, "REQ-C2")["job_description_id"]
    claude.requests.clear()
    claude.reply_json(interview_kit())

    response = cache_client.post(
        "/api/interview/generate", json={"req_id": "REQ-C2", "job_description_id": jd_id, "use_cache": False}, headers=admin
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["cached_questions"] == 0
    assert [schema_title(r) for r in claude.requests] == ["InterviewKit"]
    assert count_rows(cache_app, QuestionCacheEntry) == 5


def test_the_cache_disabled_by_config_is_never_consulted(app_factory, admin, claude):
    client = app_factory(ENABLE_QUESTION_CACHE=False).test_client()
    jd_id = enhance(client, admin, claude, "REQ-C1")["job_description_id"]
    claude.reply_json(interview_kit())

    response = client.post("/api/interview/generate", json={"req_id": "REQ-C1", "job_description_id": jd_id, "use_cache": True}, headers=admin)

    assert response.status_code == 200
    assert schema_title(claude.requests[-1]) == "InterviewKit"


def test_a_plan_with_near_duplicate_topics_is_repaired(cache_client, admin, claude):
    jd_id = enhance(cache_client, admin, claude, "REQ-C1")["job_description_id"]
    claude.reply_json(interview_plan(["Kafka event streaming", "event streaming with Kafka", *TOPICS_A[2:]]))
    claude.reply_json(interview_plan(TOPICS_A))
    claude.fill_responder()

    response = cache_client.post("/api/interview/generate", json={"req_id": "REQ-C1", "job_description_id": jd_id}, headers=admin)

    assert response.status_code == 200, response.get_json()
    assert "near-duplicate topics" in claude.requests[2]["messages"][-1]["content"]


def test_a_failing_slot_gets_its_own_repair_without_redoing_the_others(cache_client, admin, claude, cache_app):
    jd_id = enhance(cache_client, admin, claude, "REQ-C1")["job_description_id"]
    claude.reply_json(interview_plan(TOPICS_A))
    claude.fill_responder(fail_numbers={3})  # slot 3's first answer is invalid, its repair valid
    claude.fill_calls_by_slot.clear()

    response = cache_client.post("/api/interview/generate", json={"req_id": "REQ-C1", "job_description_id": jd_id}, headers=admin)

    assert response.status_code == 200, response.get_json()
    assert dict(claude.fill_calls_by_slot) == {1: 1, 2: 1, 3: 2, 4: 1, 5: 1}
    purposes = _call_purposes(cache_app)
    assert sorted(purposes) == sorted(["interview_plan"] + ["interview_fill"] * 5 + ["interview_fill.repair"])
    assert [q["topic"] for q in response.get_json()["interview"]["questions"]] == TOPICS_A


def test_a_failed_fill_stores_no_interview_but_caches_the_other_valid_questions(cache_client, admin, claude, cache_app):
    jd_id = enhance(cache_client, admin, claude, "REQ-C1")["job_description_id"]
    plan = interview_plan(TOPICS_A)
    claude.reply_json(plan)

    def fill(body):  # slot 2 stays invalid through its repair; the other four are fine
        slots = fill_slots(body)
        return {"questions": []} if slots[0][0] == 2 else fill_for_plan(plan, {slots[0][0]})

    claude.reply_for_schema("InterviewQuestions", fill)

    response = cache_client.post("/api/interview/generate", json={"req_id": "REQ-C1", "job_description_id": jd_id}, headers=admin)

    assert response.status_code == 502
    assert count_rows(cache_app, InterviewQuestion) == 0
    # the four valid questions were paid for and do not depend on the JD: a retry reuses them
    assert sorted(e.topic for e in all_rows(cache_app, QuestionCacheEntry)) == sorted(TOPICS_A[:1] + TOPICS_A[2:])
    log = all_rows(cache_app, GenerationLog)[-1]
    assert (log.status, log.cache_hits, log.cache_misses) == ("failed", 0, 5)
    assert _call_purposes(cache_app).count("interview_fill.repair") == 1  # only slot 2 was repaired


def test_eviction_keeps_at_most_max_entries_removing_the_least_recently_used(app_factory, admin, claude):
    app = app_factory(ENABLE_QUESTION_CACHE=True, CACHE_MAX_ENTRIES=7)
    client = app.test_client()
    generate_from_plan(client, admin, claude, "REQ-C1", TOPICS_A)  # 5 entries
    generate_from_plan(client, admin, claude, "REQ-C2", TOPICS_B)  # reuses A1-A3, adds 2: 7 entries

    generate_from_plan(client, admin, claude, "REQ-C3", TOPICS_DISSIMILAR)  # adds 5: 12 > 7, evict the 5 least recently used

    remaining = {e.topic for e in all_rows(app, QuestionCacheEntry)}
    assert len(remaining) == 7
    assert set(TOPICS_DISSIMILAR) <= remaining
    # A1-A3 were used by the second generation; A4-A5 only when created, first: they go first.
    assert not {"Code review culture", "Deadline trade-offs"} & remaining


def test_entries_unused_for_longer_than_the_ttl_are_not_reused_and_are_evicted(app_factory, admin, claude):
    app = app_factory(ENABLE_QUESTION_CACHE=True, CACHE_TTL_DAYS=30)
    client = app.test_client()
    generate_from_plan(client, admin, claude, "REQ-C1", TOPICS_A)
    with app.app_context():
        db.session.execute(db.update(QuestionCacheEntry).values(last_used_at=utcnow() - timedelta(days=31)))
        db.session.commit()

    response = generate_from_plan(client, admin, claude, "REQ-C2", TOPICS_A)

    assert response.get_json()["cached_questions"] == 0
    assert {e.last_used_at > utcnow() - timedelta(days=1) for e in all_rows(app, QuestionCacheEntry)} == {True}


def test_a_question_cached_by_one_worker_is_found_by_another(app_factory, admin, claude):
    worker_a = app_factory(ENABLE_QUESTION_CACHE=True)
    worker_b = app_factory(ENABLE_QUESTION_CACHE=True)  # its own in-memory index, same database
    generate_from_plan(worker_b.test_client(), admin, claude, "REQ-C0", TOPICS_DISSIMILAR)  # B's index is loaded now
    generate_from_plan(worker_a.test_client(), admin, claude, "REQ-C1", TOPICS_A)

    response = generate_from_plan(worker_b.test_client(), admin, claude, "REQ-C2", TOPICS_A)

    assert response.get_json()["cached_questions"] == 5


def test_an_entry_deleted_by_another_worker_is_treated_as_a_miss(app_factory, admin, claude, cache_admin):
    worker_a = app_factory(ENABLE_QUESTION_CACHE=True)
    worker_b = app_factory(ENABLE_QUESTION_CACHE=True)
    generate_from_plan(worker_a.test_client(), admin, claude, "REQ-C1", TOPICS_A)
    generate_from_plan(worker_b.test_client(), admin, claude, "REQ-C2", TOPICS_A)  # B indexes all 5
    purged = worker_a.test_client().post("/api/admin/cache/purge", json={"topic": "kafka"}, headers=cache_admin)
    assert purged.get_json()["deleted"] == 1

    claude.requests.clear()
    response = generate_from_plan(worker_b.test_client(), admin, claude, "REQ-C3", TOPICS_A)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["cached_questions"] == 4
    assert _filled_slot_numbers(claude) == [1]


def test_concurrent_caching_of_the_same_key_never_raises(cache_app):
    question = {
        "topic": "Kafka event streaming", "skill_level": "senior", "question_type": "technical",
        "question_text": "Q", "expected_answer": "A", "criteria": [{"criterion": "c", "description": "d"}],
    }
    barrier, errors, ids = threading.Barrier(4), [], []

    def store():
        with cache_app.app_context():
            try:
                barrier.wait()
                cache.store_questions([question], tokens_per_question=10, prompt_version="t")
                db.session.commit()
                ids.append(set(db.session.scalars(db.select(QuestionCacheEntry.id))))
            except Exception as exc:  # noqa: BLE001 - the assertion below reports it
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert count_rows(cache_app, QuestionCacheEntry) == 1
    assert len({frozenset(i) for i in ids}) == 1


def test_concurrent_generations_with_the_same_plan_both_succeed(cache_app, admin, claude):
    client = cache_app.test_client()
    jd_ids = [enhance(client, admin, claude, f"REQ-P{i}")["job_description_id"] for i in (1, 2)]
    plan = interview_plan(TOPICS_A)
    claude.reply_for_schema("InterviewPlan", plan)
    claude.reply_for_schema("InterviewQuestions", lambda body: fill_for_plan(plan, {fill_slots(body)[0][0]}), delay=0.3)
    results = []

    def generate(index):
        response = cache_app.test_client().post(
            "/api/interview/generate", json={"req_id": f"REQ-P{index + 1}", "job_description_id": jd_ids[index]}, headers=admin
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=generate, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [200, 200]
    assert count_rows(cache_app, QuestionCacheEntry) == 5


def test_one_cache_entry_never_serves_two_slots_of_an_interview(cache_app):
    with cache_app.app_context():
        cache.store_questions(
            [{"topic": "Kafka streaming platform", "skill_level": "senior", "question_type": "technical",
              "question_text": "Q", "expected_answer": "A", "criteria": []}],
            tokens_per_question=1, prompt_version="t",
        )
        db.session.commit()
        slots = [
            {"number": 1, "topic": "Kafka streaming platforms", "skill_level": "senior", "question_type": "technical"},
            {"number": 2, "topic": "Kafka streaming platform", "skill_level": "senior", "question_type": "technical"},
        ]
        qc = cache_app.extensions["question_cache"]
        hits = cache.find_cached_questions(slots, index=qc.index, settings=qc.settings)

    assert list(hits) == [1]


def test_admin_can_list_search_delete_and_purge_the_cache(cache_client, admin, claude, cache_admin):
    generate_from_plan(cache_client, admin, claude, "REQ-C1", TOPICS_A)
    generate_from_plan(cache_client, admin, claude, "REQ-C2", TOPICS_B)

    listing = cache_client.get("/api/admin/cache?per_page=3&page=1", headers=cache_admin).get_json()
    assert listing["stats"] == {"entries": 7, "hits": 3, "misses": 7, "hit_rate": 0.3, "tokens_avoided": 3 * (1200 + 800)}  # each reused question cost one default-usage call
    assert listing["pagination"] == {"page": 1, "per_page": 3, "total": 7}
    assert len(listing["entries"]) == 3
    search = cache_client.get("/api/admin/cache?topic=KAFKA", headers=cache_admin).get_json()
    assert [e["topic"] for e in search["entries"]] == ["Kafka event streaming"]

    entry_id = search["entries"][0]["id"]
    assert cache_client.delete(f"/api/admin/cache/{entry_id}", headers=cache_admin).get_json() == {"success": True, "deleted": 1}
    assert cache_client.delete(f"/api/admin/cache/{entry_id}", headers=cache_admin).status_code == 404
    assert cache_client.post("/api/admin/cache/purge", json={"question_type": "behavioral"}, headers=cache_admin).get_json()["deleted"] == 2
    assert cache_client.post("/api/admin/cache/purge", json={}, headers=cache_admin).status_code == 400
    assert cache_client.post("/api/admin/cache/purge", json={"all": True}, headers=cache_admin).get_json()["deleted"] == 4
    # Interviews keep the text of questions whose entries were deleted.
    interview = cache_client.get("/api/interview/req/REQ-C2", headers=admin).get_json()["interviews"][0]
    assert interview["questions"][0]["question_text"].startswith("Scenario about Kafka")


@pytest.mark.parametrize("role", ["recruiter", "viewer", "auditor"])
def test_cache_administration_needs_the_admin_role(cache_client, make_key, role):
    headers = make_key(role)

    assert cache_client.get("/api/admin/cache", headers=headers).status_code == 403
    assert cache_client.post("/api/admin/cache/purge", json={"all": True}, headers=headers).status_code == 403
    assert cache_client.delete("/api/admin/cache/1", headers=headers).status_code == 403


def test_an_entry_committed_after_a_higher_id_is_still_found(cache_app):
    """On MySQL a lower auto-increment id can commit after a higher one; the index asks again."""
    question = {"skill_level": "senior", "question_type": "technical", "question_text": "Q", "expected_answer": "A", "criteria": []}
    with cache_app.app_context():
        qc = cache_app.extensions["question_cache"]
        cache.store_questions([{**question, "topic": "Kafka event streaming"}], tokens_per_question=1, prompt_version="t")
        db.session.commit()
        first = db.session.scalar(db.select(QuestionCacheEntry.id))
        qc.index.refresh()
        # Simulate: id first+1 is allocated by a slow transaction, first+2 commits before it.
        db.session.add(QuestionCacheEntry(id=first + 2, topic="Terraform modules", normalized_topic="module terraform",
                                          skill_level="senior", question_type="technical", question_text="Q", criteria=[]))
        db.session.commit()
        qc.index.refresh()
        db.session.add(QuestionCacheEntry(id=first + 1, topic="Redis caching", normalized_topic="caching redi",
                                          skill_level="senior", question_type="technical", question_text="Q", criteria=[]))
        db.session.commit()

        hits = cache.find_cached_questions(
            [{"number": 1, "topic": "Redis caching", "skill_level": "senior", "question_type": "technical"}],
            index=qc.index, settings=qc.settings,
        )

    assert [entry.id for entry in hits.values()] == [first + 1]


def test_simultaneous_lookups_share_one_full_index_reload(cache_app):
    with cache_app.app_context():
        cache.store_questions(
            [{"topic": t, "skill_level": "senior", "question_type": "technical", "question_text": "Q", "criteria": []} for t in TOPICS_A],
            tokens_per_question=1, prompt_version="t",
        )
        db.session.commit()
    index = cache.QuestionCacheIndex(resync_seconds=300)
    barrier, errors = threading.Barrier(8), []

    def look_up():
        with cache_app.app_context():
            try:
                barrier.wait()
                index.refresh()
            except Exception as exc:  # noqa: BLE001 - reported by the assertion
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=look_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert index.full_reloads == 1
    assert len(index) == 5


def test_an_unknown_query_argument_is_400_naming_it(cache_client, cache_admin):
    response = cache_client.get("/api/admin/cache?per_pag=3", headers=cache_admin)

    assert response.status_code == 400
    assert "per_pag" in response.get_json()["errors"]
