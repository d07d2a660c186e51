"""A server error on a console page, over the real server: the store failing under a page
(a table it reads is gone) is answered as a page in the console's layout, with the
navigation of whoever is signed in and an opaque reference that the log holds beside the
real cause, never the cause or a traceback."""
from __future__ import annotations

import logging
import re

from shadowmap.collector.state import ERRORS, STORE


async def test_a_server_error_renders_inside_the_console_with_no_traceback(client, config, console, caplog):
    await console.sign_in(client, "admin", console.admin_password)
    assert (await client.get("/overview")).status == 200
    # the overview reads the tools' first days from here
    await client.app[STORE].write(lambda db: db.execute("DROP TABLE usage_first_seen"))
    with caplog.at_level(logging.ERROR, logger="shadowmap.collector.errors"):
        response = await client.get("/overview")
    html = await response.text()
    assert response.status == 500 and response.content_type == "text/html"
    assert "<h1>Something went wrong</h1>" in html
    assert '<nav class="main" aria-label="Console">' in html and 'href="#main"' in html
    assert '<a href="/account/password" title="Change your password">admin</a>' in html  # who is signed in
    reference = re.search(r'id="error-detail">internal error, reference ([0-9a-f]{12})</p>', html).group(1)
    for leak in ("Traceback", "usage_first_seen", "OperationalError", "sqlite", 'File "'):
        assert leak not in html, leak
    [logged] = [r for r in caplog.records if reference in r.getMessage()]
    assert logged.exc_info and "usage_first_seen" in str(logged.exc_info[1])  # the cause is in the log
    assert client.app[ERRORS].internal_errors == 1
    # the rest of the console still works
    assert (await client.get("/alerts")).status == 200
