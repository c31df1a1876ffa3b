"""Interview versions, retrieval, status changes and re-enhancement, through HTTP with the real
anthropic SDK against the stub Messages API."""

from models import Interview, JobDescription
from tests.helpers import all_rows, count_rows, enhance, enhance_body, generate
from tests.stub_messages_api import enhanced_jd, interview_kit


def _interview(client, headers, claude, req_id="REQ-I", **extra):
    """Enhance a requisition and generate one interview; return the interview JSON."""
    jd_id = enhance(client, headers, claude, req_id)["job_description_id"]
    claude.reply_json(interview_kit())
    response = generate(client, headers, req_id, jd_id, **extra)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["interview"]


def _patch(client, headers, interview_id, body):
    return client.patch(f"/api/interview/{interview_id}", json=body, headers=headers)


# --- versions and retrieval ----------------------------------------------------------------------

def test_generating_twice_for_one_job_description_creates_versions_one_and_two(client, admin, claude):
    jd_id = enhance(client, admin, claude, "REQ-V")["job_description_id"]
    claude.reply_json(interview_kit(topic_prefix="First"))
    first = generate(client, admin, "REQ-V", jd_id, interview_name="Round 1")
    claude.reply_json(interview_kit(topic_prefix="Second"))
    second = generate(client, admin, "REQ-V", jd_id, interview_name="Round 2")

    assert first.status_code == 200 and second.status_code == 200
    v1, v2 = first.get_json()["interview"], second.get_json()["interview"]
    assert (v1["version"], v2["version"]) == (1, 2)
    assert v1["job_description_id"] == v2["job_description_id"] == jd_id

    listing = client.get("/api/interview/req/REQ-V", headers=admin)
    assert listing.status_code == 200
    assert listing.get_json()["req_id"] == "REQ-V"
    assert [(i["id"], i["version"]) for i in listing.get_json()["interviews"]] == [(v2["id"], 2), (v1["id"], 1)]

    old = client.get(f"/api/interview/{v1['id']}", headers=admin)
    assert old.status_code == 200
    assert old.get_json()["interview"]["interview_name"] == "Round 1"
    assert [q["topic"] for q in old.get_json()["interview"]["questions"]] == [f"First {n}" for n in range(1, 6)]


def test_generate_with_a_job_description_of_another_requisition_returns_400_naming_req_id(client, admin, claude, app):
    other_jd = enhance(client, admin, claude, "REQ-OTHER")["job_description_id"]
    enhance(client, admin, claude, "REQ-MINE")
    calls = claude.calls

    response = generate(client, admin, "REQ-MINE", other_jd)

    assert response.status_code == 400
    body = response.get_json()
    assert body["success"] is False and body["req_id"] == "REQ-MINE"
    assert "REQ-OTHER" in body["errors"]["req_id"][0]
    assert claude.calls == calls
    assert count_rows(app, Interview) == 0


def test_generate_with_an_unknown_job_description_returns_404(client, admin, claude):
    response = generate(client, admin, "REQ-NONE", 999999)

    assert response.status_code == 404
    assert response.get_json()["success"] is False
    assert response.get_json()["req_id"] == "REQ-NONE"
    assert claude.calls == 0


def test_get_unknown_interview_returns_404(client, admin):
    response = client.get("/api/interview/999999", headers=admin)

    assert response.status_code == 404
    assert response.get_json()["success"] is False


def test_listing_an_unknown_requisition_returns_404(client, admin):
    response = client.get("/api/interview/req/REQ-NOBODY", headers=admin)

    assert response.status_code == 404
    assert response.get_json()["req_id"] == "REQ-NOBODY"


def test_listing_a_requisition_with_a_job_description_but_no_interviews_returns_an_empty_list(client, admin, claude):
    enhance(client, admin, claude, "REQ-EMPTY")

    response = client.get("/api/interview/req/REQ-EMPTY", headers=admin)

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "req_id": "REQ-EMPTY", "interviews": []}


# --- status and name ---------------------------------------------------------------------------------

def test_interview_moves_from_draft_to_published_to_archived(client, admin, claude):
    interview = _interview(client, admin, claude)
    assert interview["status"] == "draft" and interview["updated_at"] is None

    published = _patch(client, admin, interview["id"], {"status": "published"})
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["interview"]["status"] == "published"
    assert published.get_json()["interview"]["updated_at"] is not None

    archived = _patch(client, admin, interview["id"], {"status": "archived"})
    assert archived.status_code == 200, archived.get_json()
    assert archived.get_json()["interview"]["status"] == "archived"
    assert client.get(f"/api/interview/{interview['id']}", headers=admin).get_json()["interview"]["status"] == "archived"


def test_archived_interview_cannot_go_back_to_draft(client, admin, claude):
    interview = _interview(client, admin, claude)
    assert _patch(client, admin, interview["id"], {"status": "archived"}).status_code == 200

    response = _patch(client, admin, interview["id"], {"status": "draft"})

    assert response.status_code == 409
    body = response.get_json()
    assert body["success"] is False and body["status"] == "archived"
    assert "archived" in body["error"] and "draft" in body["error"]
    assert client.get(f"/api/interview/{interview['id']}", headers=admin).get_json()["interview"]["status"] == "archived"


def test_patch_with_an_invalid_status_returns_400_naming_status(client, admin, claude):
    interview = _interview(client, admin, claude)

    response = _patch(client, admin, interview["id"], {"status": "deleted"})

    assert response.status_code == 400
    body = response.get_json()
    assert body["success"] is False
    assert "status" in body["errors"]
    assert "status" in body["error"]
    assert client.get(f"/api/interview/{interview['id']}", headers=admin).get_json()["interview"]["status"] == "draft"


def test_patch_with_an_empty_body_returns_400(client, admin, claude):
    interview = _interview(client, admin, claude)

    response = _patch(client, admin, interview["id"], {})

    assert response.status_code == 400
    body = response.get_json()
    assert body["success"] is False and body["errors"]


def test_patch_renames_an_interview(client, admin, claude):
    interview = _interview(client, admin, claude, interview_name="Old name")
    assert interview["interview_name"] == "Old name"

    response = _patch(client, admin, interview["id"], {"interview_name": "  Payments onsite, round 2  "})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["interview"]["interview_name"] == "Payments onsite, round 2"
    assert response.get_json()["interview"]["status"] == "draft"
    stored = client.get(f"/api/interview/{interview['id']}", headers=admin).get_json()["interview"]
    assert stored["interview_name"] == "Payments onsite, round 2"


def test_patch_of_an_unknown_interview_returns_404(client, admin):
    assert _patch(client, admin, 999999, {"status": "published"}).status_code == 404


# --- re-enhancement ------------------------------------------------------------------------------------

def test_reposting_an_enhance_for_an_existing_requisition_returns_409_and_keeps_the_stored_enhancement(
    client, admin, claude, app
):
    created = enhance(client, admin, claude, "REQ-DUP")
    calls = claude.calls

    response = client.post(
        "/api/interview/jd/enhance", json=enhance_body("REQ-DUP", basic_title="Different title"), headers=admin
    )

    assert response.status_code == 409
    body = response.get_json()
    assert body["success"] is False and body["req_id"] == "REQ-DUP"
    assert body["job_description_id"] == created["job_description_id"]
    assert claude.calls == calls
    stored = client.get("/api/interview/jd/REQ-DUP", headers=admin).get_json()["job_description"]
    assert stored["basic_jd"]["title"] == "Backend Engineer"
    assert stored["enhanced_jd"] == created["enhanced_jd"]
    assert stored["enhanced_at"] == created["enhanced_at"]
    assert count_rows(app, JobDescription) == 1


def test_replace_true_re_enhances_keeping_the_same_job_description_id(client, admin, claude, app):
    created = enhance(client, admin, claude, "REQ-REP")
    claude.reply_json(enhanced_jd(title="Staff Payments Engineer"))

    response = client.post(
        "/api/interview/jd/enhance",
        json=enhance_body("REQ-REP", basic_title="Staff Engineer", replace=True),
        headers=admin,
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["job_description_id"] == created["job_description_id"]
    assert body["enhanced_jd"]["title"] == "Staff Payments Engineer"
    assert body["basic_jd"]["title"] == "Staff Engineer"
    assert body["created_at"] == created["created_at"]
    [stored] = all_rows(app, JobDescription)
    assert (stored.id, stored.enhanced_title, stored.basic_title) == (
        created["job_description_id"],
        "Staff Payments Engineer",
        "Staff Engineer",
    )


def test_replace_true_whose_claude_call_fails_keeps_the_old_enhancement(client, admin, claude, app):
    created = enhance(client, admin, claude, "REQ-KEEP")
    claude.reply_status(400, error_type="invalid_request_error", message="nope")

    response = client.post(
        "/api/interview/jd/enhance",
        json=enhance_body("REQ-KEEP", basic_title="Replacement title", basic_description="A new description.", replace=True),
        headers=admin,
    )

    assert response.status_code == 502, response.get_json()
    assert response.get_json()["success"] is False
    stored = client.get("/api/interview/jd/REQ-KEEP", headers=admin).get_json()["job_description"]
    assert stored["job_description_id"] == created["job_description_id"]
    assert stored["basic_jd"] == created["basic_jd"]
    assert stored["enhanced_jd"] == created["enhanced_jd"]
    assert stored["enhanced_at"] == created["enhanced_at"]
    assert count_rows(app, JobDescription) == 1


def test_default_interview_name_fits_its_column_when_the_enhanced_title_is_long(client, admin, claude):
    # A valid enhanced title of the column's full 255 characters; "<title> interview" would not fit.
    long_title = ("Senior Backend Engineer, Payments Platform " * 6)[:255]
    assert len(long_title) == 255
    claude.reply_json(enhanced_jd(title=long_title))
    created = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-LONG"), headers=admin)
    assert created.status_code == 200, created.get_json()
    claude.reply_json(interview_kit())

    response = generate(client, admin, "REQ-LONG", created.get_json()["job_description_id"])

    assert response.status_code == 200, response.get_json()
    name = response.get_json()["interview_name"]
    assert len(name) <= 255
    assert name.startswith("Senior Backend Engineer, Payments Platform")
