"""Personal data never reaches a log: not through a failed statement's parameters, not through a URL."""
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from factories import resident_id


def test_a_failed_statement_does_not_carry_its_parameters_into_the_log(app, caplog):
    number = resident_id()
    with pytest.raises(SQLAlchemyError) as failed, app.state.ctx.engine.connect() as connection:
        connection.execute(text("SELECT id FROM cases WHERE id_number_index = :n AND no_such_column = 1"),
                           {"n": number})
    with caplog.at_level(logging.ERROR):
        logging.getLogger("registry.app").error("failed", exc_info=failed.value)
    assert number not in str(failed.value) and number not in caplog.text
    assert "hidden due to hide_parameters" in str(failed.value)  # the statement itself is still named


def test_an_id_number_in_the_query_string_is_refused_so_clients_learn_to_send_it_in_the_body(client, mint):
    number = resident_id()
    response = client.get("/api/v1/cases", params={"id_number": number}, headers=mint("provincial-admin"))
    assert response.status_code == 422
    assert number not in response.text


def test_the_access_log_drops_query_strings(app, caplog):
    number = resident_id()
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # the record uvicorn's access logger writes for a request
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                                                 f"/beijing/api/v1/cases?id_number={number}", "1.1", 422)
    assert number not in caplog.text
    assert '"GET /beijing/api/v1/cases?… HTTP/1.1" 422' in caplog.text
