"""The documentation stays true to the code: every endpoint the docs name is in the OpenAPI
document, every setting of the configuration reference is read by the code, and the README stays
short and points at pages that exist. (`make docs-build`, run by .ci/run, builds the site with
`mkdocs build --strict`: broken links and anchors, and pages missing from the nav, fail there.)"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
_ENDPOINT = re.compile(r"`(GET|POST|PATCH|PUT|DELETE) (/[^`\s?]*)[^`]*`")
_SETTING = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|", re.M)
_CODE = [p for p in ROOT.rglob("*.py") if ".venv" not in p.parts and "site" not in p.parts]


def _documented_endpoints():
    found = set()
    for page in [*DOCS, ROOT / "README.md"]:
        for method, path in _ENDPOINT.findall(page.read_text()):
            if not path.startswith("/v1/"):  # Anthropic's Messages API, quoted, not ours
                found.add((method, path, page.name))
    return found


def _template(path):
    """/api/interview/<id>/evaluations and /api/interview/{interview_id}/evaluations -> one shape."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path.rstrip("/"))


def test_every_endpoint_the_docs_name_is_in_the_openapi_document(client):
    spec = client.get("/openapi.json").get_json()
    served = {(method.upper(), _template(path)) for path, item in spec["paths"].items() for method in item}
    served |= {("GET", "/metrics"), ("GET", "/health"), ("GET", "/health/ready")}
    documented = _documented_endpoints()
    assert len(documented) > 20
    missing = sorted((m, p, page) for m, p, page in documented if (m, _template(p)) not in served)
    assert missing == [], missing


def test_every_setting_of_the_configuration_reference_is_read_by_the_code():
    settings = _SETTING.findall((ROOT / "docs" / "configuration.md").read_text())
    assert len(settings) > 40
    code = "\n".join(p.read_text() for p in _CODE) + (ROOT / "Makefile").read_text() + (ROOT / "bin" / "run").read_text()
    unread = [name for name in settings if not re.search(rf"\b{name}\b", code)]
    assert unread == [], unread


def test_the_readme_is_short_and_links_to_pages_that_exist_in_the_site():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    linked = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert linked and all((ROOT / link).is_file() for link in linked), linked
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text().replace("!!python", "#"))["nav"]
    pages = set(re.findall(r"[\w-]+\.md", str(nav)))
    assert {page.name for page in DOCS} <= pages  # every page is reachable from the nav
    assert all(Path(link).name in pages for link in linked)
    assert "make docs" in readme and "make run" in readme and "make test" in readme
