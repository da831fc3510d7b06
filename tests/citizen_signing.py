"""Citizens signing in to 我的办事 through its development sign-in, as a browser would (GET the page for the
cookie and CSRF token, POST the form)."""
from contextlib import ExitStack

from fastapi.testclient import TestClient

from staff_signing import BASE, csrf_of


def citizen_sign_in(client: TestClient, username: str, *, next_path: str = ""):
    page = client.get("/my/sign-in" + (f"?next={next_path}" if next_path else ""))
    assert page.status_code == 200, page.text
    return client.post("/my/sign-in", data={"csrf_token": csrf_of(page.text), "username": username,
                                            "next": next_path}, follow_redirects=False)


def signed_in_citizen(stack: ExitStack, site, username: str) -> TestClient:
    """A browser of its own (cookies apart), signed in to 我的办事 as `username`; closed with `stack`."""
    client = stack.enter_context(TestClient(site, base_url=BASE))
    assert citizen_sign_in(client, username).status_code == 303
    return client
