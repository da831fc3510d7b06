"""Staff signing in to the workbench through its development sign-in, as a browser would: GET the sign-in page
(cookie + CSRF token), POST the form, follow the redirect."""
import re

from fastapi.testclient import TestClient

# the session cookie is Secure: a client speaking plain http would never send it back
BASE = "https://testserver"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, username: str, role: str, institution_id: str = "", *, next_path: str = ""):
    page = client.get("/workbench/sign-in" + (f"?next={next_path}" if next_path else ""))
    assert page.status_code == 200, page.text
    return client.post("/workbench/sign-in", data={"csrf_token": csrf_of(page.text), "username": username,
                                                   "role": role, "institution_id": institution_id,
                                                   "next": next_path}, follow_redirects=False)
