"""The full workflow through HTTP, with the real SDK against the stub Messages API."""

from models import GenerationLog, InterviewQuestion, JobDescription
from tests.helpers import all_rows, count_rows, workflow_body
from tests.stub_messages_api import enhanced_jd, interview_kit


def test_full_workflow_returns_five_questions_with_eight_to_ten_criteria(client, admin, claude, app):
    claude.reply_json(enhanced_jd(), usage={"input_tokens": 1000, "output_tokens": 500})
    claude.reply_json(interview_kit((8, 9, 10, 8, 9)), usage={"input_tokens": 2000, "output_tokens": 3000, "cache_read_input_tokens": 100})

    response = client.post("/api/interview/workflow/full", json=workflow_body("REQ-1"), headers=admin)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["success"] is True
    assert body["req_id"] == "REQ-1"
    assert body["interview_name"] == "Payments onsite"
    assert body["total_tokens_used"] == 1000 + 500 + 2000 + 3000 + 100
    questions = body["interview"]["questions"]
    assert [q["question_number"] for q in questions] == [1, 2, 3, 4, 5]
    assert [len(q["criteria"]) for q in questions] == [8, 9, 10, 8, 9]
    assert questions[0]["criteria"][0] == {
        "criterion": "Criterion 1.1",
        "description": "Shows behaviour 1 with an example.",
        "is_checked": False,
    }
    assert body["interview"]["status"] == "draft" and body["interview"]["version"] == 1
    assert body["provider"] == "anthropic" and body["model"] == "claude-sonnet-5-5"
    assert claude.calls == 2
    assert count_rows(app, JobDescription) == 1
    assert count_rows(app, InterviewQuestion, interview_id=body["interview_id"]) == 5


def test_full_workflow_result_is_readable_by_id_and_by_requisition(client, admin, claude):
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    created = client.post("/api/interview/workflow/full", json=workflow_body("REQ-2"), headers=admin).get_json()

    by_id = client.get(f"/api/interview/{created['interview_id']}", headers=admin).get_json()
    by_req = client.get("/api/interview/req/REQ-2", headers=admin).get_json()
    jd = client.get("/api/interview/jd/REQ-2", headers=admin).get_json()

    assert by_id["interview"] == created["interview"]
    assert [i["id"] for i in by_req["interviews"]] == [created["interview_id"]]
    assert jd["job_description"]["enhanced_jd"]["title"] == "Senior Backend Engineer"
    assert jd["job_description"]["basic_jd"]["title"] == "Backend Engineer"
    assert jd["job_description"]["work_inputs"]["work_knowledge"] == "Python, PostgreSQL, Kafka"


def test_full_workflow_logs_one_successful_audit_row_per_claude_operation(client, admin, claude, app):
    claude.reply_json(enhanced_jd(), usage={"input_tokens": 10, "output_tokens": 20})
    claude.reply_json(interview_kit(), usage={"input_tokens": 30, "output_tokens": 40, "cache_creation_input_tokens": 5})
    created = client.post("/api/interview/workflow/full", json=workflow_body("REQ-3"), headers=admin).get_json()

    logs = all_rows(app, GenerationLog)
    assert [(log.operation_type, log.status) for log in logs] == [("jd_enhancement", "success"), ("interview_generation", "success")]
    assert [log.tokens_used for log in logs] == [30, 75]
    assert logs[1].cache_creation_input_tokens == 5
    assert all(log.req_id == "REQ-3" and log.provider == "anthropic" and log.prompt_version for log in logs)
    assert logs[0].job_description_id == created["job_description_id"]
    assert logs[1].interview_id == created["interview_id"]
